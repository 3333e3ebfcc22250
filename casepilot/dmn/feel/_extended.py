"""Dates and date-times of any year in ±999 999 999, on top of Python's 1..9999 ``datetime``.

FEEL (like ``java.time``) admits years far outside what ``datetime`` holds. Rather than
re-implement the calendar, every computation that involves such a year runs on a *proxy*:
the same value shifted by a whole number of 400-year Gregorian cycles into the years
2000..2399. A 400-year cycle has exactly 146 097 days (a whole number of weeks), so leap
years, month lengths and weekdays of the proxy are those of the real date; the result is
shifted back. Ordinary dates never come here, except when a result overflows 1..9999.

Zones: the offset of a ``ZoneInfo`` zone for a far year is the one of its proxy year (no
authority knows the offsets of year -2021; offsets only matter for instants across zones).
"""

from __future__ import annotations

import calendar
import datetime as _dt
from typing import Any
from zoneinfo import ZoneInfo

from ._nanos import nanos_of, with_nanos
from .values import FeelDate, FeelDateTime

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "AnyDate",
    "AnyDateTime",
    "add_months",
    "date_key",
    "date_of",
    "datetime_key",
    "is_extended",
    "make_date",
    "make_date_and_time",
    "shift",
    "shift_native",
    "to_proxy",
    "weekday_proxy",
]

MIN_YEAR = -999_999_999
MAX_YEAR = 999_999_999

AnyDate = _dt.date | FeelDate
AnyDateTime = _dt.datetime | FeelDateTime

_CYCLE_YEARS = 400
_CYCLE_DAYS = 146_097
_CYCLE = _dt.timedelta(days=_CYCLE_DAYS)
_CYCLE_MICROS = _CYCLE_DAYS * 86_400 * 1_000_000
_BASE_YEAR = 2000
_EPOCH = _dt.datetime(1970, 1, 1)
_MICRO = _dt.timedelta(microseconds=1)
_UTC = _dt.UTC
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_extended(value: Any) -> bool:
    """Whether ``value`` is a date or date and time beyond Python's years."""
    return isinstance(value, (FeelDate, FeelDateTime))


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside the supported range {MIN_YEAR}..{MAX_YEAR}")


def _cycles(year: int) -> int:
    return (year - _BASE_YEAR) // _CYCLE_YEARS


def make_date(year: int, month: int, day: int) -> _dt.date | FeelDate:
    """A valid date (ValueError otherwise): a ``date`` when Python can hold it, else a FeelDate."""
    if 1 <= year <= 9999:
        return _dt.date(year, month, day)
    _check_year(year)
    _dt.date(year - _CYCLE_YEARS * _cycles(year), month, day)  # validates month and day
    return FeelDate(year, month, day)


def make_date_and_time(day: AnyDate, clock: _dt.time) -> _dt.datetime | FeelDateTime:
    """The date and time of ``day`` (a date; a date-time's date part is used) at ``clock``."""
    if isinstance(day, FeelDate):
        return FeelDateTime(day, clock)
    if isinstance(day, _dt.datetime):
        day = day.date()
    return with_nanos(_dt.datetime.combine(day, clock), nanos_of(clock))  # type: ignore[no-any-return]


def date_of(value: AnyDate | FeelDateTime) -> _dt.date | FeelDate:
    """The date part of a date or date and time."""
    if isinstance(value, FeelDateTime):
        return value.date
    if isinstance(value, _dt.datetime):
        return value.date()
    return value


def to_proxy(value: Any) -> tuple[int, Any]:
    """``(k, proxy)``: ``value`` is ``proxy`` (a native date/datetime) shifted by ``k`` cycles."""
    k = _cycles(value.year)
    shift_years = _CYCLE_YEARS * k
    if isinstance(value, FeelDateTime):
        d = value.date
        return k, _dt.datetime.combine(_dt.date(d.year - shift_years, d.month, d.day), value.time)
    if isinstance(value, FeelDate):
        return k, _dt.date(value.year - shift_years, value.month, value.day)
    return k, value.replace(year=value.year - shift_years)


def _from_proxy(k: int, proxy: Any) -> Any:
    year = proxy.year + _CYCLE_YEARS * k
    if 1 <= year <= 9999:
        return proxy.replace(year=year)
    _check_year(year)
    day = FeelDate(year, proxy.month, proxy.day)
    return FeelDateTime(day, proxy.timetz()) if isinstance(proxy, _dt.datetime) else day


def weekday_proxy(value: Any) -> _dt.date:
    """A native date with the same weekday, day of year and ISO week as ``value``."""
    proxy = to_proxy(value)[1] if is_extended(value) else value
    return proxy.date() if isinstance(proxy, _dt.datetime) else proxy


def shift_native(value: _dt.datetime, delta: _dt.timedelta) -> _dt.datetime:
    """Instant arithmetic for zoned date-times (DST-safe); plain arithmetic otherwise."""
    if isinstance(value.tzinfo, ZoneInfo):
        return (value.astimezone(_UTC) + delta).astimezone(value.tzinfo)
    return value + delta


def shift(value: Any, delta: _dt.timedelta) -> Any:
    """A date or date and time (of any year) plus a days-and-time duration.

    A date moves by whole days (``delta`` rounded down), as a date-time at midnight would.
    ValueError when the result leaves the supported years.
    """
    cycles, rest = divmod(delta, _CYCLE)
    k, proxy = to_proxy(value)
    if isinstance(proxy, _dt.datetime):
        moved: Any = shift_native(proxy, rest)
    else:
        moved = (_dt.datetime(proxy.year, proxy.month, proxy.day) + rest).date()
    return _from_proxy(k + cycles, moved)


def add_months(value: Any, months: int) -> Any:
    """Calendar month arithmetic with day clamping (Jan 31 + P1M = Feb 28/29), any year."""
    total = value.year * 12 + (value.month - 1) + months
    year, month0 = divmod(total, 12)
    month = month0 + 1
    last = _MONTH_DAYS[month - 1] + (1 if month == 2 and calendar.isleap(year) else 0)
    day = min(value.day, last)
    if isinstance(value, _dt.date) and 1 <= year <= 9999:
        return value.replace(year=year, month=month, day=day)
    clock = (
        value.time
        if isinstance(value, FeelDateTime)
        else (value.timetz() if isinstance(value, _dt.datetime) else None)
    )
    new_date = make_date(year, month, day)
    return new_date if clock is None else make_date_and_time(new_date, clock)


def date_key(value: AnyDate) -> int:
    """Days since 0001-01-01 (= 1), for dates of any year."""
    if not isinstance(value, FeelDate):
        return value.toordinal()
    k, proxy = to_proxy(value)
    return k * _CYCLE_DAYS + proxy.toordinal()  # type: ignore[no-any-return]


def datetime_key(value: AnyDateTime) -> int:
    """Microseconds since 1970-01-01T00:00 — UTC for zoned values, local time otherwise."""
    k, proxy = to_proxy(value)
    if proxy.tzinfo is not None:
        proxy = proxy.astimezone(_UTC).replace(tzinfo=None)
    return k * _CYCLE_MICROS + (proxy - _EPOCH) // _MICRO  # type: ignore[no-any-return]
