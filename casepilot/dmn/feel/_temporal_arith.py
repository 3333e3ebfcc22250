"""FEEL arithmetic on temporal values and durations, to the nanosecond (DMN 1.5 §10.3.2.3,
§10.3.2.11 Table 57).

Python's ``datetime`` objects stop at microseconds; FEEL values carry nine fraction digits
(``_nanos``). Every operation here lets Python compute on whole microseconds (calendars,
zones, DST, years beyond 1..9999 through ``_extended``) and carries the nanoseconds
explicitly: durations are added, scaled and divided as integer nanoseconds, a clock shifted by
a duration gets the carried remainder back, and a difference of two clocks adds the
difference of their nanoseconds. Every function returns None when the operands do not fit;
``OverflowError``/``ValueError`` are left to the callers in ``ops``, which turn them into null.
"""

from __future__ import annotations

import datetime as _dt
from decimal import ROUND_DOWN, Decimal, DecimalException
from typing import Any

from . import _extended as ext
from ._nanos import carry, duration_nanos, duration_of_nanos, nanos_of, with_nanos
from .values import FEEL_DECIMAL, FeelDate, FeelDateTime, YearMonthDuration

__all__ = [
    "add_durations",
    "divide_durations",
    "is_duration",
    "is_temporal",
    "negate_duration",
    "plus",
    "scale_duration",
    "scale_months",
    "temporal_difference",
]

_UTC = _dt.UTC
_REFERENCE_DAY = _dt.date(1970, 1, 1)
_EXTENDED = (FeelDate, FeelDateTime)
_DATE_TIMES = (_dt.datetime, FeelDateTime)


def is_duration(value: Any) -> bool:
    return isinstance(value, (_dt.timedelta, YearMonthDuration))


def is_temporal(value: Any) -> bool:
    return isinstance(value, (_dt.date, _dt.time, FeelDate, FeelDateTime))


def _is_date(value: Any) -> bool:
    return isinstance(value, FeelDate) or (
        isinstance(value, _dt.date) and not isinstance(value, _dt.datetime)
    )


# --------------------------------------------------------------------------- durations


def add_durations(a: _dt.timedelta, b: _dt.timedelta) -> _dt.timedelta:
    return duration_of_nanos(duration_nanos(a) + duration_nanos(b))


def negate_duration(a: _dt.timedelta) -> _dt.timedelta:
    return duration_of_nanos(-duration_nanos(a))


def scale_duration(value: _dt.timedelta, factor: Decimal) -> _dt.timedelta | None:
    """``value × factor``, rounded half-even to the nanosecond."""
    try:
        nanos = FEEL_DECIMAL.multiply(Decimal(duration_nanos(value)), factor)
        return duration_of_nanos(int(nanos.to_integral_value()))
    except (DecimalException, OverflowError, ValueError):
        return None


def scale_months(value: YearMonthDuration, factor: Decimal) -> YearMonthDuration | None:
    """``value × factor`` in whole months (toward zero)."""
    try:
        months = FEEL_DECIMAL.multiply(Decimal(value.months), factor)
        return YearMonthDuration(int(months.to_integral_value(rounding=ROUND_DOWN)))
    except (DecimalException, OverflowError, ValueError):
        return None


def divide_durations(a: _dt.timedelta, b: _dt.timedelta) -> Decimal | None:
    """``a ÷ b`` as a number (null for a zero divisor)."""
    den = duration_nanos(b)
    if den == 0:
        return None
    return FEEL_DECIMAL.divide(Decimal(duration_nanos(a)), Decimal(den))


# --------------------------------------------------------------------------- temporal ± duration


def _shift_time(value: _dt.time, delta: _dt.timedelta) -> _dt.time:
    base = _dt.datetime.combine(_REFERENCE_DAY, value.replace(tzinfo=None)) + delta
    return base.time().replace(tzinfo=value.tzinfo)


def plus(value: Any, delta: Any) -> Any:
    """A date / date and time / time shifted by a duration (None when not applicable).

    Times wrap around midnight; dates move by whole days; a years-and-months duration moves
    the calendar month (day clamped) and keeps the clock, nanoseconds included.
    """
    if isinstance(delta, YearMonthDuration):
        if isinstance(value, (_dt.date, FeelDate, FeelDateTime)):
            return with_nanos(ext.add_months(value, delta.months), nanos_of(value))
        return None
    if not isinstance(delta, _dt.timedelta):
        return None
    step, nanos = carry(value, delta)
    if isinstance(value, _dt.time):
        return with_nanos(_shift_time(value, step), nanos)
    if _is_date(value):
        return _shift_date(value, step)
    if isinstance(value, _DATE_TIMES):
        return with_nanos(_shift_date_time(value, step), nanos)
    return None


def _shift_date(value: Any, step: _dt.timedelta) -> Any:
    if isinstance(value, _dt.date):
        try:
            return (_dt.datetime(value.year, value.month, value.day) + step).date()
        except OverflowError:
            pass  # beyond year 9999 (or before 1): computed below
    return ext.shift(value, step)


def _shift_date_time(value: Any, step: _dt.timedelta) -> Any:
    if isinstance(value, _dt.datetime):
        try:
            return ext.shift_native(value, step)
        except OverflowError:
            pass
    return ext.shift(value, step)


# --------------------------------------------------------------------------- temporal − temporal


def temporal_difference(a: Any, b: Any) -> _dt.timedelta | None:
    """``a − b`` for two dates / date-times / times, as a days-and-time duration."""
    micro = _micro_difference(a, b)
    if micro is None:
        return None
    return duration_of_nanos(duration_nanos(micro) + nanos_of(a) - nanos_of(b))


def _micro_difference(a: Any, b: Any) -> _dt.timedelta | None:
    if isinstance(a, _EXTENDED) or isinstance(b, _EXTENDED):
        return _subtract_extended(a, b)
    if isinstance(a, _dt.date) and isinstance(b, _dt.date):
        if isinstance(a, _dt.datetime) != isinstance(b, _dt.datetime):
            # date against date and time: the date is midnight UTC, and only a zoned
            # date and time can be placed against it (DMN TCK 0100-arithmetic)
            zoned = a if isinstance(a, _dt.datetime) else b
            if getattr(zoned, "tzinfo", None) is None:
                return None
        mixed = isinstance(a, _dt.datetime) != isinstance(b, _dt.datetime)
        x, y = _date_time(a, _UTC if mixed else None), _date_time(b, _UTC if mixed else None)
        if (x.tzinfo is None) != (y.tzinfo is None):
            return None
        if x.tzinfo is not None:
            try:
                return x.astimezone(_UTC) - y.astimezone(_UTC)
            except OverflowError:
                return _subtract_extended(a, b)
        return x - y
    if isinstance(a, _dt.time) and isinstance(b, _dt.time):
        micros = time_micros(a, b)
        return None if micros is None else _dt.timedelta(microseconds=micros[0] - micros[1])
    return None


def _date_time(value: _dt.date, zone: _dt.tzinfo | None = None) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return value
    return _dt.datetime(value.year, value.month, value.day, tzinfo=zone)


def _subtract_extended(a: Any, b: Any) -> _dt.timedelta | None:
    """date/date and time − date/date and time when a year beyond 1..9999 is involved."""
    x, y = _as_date_time(a, b), _as_date_time(b, a)
    if x is None or y is None or (x.tzinfo is None) != (y.tzinfo is None):
        return None
    return _dt.timedelta(microseconds=ext.datetime_key(x) - ext.datetime_key(y))


def _as_date_time(value: Any, other: Any) -> _dt.datetime | FeelDateTime | None:
    """``value`` as a date and time for subtraction: a date against a date and time is midnight
    UTC, and only a zoned date and time can be placed against it (DMN TCK 0100-arithmetic)."""
    if isinstance(value, _DATE_TIMES):
        if _is_date(other) and value.tzinfo is None:
            return None
        return value
    if not _is_date(value):
        return None
    zone = _UTC if isinstance(other, _DATE_TIMES) else None
    return ext.make_date_and_time(value, _dt.time(tzinfo=zone))


def time_key(value: _dt.time) -> tuple[int, _dt.timedelta | None]:
    """Microseconds since midnight (local clock) and the UTC offset (None without a zone)."""
    micros = ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond
    if value.tzinfo is None:
        return micros, None
    # an IANA zone's offset for a bare time is the one of the reference day
    return micros, _dt.datetime.combine(_REFERENCE_DAY, value).utcoffset()


def time_micros(a: _dt.time, b: _dt.time) -> tuple[int, int] | None:
    """Microseconds since midnight of both times (in UTC when zoned); None for zoned vs local."""
    (ma, oa), (mb, ob) = time_key(a), time_key(b)
    if (oa is None) != (ob is None):
        return None
    if oa is not None and ob is not None:
        ma -= oa // _dt.timedelta(microseconds=1)
        mb -= ob // _dt.timedelta(microseconds=1)
    return ma, mb
