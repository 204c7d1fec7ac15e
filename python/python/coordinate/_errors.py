"""The exception hierarchy: ``CoordinateError`` and one subclass per core error.

The native module raises these by the core error's ``code`` (the Rust
variant name): ``NotPending`` becomes :class:`NotPendingError`.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "CoordinateError",
    "NoSuchWorkSpecError",
    "NoSuchWorkUnitError",
    "GoneError",
    "LostLeaseError",
    "NotPendingError",
    "NoWorkError",
    "CannotBecomeContinuousError",
    "ChangedNameError",
    "NoWorkSpecNameError",
    "BadWorkSpecNameError",
    "WrongBackendError",
    "WorkUnitNotListError",
    "WorkUnitTooShortError",
    "BadPriorityError",
    "BadWorkUnitItemError",
    "InvalidStatusError",
    "UnavailableError",
    "StorageError",
    "UnauthorizedError",
    "BadUrlError",
    "OutOfRangeError",
    "CapacityError",
    "InvalidArgumentError",
]


class CoordinateError(Exception):
    """Base class of every error raised by Coordinate.

    ``code`` is the core's error name (``"NotPending"``); ``str(e)`` is the
    message (the original API's text, e.g. ``"Attempt is not pending"``).
    """

    code: ClassVar[str] = ""

    def __str__(self) -> str:
        # KeyError would quote the message; show it as written.
        return str(self.args[0]) if self.args else ""


class NoSuchWorkSpecError(CoordinateError, KeyError):
    """No work spec with this name exists in the namespace (``.name``)."""

    code = "NoSuchWorkSpec"

    def __init__(self, message: str, name: str = "") -> None:
        super().__init__(message)
        self.name = name


class NoSuchWorkUnitError(CoordinateError, KeyError):
    """No work unit with this name exists in the work spec (``.name``)."""

    code = "NoSuchWorkUnit"

    def __init__(self, message: str, name: str = "") -> None:
        super().__init__(message)
        self.name = name


class GoneError(CoordinateError):
    """The object, or one of its ancestors, was deleted."""

    code = "Gone"


class LostLeaseError(CoordinateError):
    """``renew`` on an attempt that is no longer its unit's active attempt."""

    code = "LostLease"


class NotPendingError(CoordinateError):
    """The attempt is not pending, so it cannot change status this way."""

    code = "NotPending"


class NoWorkError(CoordinateError):
    """The scheduler found nothing to do."""

    code = "NoWork"


class CannotBecomeContinuousError(CoordinateError):
    """Defined by the original API; never raised."""

    code = "CannotBecomeContinuous"


class ChangedNameError(CoordinateError):
    """``set_data`` tried to change the work spec's name."""

    code = "ChangedName"


class NoWorkSpecNameError(CoordinateError):
    """Work spec data without a ``name``."""

    code = "NoWorkSpecName"


class BadWorkSpecNameError(CoordinateError):
    """Work spec data whose ``name`` is not a string."""

    code = "BadWorkSpecName"


class WrongBackendError(CoordinateError):
    """Objects of two different Coordinates were combined."""

    code = "WrongBackend"


class WorkUnitNotListError(CoordinateError):
    """A chained output item is neither a name nor a list."""

    code = "WorkUnitNotList"


class WorkUnitTooShortError(CoordinateError):
    """A chained output item list has fewer than two elements."""

    code = "WorkUnitTooShort"


class BadPriorityError(CoordinateError):
    """A chained output item's priority is not a number."""

    code = "BadPriority"


class BadWorkUnitItemError(CoordinateError):
    """A chained output item has an element of the wrong type (``.reason``)."""

    code = "BadWorkUnitItem"

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class InvalidStatusError(CoordinateError, ValueError):
    """A status text or code that names no status."""

    code = "InvalidStatus"


class UnavailableError(CoordinateError):
    """The store or server cannot be reached, or a transaction could not
    commit; the call did not happen and may be retried."""

    code = "Unavailable"


class StorageError(CoordinateError):
    """The store refuses: not a Coordinate database, a newer schema, a
    corrupt or read-only file, a full disk. The message names the file."""

    code = "Storage"


class UnauthorizedError(CoordinateError):
    """The server wants a token and none or a wrong one was sent."""

    code = "Unauthorized"


class BadUrlError(CoordinateError, ValueError):
    """``connect`` got a URL it cannot use."""

    code = "BadUrl"


class OutOfRangeError(CoordinateError, ValueError, OverflowError):
    """A duration or instant outside its valid range (|d| <= 10**9 s; years
    1 to 9999), or NaN; the message names the argument. Also a
    ``ValueError`` and an ``OverflowError``."""

    code = "OutOfRange"


class CapacityError(CoordinateError):
    """The store is full: the call would pass the memory store's
    ``max_units`` or ``max_bytes`` bound (``memory:?max_units=N&max_bytes=N``).
    Nothing changed; delete units or raise the bound."""

    code = "Capacity"


class InvalidArgumentError(CoordinateError, ValueError):
    """An argument the call cannot accept (a worker as its own parent, a
    parent cycle); the message names the argument. Also a ``ValueError``."""

    code = "InvalidArgument"
