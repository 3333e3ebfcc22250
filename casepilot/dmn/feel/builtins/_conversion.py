"""Conversion functions (DMN 1.5 §10.3.4.1): date, time, date and time, duration, number, string.

Text forms are parsed by :mod:`casepilot.dmn.feel.temporal` (shared with ``@"…"``
literals) so that a value reads the same in every place; its ``ValueError`` becomes null
with the parser's message.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from casepilot.dmn.feel import _extended as ext
from casepilot.dmn.feel import ast, temporal
from casepilot.dmn.feel._nanos import nanos_of, with_nanos
from casepilot.dmn.feel.ops import compare
from casepilot.dmn.feel.values import FEEL_DECIMAL, FeelDate, FeelDateTime, Range, YearMonthDuration
from casepilot.errors import ExpressionError

from ._core import MISSING, BuiltinArgumentError, builtin
from ._support import need_int, need_number, need_string, type_name

__all__ = ["months_between"]

_UTC = _dt.UTC
_MAX_OFFSET = _dt.timedelta(hours=18)


def _parse(parser: Any, text: str) -> Any:
    try:
        return parser(text)
    except (ValueError, OverflowError) as exc:
        raise BuiltinArgumentError(str(exc)) from None


# ----------------------------------------------------------------------------- date


@builtin("date", "from")
def _date_from(from_: Any) -> _dt.date | FeelDate:
    if isinstance(from_, str):
        return _parse(temporal.parse_date, from_)  # type: ignore[no-any-return]
    if isinstance(from_, (_dt.date, FeelDate, FeelDateTime)):
        return ext.date_of(from_)
    raise BuiltinArgumentError(f"from must be a string, date or date and time, got {type_name(from_)}")


@builtin("date", "year", "month", "day")
def _date_ymd(year: Any, month: Any, day: Any) -> _dt.date | FeelDate:
    y, m, d = need_int(year, "year"), need_int(month, "month"), need_int(day, "day")
    try:
        return ext.make_date(y, m, d)
    except (ValueError, OverflowError) as exc:
        raise BuiltinArgumentError(f"no such date {y}-{m}-{d}: {exc}") from None


# ------------------------------------------------------------------------ date and time


@builtin("date and time", "from")
def _date_and_time_from(from_: Any) -> _dt.datetime | FeelDateTime:
    if isinstance(from_, str):
        return _parse(temporal.parse_date_and_time, from_)  # type: ignore[no-any-return]
    if isinstance(from_, (_dt.datetime, FeelDateTime)):
        return from_
    if isinstance(from_, (_dt.date, FeelDate)):
        return ext.make_date_and_time(from_, _dt.time(tzinfo=_UTC))
    raise BuiltinArgumentError(f"from must be a string or a date, got {type_name(from_)}")


@builtin("date and time", "date", "time")
def _date_and_time_combine(date: Any, time: Any) -> _dt.datetime | FeelDateTime:
    if not isinstance(date, (_dt.date, FeelDate, FeelDateTime)):
        raise BuiltinArgumentError(f"date must be a date or date and time, got {type_name(date)}")
    if not isinstance(time, _dt.time):
        raise BuiltinArgumentError(f"time must be a time, got {type_name(time)}")
    return ext.make_date_and_time(ext.date_of(date), time)


# ----------------------------------------------------------------------------- time


@builtin("time", "from")
def _time_from(from_: Any) -> _dt.time:
    if isinstance(from_, str):
        return _parse(temporal.parse_time, from_)  # type: ignore[no-any-return]
    if isinstance(from_, _dt.datetime):
        return with_nanos(from_.timetz(), nanos_of(from_))  # type: ignore[no-any-return]
    if isinstance(from_, FeelDateTime):
        return from_.time
    if isinstance(from_, (_dt.date, FeelDate)):
        return _dt.time(0, 0, 0, tzinfo=_UTC)
    if isinstance(from_, _dt.time):
        return from_
    raise BuiltinArgumentError(f"from must be a string, date, time or date and time, got {type_name(from_)}")


@builtin("time", "hour", "minute", "second", "offset?")
def _time_fields(hour: Any, minute: Any, second: Any, offset: Any = MISSING) -> _dt.time:
    h, m = need_int(hour, "hour"), need_int(minute, "minute")
    s = need_number(second, "second")
    if not 0 <= h <= 23 or not 0 <= m <= 59 or not (0 <= s < 60):
        raise BuiltinArgumentError(f"time fields out of range: {h}:{m}:{s}")
    whole = int(s)
    billionths = int(FEEL_DECIMAL.multiply(s - whole, Decimal(1_000_000_000)))
    micro, nanos = divmod(billionths, 1000)
    zone: _dt.tzinfo | None = None
    if offset is not MISSING and offset is not None:
        if not isinstance(offset, _dt.timedelta):
            raise BuiltinArgumentError(f"offset must be a days and time duration, got {type_name(offset)}")
        if abs(offset) > _MAX_OFFSET or offset.microseconds:
            raise BuiltinArgumentError(
                f"offset {temporal.format_duration(offset)} is not a valid zone offset"
            )
        zone = _dt.timezone(offset)
    return with_nanos(_dt.time(h, m, whole, micro, tzinfo=zone), nanos)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- number


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_GROUPING = (" ", ",", ".")
_DECIMAL_SEPARATORS = (".", ",")


@builtin("number", "from", "grouping separator?", "decimal separator?")
def _number(from_: Any, grouping: Any = MISSING, decimal: Any = MISSING) -> Decimal:
    text = need_string(from_, "from")
    group = None if grouping is MISSING else grouping
    point = None if decimal is MISSING else decimal
    if group is not None and group not in _GROUPING:
        raise BuiltinArgumentError("grouping separator must be a space, comma, period or null")
    if point is not None and point not in _DECIMAL_SEPARATORS:
        raise BuiltinArgumentError("decimal separator must be a period, comma or null")
    if group is not None and group == point:
        raise BuiltinArgumentError("the grouping and decimal separators must differ")
    if group is not None:
        text = text.replace(group, "")
    if point is not None and point != ".":
        if "." in text:
            raise BuiltinArgumentError(f"{from_!r} is not a number with decimal separator {point!r}")
        text = text.replace(point, ".")
    if not _NUMBER.fullmatch(text):
        raise BuiltinArgumentError(f"{from_!r} is not a number")
    try:
        return FEEL_DECIMAL.create_decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid text
        raise BuiltinArgumentError(f"{from_!r} is not a number") from None


# --------------------------------------------------------------------- string, durations


@builtin("string", "from")
def _string(from_: Any) -> str | None:
    if from_ is None:
        return None
    return temporal.to_feel_string(from_)


@builtin("duration", "from")
def _duration(from_: Any) -> _dt.timedelta | YearMonthDuration:
    return _parse(temporal.parse_duration, need_string(from_, "from"))  # type: ignore[no-any-return]


def months_between(start: _dt.date | FeelDate, end: _dt.date | FeelDate) -> int:
    """Whole months from ``start`` to ``end`` (as ``java.time.Period.between``; times ignored)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    days = end.day - start.day
    if months > 0 and days < 0:
        months -= 1
    elif months < 0 and days > 0:
        months += 1
    return months


def _date_part(value: Any, param: str) -> _dt.date | FeelDate:
    if isinstance(value, (_dt.date, FeelDate, FeelDateTime)):
        return ext.date_of(value)
    raise BuiltinArgumentError(f"{param} must be a date or date and time, got {type_name(value)}")


@builtin("years and months duration", "from", "to")
def _years_and_months_duration(from_: Any, to: Any) -> YearMonthDuration:
    return YearMonthDuration(months_between(_date_part(from_, "from"), _date_part(to, "to")))


# ---------------------------------------------------------------------------- range

_RANGE_CALLS = frozenset({"date", "time", "date and time", "duration"})
_MAX_RANGE_TEXT = 1000


@functools.lru_cache(maxsize=256)
def _parse_range(text: str) -> Range:
    from casepilot.dmn.feel import compile_expression  # late: the compiler imports this package

    source = text.strip()
    if source[:1] in ("<", ">", "="):
        source = f"({source})"
    try:
        compiled = compile_expression(source)
    except ExpressionError as exc:
        raise BuiltinArgumentError(f"{text!r} is not a range: {exc}") from None
    extra = compiled.free_names - _RANGE_CALLS
    if extra:
        names = ", ".join(sorted(extra))
        raise BuiltinArgumentError(f"{text!r}: range endpoints must be literals, not names ({names})")
    endpoints = _endpoints(compiled.ast)
    if not all(_is_endpoint_literal(node) for node in endpoints):
        raise BuiltinArgumentError(
            f'{text!r}: range endpoints must be literals (a number, a string, @"…" or '
            'date/time/date and time/duration("…")), not expressions'
        )
    value, messages = compiled.evaluate_with_messages({})
    if not isinstance(value, Range) or messages:
        why = f": {messages[0]}" if messages else ""
        raise BuiltinArgumentError(f'{text!r} is not a range such as [1..10), (< 5) or ["a".."z"]{why}')
    if value.start is not None and value.end is not None:
        order = compare(value.start, value.end)
        if order is None or order > 0:
            problem = "endpoints of different types" if order is None else "a start after its end"
            raise BuiltinArgumentError(f"{text!r} is not a valid range: {problem}")
    return value


def _endpoints(node: ast.Node) -> tuple[ast.Node, ...]:
    if isinstance(node, ast.RangeLiteral):
        return (node.start, node.end)
    if isinstance(node, ast.UnaryComparison):
        return (node.value,)
    return ()  # not a range: refused after evaluation


def _is_endpoint_literal(node: ast.Node) -> bool:
    """DMN 1.5 grammar rule 68: a range endpoint is a numeric, string or date time literal
    (``@"…"`` or ``date``/``time``/``date and time``/``duration`` of one string literal)."""
    if isinstance(node, ast.Negation):
        return isinstance(node.operand, ast.Literal_) and isinstance(node.operand.value, Decimal)
    if isinstance(node, ast.Literal_):
        return node.value is not None and not isinstance(node.value, bool)
    if isinstance(node, ast.Call):
        return (
            isinstance(node.function, ast.Name)
            and node.function.name in _RANGE_CALLS
            and node.named is None
            and len(node.args) == 1
            and isinstance(node.args[0], ast.Literal_)
            and isinstance(node.args[0].value, str)
        )
    return False


@builtin("range", "from")
def _range(from_: Any) -> Range:
    """DMN 1.5 ``range(from)``: a range from its FEEL text, e.g. ``range("[18..21)")``."""
    text = need_string(from_, "from")
    if len(text) > _MAX_RANGE_TEXT:
        raise BuiltinArgumentError(f"from is longer than {_MAX_RANGE_TEXT} characters")
    return _parse_range(text)
