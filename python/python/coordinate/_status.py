"""Work unit and attempt statuses as enum members.

Each member's value is its text form (``str(s)``); ``s.code`` is its numeric
code; members compare in declaration order, so summary records sort.
The text and code tables are the core's: ``from_text`` and ``from_code``
ask the native module, and a test checks the members against it.
"""

from __future__ import annotations

import enum
from typing import Any, Dict, TypeVar

from . import _coordinate as _native

__all__ = ["WorkUnitStatus", "AttemptStatus"]

_S = TypeVar("_S", bound="_Status")


class _Status(enum.Enum):
    """Shared behaviour of the two status enums."""

    @property
    def code(self) -> int:
        """The status's numeric code (declaration order)."""
        return _CODES[self]

    def __str__(self) -> str:
        return str(self.value)

    def __lt__(self, other: Any) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.code < other.code

    def __le__(self, other: Any) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.code <= other.code

    def __gt__(self, other: Any) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.code > other.code

    def __ge__(self, other: Any) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.code >= other.code

    @classmethod
    def _text_of_code(cls, code: int) -> str:
        raise NotImplementedError

    @classmethod
    def _code_of_text(cls, text: str) -> int:
        raise NotImplementedError

    @classmethod
    def from_text(cls: type[_S], text: str) -> _S:
        """The status with this text form; ``InvalidStatusError`` (a ``ValueError``) if none."""
        cls._code_of_text(text)  # raises with the core's message
        return cls(text)

    @classmethod
    def from_code(cls: type[_S], code: int) -> _S:
        """The status with this numeric code; ``InvalidStatusError`` if none."""
        return cls(cls._text_of_code(code))


class WorkUnitStatus(_Status):
    """The status of a work unit. ``ANY`` only matches in queries."""

    ANY = "any"
    AVAILABLE = "available"
    PENDING = "pending"
    FINISHED = "finished"
    FAILED = "failed"
    DELAYED = "delayed"

    @classmethod
    def _text_of_code(cls, code: int) -> str:
        return _native._work_unit_status_text(code)

    @classmethod
    def _code_of_text(cls, text: str) -> int:
        return _native._work_unit_status_code(text)


class AttemptStatus(_Status):
    """The status of an attempt."""

    PENDING = "pending"
    EXPIRED = "expired"
    FINISHED = "finished"
    FAILED = "failed"
    RETRYABLE = "retryable"

    @classmethod
    def _text_of_code(cls, code: int) -> str:
        return _native._attempt_status_text(code)

    @classmethod
    def _code_of_text(cls, text: str) -> int:
        return _native._attempt_status_code(text)


_CODES: Dict[_Status, int] = {}
for _cls in (WorkUnitStatus, AttemptStatus):
    for _member in _cls:
        _CODES[_member] = _cls._code_of_text(_member.value)
