"""fork() and open Coordinates: the child refuses the parent's Coordinates
with a clear StorageError (never a deadlock) and can open its own."""

from __future__ import annotations

import os
import threading
import time

import pytest

import coordinate as c

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

CHILD_TIMEOUT = 20.0


def wait_child(pid: int) -> int:
    """The child's exit status; a child that hangs is killed and fails the test."""
    deadline = time.monotonic() + CHILD_TIMEOUT
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail("the child hung after fork()")


def child(body: object) -> int:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = body()  # type: ignore[operator]
        finally:
            os._exit(code)
    return wait_child(pid)


def test_the_child_refuses_the_parents_coordinate_and_opens_its_own() -> None:
    coord = c.connect("memory:")
    spec = coord.namespace("n").set_work_spec({"name": "s"})
    spec.add_work_unit("u")

    def body() -> int:
        try:
            spec.work_unit("u")
        except c.StorageError as e:
            if "fork" not in str(e):
                return 3
        else:
            return 2
        fresh = c.connect("memory:")
        fresh.namespace("mine").set_work_spec({"name": "s"})
        return 0 if list(fresh.namespaces()) == ["mine"] else 4

    assert child(body) == 0
    # The parent is unaffected.
    assert spec.work_unit("u").status() == c.WorkUnitStatus.AVAILABLE


def test_fork_while_another_thread_is_inside_a_call_never_deadlocks() -> None:
    coord = c.Coordinate()
    spec = coord.namespace("n").set_work_spec({"name": "s"})
    spec.add_work_units([f"u{i}" for i in range(2000)])
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            spec.work_units(c.WorkUnitQuery(limit=2000))

    thread = threading.Thread(target=busy)
    thread.start()
    try:
        results = []
        for _ in range(20):

            def body() -> int:
                try:
                    spec.count_work_unit_status()
                except c.StorageError:
                    return 0
                return 2

            results.append(child(body))
    finally:
        stop.set()
        thread.join()
    assert results == [0] * 20
