"""Nanosecond precision for FEEL times, date-times and durations (DMN 1.5 §10.3.2.3).

FEEL's temporal values carry up to nine fraction digits (``java.time``); Python's
``datetime`` objects stop at microseconds. The three subclasses here keep the digits beyond
the microsecond as ``nanos`` (0..999), so ``time("10:00:00.123456789")`` prints back as it
was written, its ``second`` property is exact, and ``time()``/``date and time()`` carry it
through. Ordinary values stay plain ``datetime`` objects (``nanos`` then reads 0 through
:func:`nanos_of`).

Arithmetic (``_temporal_arith``) computes with whole microseconds on Python's objects and
carries the remainder here explicitly: a duration is ``duration_nanos`` integer nanoseconds,
and a clock shifted by one keeps the carried digits through :func:`carry`. Times and
date-times still compare to the millisecond, as the DMN TCK expects (``ops._comparable``).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from .values import FeelDateTime

__all__ = [
    "NanoDateTime",
    "NanoDuration",
    "NanoTime",
    "carry",
    "duration_nanos",
    "duration_of_nanos",
    "nanos_of",
    "split_fraction",
    "with_nanos",
]

_MICRO = _dt.timedelta(microseconds=1)


class NanoTime(_dt.time):
    """A ``datetime.time`` with ``nanos`` (0..999) below its microsecond."""

    nanos: int = 0

    def isoformat(self, timespec: str = "auto") -> str:
        """ISO 8601 with all nine fraction digits, so values leaving FEEL (JSON, str) keep them."""
        if timespec != "auto" or not self.nanos:
            return super().isoformat(timespec)
        return _nine_digits(super().isoformat("microseconds"), self.nanos)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (_rebuild, (_dt.time(*_fields_time(self)), self.nanos))


class NanoDateTime(_dt.datetime):
    """A ``datetime.datetime`` with ``nanos`` (0..999) below its microsecond."""

    nanos: int = 0

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        """ISO 8601 with all nine fraction digits (``str()`` uses it too)."""
        if timespec != "auto" or not self.nanos:
            return super().isoformat(sep, timespec)
        return _nine_digits(super().isoformat(sep, "microseconds"), self.nanos)

    def __reduce_ex__(self, protocol: Any) -> Any:
        plain = _dt.datetime.combine(self.date(), _dt.time(*_fields_time(self)))
        return (_rebuild, (plain, self.nanos))


class NanoDuration(_dt.timedelta):
    """A ``datetime.timedelta`` with ``nanos`` (0..999) beyond its microseconds, same sign."""

    nanos: int = 0

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (_rebuild, (_dt.timedelta(self.days, self.seconds, self.microseconds), self.nanos))


def _nine_digits(text: str, nanos: int) -> str:
    """``text`` (an ISO form with six fraction digits) with the three below them added."""
    end = text.index(".") + 7
    return f"{text[:end]}{nanos:03d}{text[end:]}"


def _fields_time(value: _dt.time | _dt.datetime) -> tuple[Any, ...]:
    return (value.hour, value.minute, value.second, value.microsecond, value.tzinfo)


def _rebuild(value: Any, nanos: int) -> Any:
    return with_nanos(value, nanos)


def nanos_of(value: Any) -> int:
    """The digits below the microsecond (0 for plain values)."""
    if isinstance(value, FeelDateTime):
        return nanos_of(value.time)
    return int(getattr(value, "nanos", 0))


def with_nanos(value: Any, nanos: int) -> Any:
    """``value`` carrying ``nanos`` digits below its microsecond (plain when ``nanos`` is 0)."""
    if isinstance(value, FeelDateTime):
        return FeelDateTime(value.date, with_nanos(value.time, nanos))
    if not nanos:
        return _plain(value) if nanos_of(value) else value
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


def _plain(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return _dt.datetime.combine(value.date(), _dt.time(*_fields_time(value)))
    if isinstance(value, _dt.time):
        return _dt.time(*_fields_time(value))
    return _dt.timedelta(value.days, value.seconds, value.microseconds)


def duration_nanos(value: _dt.timedelta) -> int:
    """A days-and-time duration as a whole number of nanoseconds."""
    return value // _MICRO * 1000 + nanos_of(value)


def duration_of_nanos(total: int) -> _dt.timedelta:
    """The days-and-time duration of ``total`` nanoseconds (OverflowError beyond timedelta)."""
    sign = -1 if total < 0 else 1
    micros, nanos = divmod(abs(total), 1000)
    return with_nanos(_dt.timedelta(microseconds=sign * micros), sign * nanos)  # type: ignore[no-any-return]


def carry(value: Any, delta: _dt.timedelta) -> tuple[_dt.timedelta, int]:
    """Shifting ``value`` (a time or date and time) by ``delta`` = shifting its whole
    microseconds by the first result and setting its nanos to the second (0..999)."""
    micros, nanos = divmod(nanos_of(value) + duration_nanos(delta), 1000)
    return _dt.timedelta(microseconds=micros), nanos
