"""Run functions for test_processes.py, imported by worker processes."""

from __future__ import annotations

import os
import time

from coordinate import Task


def record(task: Task) -> None:
    """Notes which process ran the unit."""
    time.sleep(float(task.config.get("seconds", 0)))
    task.data["pid"] = os.getpid()
    task.data["worker"] = task.worker.name


def slow_first(task: Task) -> None:
    """Sleeps long on a unit's first attempt (to be killed), then is quick."""
    task.data["pid"] = os.getpid()
    if task.attempt_number == 1 and task.name in task.config.get("slow", []):
        time.sleep(float(task.config.get("seconds", 60)))
    task.data["attempt"] = task.attempt_number


def nap(task: Task) -> None:
    time.sleep(float(task.config["seconds"]))
    task.data["slept"] = True


def exit_first(task: Task) -> None:
    """Leaves the process at once on a unit's first attempt (os._exit)."""
    if task.attempt_number == 1 and task.name in task.config.get("exit", []):
        if task.config.get("how") == "segfault":
            import ctypes
            import resource

            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file
            ctypes.string_at(0)  # reads address 0: SIGSEGV
        os._exit(3)
    task.data["attempt"] = task.attempt_number
