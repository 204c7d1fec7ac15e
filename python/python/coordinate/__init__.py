"""Coordinate: a job queue for repetitive work over many inputs.

Namespaces hold work specs (kinds of job) and workers; work specs hold work
units (one input each, with a data map); a worker asks for work and gets
attempts: leases on work units that expire unless renewed, then finish,
fail, retry or expire.

>>> from datetime import datetime, timezone
>>> import coordinate
>>> clock = coordinate.MockClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
>>> coord = coordinate.Coordinate(clock=clock, seed=1)
>>> ns = coord.namespace("example")
>>> spec = ns.set_work_spec({"name": "count"})
>>> spec.add_work_units(["file-1", ("file-2", {"path": "b.txt"})])
2
>>> worker = ns.worker("w1")
>>> [attempt] = worker.request_attempts()
>>> attempt.work_unit.name
'file-1'
>>> attempt.finish({"lines": 12})
>>> attempt.work_unit.status()
<WorkUnitStatus.FINISHED: 'finished'>

All behaviour lives in the Rust core; this package only converts values
and errors. Every call releases the GIL while the core works.

To run work units with Python functions, see :mod:`coordinate.worker`
(``WorkerPool``, ``Task``, ``Retry``) and the ``coordinate run`` command
(:mod:`coordinate.cli`).
"""

from __future__ import annotations

import os

from ._coordinate import (
    AddWorkUnitItem,
    AddWorkUnitMeta,
    Attempt,
    AttemptRequest,
    Coordinate,
    MockClock,
    Namespace,
    SummaryRecord,
    Worker,
    WorkSpec,
    WorkSpecData,
    WorkSpecMeta,
    WorkUnit,
    WorkUnitMeta,
    WorkUnitQuery,
    connect,
    extract_add_work_unit_item,
    extract_work_spec_meta,
    extract_work_unit_output,
    limit_metas_to_names,
    limit_metas_to_runtimes,
    simplified_scheduler,
)
from ._errors import (
    BadPriorityError,
    BadUrlError,
    BadWorkSpecNameError,
    BadWorkUnitItemError,
    CannotBecomeContinuousError,
    CapacityError,
    ChangedNameError,
    CoordinateError,
    GoneError,
    InvalidArgumentError,
    InvalidStatusError,
    LostLeaseError,
    NoSuchWorkSpecError,
    NoSuchWorkUnitError,
    NotPendingError,
    NoWorkError,
    NoWorkSpecNameError,
    OutOfRangeError,
    StorageError,
    UnauthorizedError,
    UnavailableError,
    WorkUnitNotListError,
    WorkUnitTooShortError,
    WrongBackendError,
)
from ._coordinate import _after_fork_in_child
from ._status import AttemptStatus, WorkUnitStatus
from .worker import Retry, Task, WorkerPool

# A Coordinate opened before os.fork() refuses calls in the child (with
# StorageError) instead of deadlocking on a lock another parent thread held
# or sharing the parent's file connection: reopen the store in the child.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

__all__ = [
    "AddWorkUnitItem",
    "AddWorkUnitMeta",
    "Attempt",
    "AttemptRequest",
    "AttemptStatus",
    "BadPriorityError",
    "BadUrlError",
    "BadWorkSpecNameError",
    "BadWorkUnitItemError",
    "CannotBecomeContinuousError",
    "CapacityError",
    "ChangedNameError",
    "Coordinate",
    "CoordinateError",
    "GoneError",
    "InvalidArgumentError",
    "InvalidStatusError",
    "LostLeaseError",
    "MockClock",
    "Namespace",
    "NoSuchWorkSpecError",
    "NoSuchWorkUnitError",
    "NotPendingError",
    "NoWorkError",
    "NoWorkSpecNameError",
    "OutOfRangeError",
    "Retry",
    "StorageError",
    "SummaryRecord",
    "Task",
    "UnauthorizedError",
    "UnavailableError",
    "WorkSpec",
    "WorkSpecData",
    "WorkSpecMeta",
    "WorkUnit",
    "WorkUnitMeta",
    "WorkUnitNotListError",
    "WorkUnitQuery",
    "WorkUnitStatus",
    "WorkUnitTooShortError",
    "Worker",
    "WorkerPool",
    "WrongBackendError",
    "connect",
    "extract_add_work_unit_item",
    "extract_work_spec_meta",
    "extract_work_unit_output",
    "limit_metas_to_names",
    "limit_metas_to_runtimes",
    "simplified_scheduler",
]
