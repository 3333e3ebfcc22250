"""FEEL semantics of equality, ordering and arithmetic (DMN 1.5 §10.3.2.9–10.3.2.11).

Every function here is total: it returns FEEL null (``None``) instead of raising when the
operands do not fit (different types, division by zero, overflow). ``feel_equal`` returns
``None`` for values of different kinds and ``False``/``True`` otherwise; ``null = null`` is
true and ``null = x`` false, as the spec says.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal, DecimalException
from typing import Any

from . import _extended as ext
from . import _temporal_arith as arith
from ._nanos import duration_nanos, nanos_of
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
        micros = arith.time_micros(a, b)
        return None if micros is None else (micros[0] // 1000, micros[1] // 1000)
    if isinstance(a, _dt.timedelta) and isinstance(b, _dt.timedelta):
        if nanos_of(a) or nanos_of(b):  # digits below the microsecond (see _nanos)
            return duration_nanos(a), duration_nanos(b)
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
    # FEEL numbers are IEEE 754-2008 decimal128 (§10.3.2.3.1), whose pow(x, ±0) is 1 for
    # every x, zero included (IEEE 754 §9.2.1); Python's decimal calls 0 ** 0 undefined.
    if b.is_zero():
        return Decimal(1)
    if b == b.to_integral_value() and abs(b) <= 999_999_999:
        result = FEEL_DECIMAL.power(a, int(b))
    else:
        result = FEEL_DECIMAL.power(a, b)
    return result if result.is_finite() else None


def add(a: Any, b: Any) -> Any:
    """FEEL ``+``: numbers, string concatenation, durations, temporal + duration."""
    try:
        if isinstance(a, Decimal) and isinstance(b, Decimal):
            return _dec("+", a, b)
        if isinstance(a, str) and isinstance(b, str):
            return a + b
        if isinstance(a, _dt.timedelta) and isinstance(b, _dt.timedelta):
            return arith.add_durations(a, b)
        if isinstance(a, YearMonthDuration) and isinstance(b, YearMonthDuration):
            return YearMonthDuration(a.months + b.months)
        if arith.is_temporal(a) and arith.is_duration(b):
            return arith.plus(a, b)
        if arith.is_duration(a) and arith.is_temporal(b):
            return arith.plus(b, a)
    except (OverflowError, ValueError):
        return None
    return None


def subtract(a: Any, b: Any) -> Any:
    """FEEL ``-``: numbers, durations, temporal − duration, temporal − temporal → duration."""
    try:
        if isinstance(a, Decimal) and isinstance(b, Decimal):
            return _dec("-", a, b)
        if isinstance(a, _dt.timedelta) and isinstance(b, _dt.timedelta):
            return arith.add_durations(a, arith.negate_duration(b))
        if isinstance(a, YearMonthDuration) and isinstance(b, YearMonthDuration):
            return YearMonthDuration(a.months - b.months)
        if arith.is_temporal(a) and arith.is_duration(b):
            return arith.plus(a, negate(b))
        if arith.is_temporal(a) and arith.is_temporal(b):
            return arith.temporal_difference(a, b)
    except (OverflowError, ValueError):
        return None
    return None


def multiply(a: Any, b: Any) -> Any:
    """FEEL ``*``: numbers, and a duration scaled by a number (either side)."""
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return _dec("*", a, b)
    if isinstance(b, Decimal) and arith.is_duration(a):
        a, b = b, a
    if isinstance(a, Decimal) and isinstance(b, _dt.timedelta):
        return arith.scale_duration(b, a)
    if isinstance(a, Decimal) and isinstance(b, YearMonthDuration):
        return arith.scale_months(b, a)
    return None


def divide(a: Any, b: Any) -> Any:
    """FEEL ``/``: numbers (÷0 → null), duration ÷ number, duration ÷ duration → number."""
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return _dec("/", a, b)
    if isinstance(b, Decimal):
        if b.is_zero():
            return None
        if isinstance(a, _dt.timedelta):
            return arith.scale_duration(a, FEEL_DECIMAL.divide(Decimal(1), b))
        if isinstance(a, YearMonthDuration):
            return arith.scale_months(a, FEEL_DECIMAL.divide(Decimal(1), b))
        return None
    if isinstance(a, _dt.timedelta) and isinstance(b, _dt.timedelta):
        return arith.divide_durations(a, b)
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
        try:
            return arith.negate_duration(a)
        except OverflowError:
            return None
    if isinstance(a, YearMonthDuration):
        return YearMonthDuration(-a.months)
    return None
