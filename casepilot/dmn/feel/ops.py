"""FEEL semantics of equality, ordering and arithmetic (DMN 1.5 §10.3.2.9–10.3.2.11).

Every function here is total: it returns FEEL null (``None``) instead of raising when the
operands do not fit (different types, division by zero, overflow). ``feel_equal`` returns
``None`` for values of different kinds and ``False``/``True`` otherwise; ``null = null`` is
true and ``null = x`` false, as the spec says.
"""

from __future__ import annotations

import datetime as _dt
from decimal import ROUND_DOWN, Decimal, DecimalException
from typing import Any
from zoneinfo import ZoneInfo

from . import _extended as ext
from ._nanos import nanos_of
from .values import FEEL_DECIMAL, FeelDate, FeelDateTime, Range, YearMonthDuration

__all__ = [
    "add",
    "compare",
    "divide",
    "feel_equal",
    "kind_of",
    "multiply",
    "negate",
    "power",
    "subtract",
]

_UTC = _dt.UTC
_REFERENCE_DAY = _dt.date(1970, 1, 1)
_ONE_MICRO = _dt.timedelta(microseconds=1)


def kind_of(value: Any) -> str:
    """The FEEL type name of a value (``Null`` for None)."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, _dt.datetime):
        return "date and time"
    if isinstance(value, _dt.date):
        return "date"
    if isinstance(value, _dt.time):
        return "time"
    if isinstance(value, _dt.timedelta):
        return "days and time duration"
    if isinstance(value, YearMonthDuration):
        return "years and months duration"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "context"
    if isinstance(value, Range):
        return "range"
    if isinstance(value, FeelDateTime):
        return "date and time"
    if isinstance(value, FeelDate):
        return "date"
    if isinstance(value, (int, float)):
        return "number"
    return "function" if hasattr(value, "invoke") else "Any"


def _time_key(value: _dt.time) -> tuple[int, _dt.timedelta | None]:
    """Seconds since midnight in UTC when the time has a zone, else local; plus 'has zone'."""
    tz = value.tzinfo
    micros = ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond
    if tz is None:
        return micros, None
    offset = (
        _dt.datetime.combine(_REFERENCE_DAY, value).utcoffset()
        if isinstance(tz, ZoneInfo)
        else value.utcoffset()
    )
    return micros, offset


def _time_micros(a: _dt.time, b: _dt.time) -> tuple[int, int] | None:
    """Microseconds since midnight of both times (in UTC when zoned); None for zoned vs local."""
    (ma, oa), (mb, ob) = _time_key(a), _time_key(b)
    if (oa is None) != (ob is None):
        return None
    if oa is not None and ob is not None:
        ma -= oa // _dt.timedelta(microseconds=1)
        mb -= ob // _dt.timedelta(microseconds=1)
    return ma, mb


def _to_millis(value: _dt.datetime) -> _dt.datetime:
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


def _comparable(a: Any, b: Any) -> tuple[Any, Any] | None:
    """Normalise two values of the same orderable kind to Python-comparable keys, else None.

    Times and date-times compare to the millisecond, as the DMN TCK expects
    (``time("10:30:00.0001") = time("10:30:00.0002")`` is true): values keep their
    microseconds, but ``=``, ``<`` and the rest agree on one precision.
    """
    if isinstance(a, bool) or isinstance(b, bool):
        return None
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a, b
    if isinstance(a, str) and isinstance(b, str):
        return a, b
    if isinstance(a, _dt.datetime) or isinstance(b, _dt.datetime):
        if not (isinstance(a, _dt.datetime) and isinstance(b, _dt.datetime)):
            return _extended_keys(a, b)
        if (a.tzinfo is None) != (b.tzinfo is None):
            return None
        a, b = _to_millis(a), _to_millis(b)
        if a.tzinfo is not None:
            try:
                return a.astimezone(_UTC), b.astimezone(_UTC)
            except OverflowError:  # within a day of year 1 or 9999: the UTC instant needs more years
                return ext.datetime_key(a) // 1000, ext.datetime_key(b) // 1000
        return a, b
    if isinstance(a, _dt.date) and isinstance(b, _dt.date):
        return a, b
    if isinstance(a, _dt.time) and isinstance(b, _dt.time):
        micros = _time_micros(a, b)
        return None if micros is None else (micros[0] // 1000, micros[1] // 1000)
    if isinstance(a, _dt.timedelta) and isinstance(b, _dt.timedelta):
        if nanos_of(a) or nanos_of(b):  # digits below the microsecond (see _nanos)
            return a // _ONE_MICRO * 1000 + nanos_of(a), b // _ONE_MICRO * 1000 + nanos_of(b)
        return a, b
    if isinstance(a, YearMonthDuration) and isinstance(b, YearMonthDuration):
        return a.months, b.months
    if isinstance(a, _EXTENDED) or isinstance(b, _EXTENDED):
        return _extended_keys(a, b)
    return None


_EXTENDED = (FeelDate, FeelDateTime)
_DATE_TIMES = (_dt.datetime, FeelDateTime)


def _is_date(value: Any) -> bool:
    return isinstance(value, FeelDate) or (
        isinstance(value, _dt.date) and not isinstance(value, _dt.datetime)
    )


def _extended_keys(a: Any, b: Any) -> tuple[int, int] | None:
    """Integer keys (days, or milliseconds of the instant) when a year beyond 1..9999 is involved."""
    if _is_date(a) and _is_date(b):
        return ext.date_key(a), ext.date_key(b)
    if isinstance(a, _DATE_TIMES) and isinstance(b, _DATE_TIMES):
        if (a.tzinfo is None) != (b.tzinfo is None):
            return None
        return ext.datetime_key(a) // 1000, ext.datetime_key(b) // 1000  # to the millisecond, as above
    return None


def compare(a: Any, b: Any) -> int | None:
    """-1 / 0 / 1 for orderable values of the same kind; None otherwise (incl. null)."""
    ta = type(a)
    if ta is type(b) and (ta is Decimal or ta is str):  # the hot path of decision tables
        return -1 if a < b else (1 if a > b else 0)
    if a is None or b is None:
        return None
    keys = _comparable(a, b)
    if keys is None:
        return None
    x, y = keys
    return -1 if x < y else (1 if x > y else 0)


def feel_equal(a: Any, b: Any) -> bool | None:
    """FEEL ``=``: deep for lists and contexts; null only equals null; None across kinds."""
    ta = type(a)
    if ta is type(b) and (ta is Decimal or ta is str):
        return bool(a == b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b if isinstance(a, bool) and isinstance(b, bool) else None
    if isinstance(a, list) or isinstance(b, list):
        if not (isinstance(a, list) and isinstance(b, list)):
            return None
        if len(a) != len(b):
            return False
        for x, y in zip(a, b, strict=True):
            eq = feel_equal(x, y)
            if eq is not True:
                return eq
        return True
    if isinstance(a, dict) or isinstance(b, dict):
        if not (isinstance(a, dict) and isinstance(b, dict)):
            return None
        if a.keys() != b.keys():
            return False
        for key, x in a.items():
            eq = feel_equal(x, b[key])
            if eq is not True:
                return eq
        return True
    if isinstance(a, Range) or isinstance(b, Range):
        if not (isinstance(a, Range) and isinstance(b, Range)):
            return None
        return (
            a.operator == b.operator
            and a.start_included == b.start_included
            and a.end_included == b.end_included
            and feel_equal(a.start, b.start) is True
            and feel_equal(a.end, b.end) is True
        )
    if isinstance(a, _dt.time) and isinstance(b, _dt.time) and (a.tzinfo is None) != (b.tzinfo is None):
        return False
    if isinstance(a, _DATE_TIMES) and isinstance(b, _DATE_TIMES) and (a.tzinfo is None) != (b.tzinfo is None):
        return False
    keys = _comparable(a, b)
    if keys is not None:
        return bool(keys[0] == keys[1])
    if kind_of(a) == kind_of(b) == "function":
        return a is b
    return None


# --------------------------------------------------------------------------- arithmetic


def _dec(op: str, a: Decimal, b: Decimal) -> Decimal | None:
    try:
        if op == "+":
            return FEEL_DECIMAL.add(a, b)
        if op == "-":
            return FEEL_DECIMAL.subtract(a, b)
        if op == "*":
            return FEEL_DECIMAL.multiply(a, b)
        if op == "/":
            return None if b.is_zero() else FEEL_DECIMAL.divide(a, b)
        return _pow(a, b)
    except (DecimalException, OverflowError, ValueError):
        return None


def _pow(a: Decimal, b: Decimal) -> Decimal | None:
    if b == b.to_integral_value() and abs(b) <= 999_999_999:
        result = FEEL_DECIMAL.power(a, int(b))
    else:
        result = FEEL_DECIMAL.power(a, b)
    return result if result.is_finite() else None


def _shift_time(value: _dt.time, delta: _dt.timedelta) -> _dt.time:
    base = _dt.datetime.combine(_REFERENCE_DAY, value.replace(tzinfo=None)) + delta
    return base.time().replace(tzinfo=value.tzinfo)


def _temporal_plus(value: Any, delta: Any) -> Any:
    """date / date and time / time shifted by a duration (None when not applicable)."""
    if isinstance(delta, YearMonthDuration):
        if isinstance(value, (_dt.date, FeelDate, FeelDateTime)):
            return ext.add_months(value, delta.months)
        return None
    if isinstance(value, _dt.time):
        return _shift_time(value, delta)
    try:
        if isinstance(value, _dt.datetime):
            return ext.shift_native(value, delta)
        if isinstance(value, _dt.date):
            shifted = _dt.datetime(value.year, value.month, value.day) + delta
            return shifted.date()
    except OverflowError:
        pass  # beyond year 9999 (or before 1): computed below
    if isinstance(value, (_dt.date, FeelDate, FeelDateTime)):
        return ext.shift(value, delta)
    return None


def _is_duration(value: Any) -> bool:
    return isinstance(value, (_dt.timedelta, YearMonthDuration))


def _is_temporal(value: Any) -> bool:
    return isinstance(value, (_dt.date, _dt.time, FeelDate, FeelDateTime))


def add(a: Any, b: Any) -> Any:
    """FEEL ``+``: numbers, string concatenation, durations, temporal + duration."""
    try:
        if isinstance(a, Decimal) and isinstance(b, Decimal):
            return _dec("+", a, b)
        if isinstance(a, str) and isinstance(b, str):
            return a + b
        if isinstance(a, _dt.timedelta) and isinstance(b, _dt.timedelta):
            return a + b
        if isinstance(a, YearMonthDuration) and isinstance(b, YearMonthDuration):
            return YearMonthDuration(a.months + b.months)
        if _is_temporal(a) and _is_duration(b):
            return _temporal_plus(a, b)
        if _is_duration(a) and _is_temporal(b):
            return _temporal_plus(b, a)
    except (OverflowError, ValueError):
        return None
    return None


def _date_time(value: _dt.date, zone: _dt.tzinfo | None = None) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return value
    return _dt.datetime(value.year, value.month, value.day, tzinfo=zone)


def subtract(a: Any, b: Any) -> Any:
    """FEEL ``-``: numbers, durations, temporal − duration, temporal − temporal → duration."""
    try:
        if isinstance(a, Decimal) and isinstance(b, Decimal):
            return _dec("-", a, b)
        if isinstance(a, _dt.timedelta) and isinstance(b, _dt.timedelta):
            return a - b
        if isinstance(a, YearMonthDuration) and isinstance(b, YearMonthDuration):
            return YearMonthDuration(a.months - b.months)
        if _is_temporal(a) and _is_duration(b):
            return _temporal_plus(a, negate(b))
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
            micros = _time_micros(a, b)
            return None if micros is None else _dt.timedelta(microseconds=micros[0] - micros[1])
    except (OverflowError, ValueError):
        return None
    return None


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


def multiply(a: Any, b: Any) -> Any:
    """FEEL ``*``: numbers, and a duration scaled by a number (either side)."""
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return _dec("*", a, b)
    if isinstance(b, Decimal) and _is_duration(a):
        a, b = b, a
    if isinstance(a, Decimal) and isinstance(b, _dt.timedelta):
        return _scale_timedelta(b, a)
    if isinstance(a, Decimal) and isinstance(b, YearMonthDuration):
        return _scale_months(b, a)
    return None


def _scale_timedelta(value: _dt.timedelta, factor: Decimal) -> _dt.timedelta | None:
    try:
        micros = FEEL_DECIMAL.multiply(Decimal(value // _dt.timedelta(microseconds=1)), factor)
        return _dt.timedelta(microseconds=int(micros.to_integral_value()))
    except (DecimalException, OverflowError, ValueError):
        return None


def _scale_months(value: YearMonthDuration, factor: Decimal) -> YearMonthDuration | None:
    try:
        months = FEEL_DECIMAL.multiply(Decimal(value.months), factor)
        return YearMonthDuration(int(months.to_integral_value(rounding=ROUND_DOWN)))
    except (DecimalException, OverflowError, ValueError):
        return None


def divide(a: Any, b: Any) -> Any:
    """FEEL ``/``: numbers (÷0 → null), duration ÷ number, duration ÷ duration → number."""
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return _dec("/", a, b)
    if isinstance(b, Decimal):
        if b.is_zero():
            return None
        if isinstance(a, _dt.timedelta):
            return _scale_timedelta(a, FEEL_DECIMAL.divide(Decimal(1), b))
        if isinstance(a, YearMonthDuration):
            return _scale_months(a, FEEL_DECIMAL.divide(Decimal(1), b))
        return None
    if isinstance(a, _dt.timedelta) and isinstance(b, _dt.timedelta):
        den = b // _dt.timedelta(microseconds=1)
        return None if den == 0 else _dec("/", Decimal(a // _dt.timedelta(microseconds=1)), Decimal(den))
    if isinstance(a, YearMonthDuration) and isinstance(b, YearMonthDuration):
        return None if b.months == 0 else _dec("/", Decimal(a.months), Decimal(b.months))
    return None


def power(a: Any, b: Any) -> Any:
    """FEEL ``**``: numbers only."""
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return _dec("**", a, b)
    return None


def negate(a: Any) -> Any:
    """FEEL unary ``-``: numbers and durations."""
    if isinstance(a, Decimal):
        return FEEL_DECIMAL.minus(a)
    if isinstance(a, _dt.timedelta):
        return -a
    if isinstance(a, YearMonthDuration):
        return YearMonthDuration(-a.months)
    return None
