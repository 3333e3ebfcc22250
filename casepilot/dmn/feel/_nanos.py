"""Nanosecond precision for FEEL times, date-times and durations (DMN 1.5 §10.3.2.3).

FEEL's temporal values carry up to nine fraction digits (``java.time``); Python's
``datetime`` objects stop at microseconds. The three subclasses here keep the digits beyond
the microsecond as ``nanos`` (0..999), so ``time("10:00:00.123456789")`` prints back as it
was written, its ``second`` property is exact, and ``time()``/``date and time()`` carry it
through. Ordinary values stay plain ``datetime`` objects (``nanos`` then reads 0 through
:func:`nanos_of`).

Known limit: arithmetic (``+``/``-`` with durations, differences) works on microseconds and
drops the extra digits; comparisons are to the millisecond anyway, as the DMN TCK expects.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

__all__ = ["NanoDateTime", "NanoDuration", "NanoTime", "nanos_of", "split_fraction", "with_nanos"]


class NanoTime(_dt.time):
    """A ``datetime.time`` with ``nanos`` (0..999) below its microsecond."""

    nanos: int = 0

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (_rebuild, (_dt.time(*_fields_time(self)), self.nanos))


class NanoDateTime(_dt.datetime):
    """A ``datetime.datetime`` with ``nanos`` (0..999) below its microsecond."""

    nanos: int = 0

    def __reduce_ex__(self, protocol: Any) -> Any:
        plain = _dt.datetime.combine(self.date(), _dt.time(*_fields_time(self)))
        return (_rebuild, (plain, self.nanos))


class NanoDuration(_dt.timedelta):
    """A ``datetime.timedelta`` with ``nanos`` (0..999) beyond its microseconds, same sign."""

    nanos: int = 0

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (_rebuild, (_dt.timedelta(self.days, self.seconds, self.microseconds), self.nanos))


def _fields_time(value: _dt.time | _dt.datetime) -> tuple[Any, ...]:
    return (value.hour, value.minute, value.second, value.microsecond, value.tzinfo)


def _rebuild(value: Any, nanos: int) -> Any:
    return with_nanos(value, nanos)


def nanos_of(value: Any) -> int:
    """The digits below the microsecond (0 for plain values)."""
    return int(getattr(value, "nanos", 0))


def with_nanos(value: Any, nanos: int) -> Any:
    """``value`` carrying ``nanos`` digits below its microsecond (plain when ``nanos`` is 0)."""
    if not nanos:
        return value
    result: Any
    if isinstance(value, _dt.datetime):
        result = NanoDateTime.combine(value.date(), value.timetz())
    elif isinstance(value, _dt.time):
        result = NanoTime(*_fields_time(value))
    elif isinstance(value, _dt.timedelta):
        result = NanoDuration(value.days, value.seconds, value.microseconds)
    else:
        return value
    result.nanos = nanos
    return result


def split_fraction(digits: str) -> tuple[int, int]:
    """A fraction of a second written with ``digits`` → (microseconds, nanos); digits past
    the ninth are cut, as ``java.time`` does."""
    padded = (digits + "000000000")[:9]
    return int(padded[:6]), int(padded[6:])
