"""Run functions that tests/test_worker.py names by module + run_function."""

from __future__ import annotations

from coordinate import Task


def shout(task: Task) -> None:
    task.data["shout"] = f"{task.name.upper()}!"
    task.data["spec_config"] = task.config


class Tools:
    @staticmethod
    def whisper(task: Task) -> None:
        task.data["whisper"] = task.name.lower()


not_a_function = 42
