"""Parsing and formatting of FEEL temporal values, and FEEL ``string()`` of any value.

Parsing follows the lexical forms DMN 1.5 §10.3.2.3 borrows from XML Schema:

* date ``2017-01-31``
* time ``10:30:00``, ``10:30:00.25``, with ``Z``, ``+01:00`` or an IANA zone ``@Europe/Paris``
* date and time ``2017-01-31T10:30:00`` (same zone suffixes); a bare date means midnight
* durations ``P1Y2M`` (years and months → :class:`YearMonthDuration`) and
  ``P1DT2H3M4.5S`` (days and time → ``timedelta``), optionally negated with ``-``.

Every ``parse_*`` raises ``ValueError`` with a readable message on text that is not of
its form (callers such as the built-in ``date()`` turn that into FEEL null). Years outside
Python's 1..9999 (up to ±999 999 999, as in ``java.time``) give :class:`FeelDate` /
:class:`FeelDateTime`; every other date is a ``datetime`` object.
"""

from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import _extended as ext
from ._nanos import nanos_of, split_fraction, with_nanos
from .values import FEEL_DECIMAL, FeelDate, FeelDateTime, Range, YearMonthDuration

__all__ = [
    "format_date",
    "format_date_and_time",
    "format_duration",
    "format_number",
    "format_time",
    "parse_date",
    "parse_date_and_time",
    "parse_duration",
    "parse_temporal_literal",
    "parse_time",
    "parse_zone",
    "to_feel_string",
]

_DATE = re.compile(r"(-?\d{4,9})-(\d{2})-(\d{2})")
_TIME = re.compile(
    r"(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2}(?::\d{2})?|@[A-Za-z0-9_/+\-]+)?"
)
_DURATION = re.compile(
    r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d*)?)S)?)?"
)
_MICRO = _dt.timedelta(microseconds=1)


def parse_zone(text: str) -> _dt.tzinfo:
    """``Z`` → UTC, ``+01:00`` → fixed offset, ``@Europe/Paris`` or ``Europe/Paris`` → ``ZoneInfo``.

    A lower-case ``z`` is UTC too: the specification's own ``is()`` examples write
    ``time("23:00:50z")`` and expect it to be the same value as ``time("23:00:50+00:00")``.
    """
    if text in ("Z", "z"):
        return _dt.UTC
    if text[:1] in "+-" and ":" in text:
        sign = -1 if text[0] == "-" else 1
        parts = [int(p) for p in text[1:].split(":")]
        hours, minutes = parts[0], parts[1]
        seconds = parts[2] if len(parts) > 2 else 0
        if minutes > 59 or seconds > 59 or (hours * 60 + minutes) * 60 + seconds > 18 * 3600:
            raise ValueError(f"offset out of range (at most ±18:00): {text!r}")
        return _dt.timezone(sign * _dt.timedelta(hours=hours, minutes=minutes, seconds=seconds))
    name = text[1:] if text.startswith("@") else text
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def parse_date(text: str) -> _dt.date | FeelDate:
    """Parse ``YYYY-MM-DD`` into a ``date`` (a ``FeelDate`` for years beyond 1..9999)."""
    m = _DATE.fullmatch(text)
    if m is None:
        raise ValueError(f"not a FEEL date (expected YYYY-MM-DD): {text!r}")
    year = int(m.group(1))
    if len(m.group(1).lstrip("-")) > 4 and m.group(1).lstrip("-").startswith("0"):
        raise ValueError(f"a year of more than four digits may not start with 0: {text!r}")
    try:
        return ext.make_date(year, int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise ValueError(f"not a valid date {text!r}: {exc}") from None


def _time_parts(text: str) -> tuple[int, int, int, int, _dt.tzinfo | None, int]:
    m = _TIME.fullmatch(text)
    if m is None:
        raise ValueError(f"not a FEEL time (expected hh:mm:ss[.fff][Z|+hh:mm|@Zone]): {text!r}")
    hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3))
    micro, nanos = split_fraction(m.group(4) or "")
    zone = parse_zone(m.group(5)) if m.group(5) else None
    if hour == 24 and minute == second == micro == nanos == 0:
        return 24, 0, 0, 0, zone, 0  # end of day, XML Schema style; callers roll it over
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"time field out of range: {text!r}")
    return hour, minute, second, micro, zone, nanos


def parse_time(text: str) -> _dt.time:
    """Parse ``hh:mm:ss[.fff]`` with an optional ``Z``, ``±hh:mm`` or ``@Zone`` suffix."""
    hour, minute, second, micro, zone, nanos = _time_parts(text)
    return with_nanos(_dt.time(hour % 24, minute, second, micro, tzinfo=zone), nanos)  # type: ignore[no-any-return]


def parse_date_and_time(text: str) -> _dt.datetime | FeelDateTime:
    """Parse ``date T time``; a bare date gives midnight without a zone."""
    if "T" not in text:
        return ext.make_date_and_time(parse_date(text), _dt.time())
    date_text, _, time_text = text.partition("T")
    d = parse_date(date_text)
    hour, minute, second, micro, zone, nanos = _time_parts(time_text)
    if hour == 24:
        d = ext.shift(d, _dt.timedelta(days=1))
        hour = 0
    clock = with_nanos(_dt.time(hour, minute, second, micro, tzinfo=zone), nanos)
    return ext.make_date_and_time(d, clock)


def parse_duration(text: str) -> _dt.timedelta | YearMonthDuration:
    """Parse an ISO 8601 duration: ``P1Y2M`` → YearMonthDuration, ``P1DT2H`` → timedelta."""
    m = _DURATION.fullmatch(text)
    if m is None or text.endswith(("P", "T")):
        raise ValueError(f"not a FEEL duration (e.g. P1Y2M or P1DT2H30M): {text!r}")
    neg, years, months, days, hours, minutes, seconds = m.groups()
    sign = -1 if neg else 1
    has_ym = years is not None or months is not None
    has_dt = any(x is not None for x in (days, hours, minutes, seconds))
    if has_ym and has_dt:
        raise ValueError(f"a FEEL duration is either years-and-months or days-and-time, not both: {text!r}")
    if has_ym:
        return YearMonthDuration(sign * (int(years or 0) * 12 + int(months or 0)))
    whole, _, fraction = (seconds or "0").partition(".")
    micro_part, nanos = split_fraction(fraction)
    micros = int(whole) * 1_000_000 + micro_part
    try:
        value = _dt.timedelta(
            days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0), microseconds=micros
        )
    except OverflowError as exc:
        raise ValueError(f"duration too large: {text!r}") from exc
    if nanos:  # below the microsecond: kept with the same sign as the duration
        value = with_nanos(-value if sign < 0 else value, sign * nanos)
        return value  # type: ignore[no-any-return]
    return -value if sign < 0 else value


def parse_temporal_literal(text: str) -> Any:
    """Interpret the string of an ``@"…"`` literal: duration, date and time, date or time."""
    if text.startswith(("P", "-P")):
        return parse_duration(text)
    if "T" in text:
        return parse_date_and_time(text)
    if _DATE.fullmatch(text):
        return parse_date(text)
    if ":" in text:
        return parse_time(text)
    raise ValueError(f"not a FEEL temporal literal: {text!r}")


# --------------------------------------------------------------------------- formatting


def format_number(value: Decimal) -> str:
    """A number without exponent and without trailing zeros (``1.10`` → ``1.1``, ``1E+2`` → ``100``)."""
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(FEEL_DECIMAL), "f")
    return "0" if text in ("-0", "0") else text


def _format_zone(tz: _dt.tzinfo | None, offset: _dt.timedelta | None) -> str:
    if tz is None:
        return ""
    if isinstance(tz, ZoneInfo):
        return "@" + tz.key
    if offset is None:
        return ""
    if offset == _dt.timedelta(0):
        return "Z"
    sign = "-" if offset < _dt.timedelta(0) else "+"
    total = abs(int(offset.total_seconds()))
    hh, rest = divmod(total, 3600)
    mm, ss = divmod(rest, 60)
    return f"{sign}{hh:02d}:{mm:02d}" + (f":{ss:02d}" if ss else "")


def _format_clock(hour: int, minute: int, second: int, micro: int, nanos: int = 0) -> str:
    text = f"{hour:02d}:{minute:02d}:{second:02d}"
    if micro or nanos:
        text += ("." + f"{micro:06d}{nanos:03d}").rstrip("0")
    return text


def format_date(value: _dt.date | FeelDate) -> str:
    """ISO ``YYYY-MM-DD`` (``-YYYY`` for years before 0, more digits after 9999)."""
    year = value.year
    sign = "-" if year < 0 else ""
    return f"{sign}{abs(year):04d}-{value.month:02d}-{value.day:02d}"


def format_time(value: _dt.time) -> str:
    """``hh:mm:ss[.fff]`` plus ``Z``, ``±hh:mm`` or ``@Zone``."""
    offset = value.utcoffset() if not isinstance(value.tzinfo, ZoneInfo) else None
    clock = _format_clock(value.hour, value.minute, value.second, value.microsecond, nanos_of(value))
    return clock + _format_zone(value.tzinfo, offset)


def format_date_and_time(value: _dt.datetime | FeelDateTime) -> str:
    """``YYYY-MM-DDThh:mm:ss[.fff]`` plus the zone suffix, if any."""
    t = value.time if isinstance(value, FeelDateTime) else value
    offset = value.time.utcoffset() if isinstance(value, FeelDateTime) else value.utcoffset()
    clock = _format_clock(t.hour, t.minute, t.second, t.microsecond, nanos_of(t))
    return f"{format_date(ext.date_of(value))}T{clock}{_format_zone(value.tzinfo, offset)}"


def format_duration(value: _dt.timedelta | YearMonthDuration) -> str:
    """``P1Y2M`` / ``P1DT2H3M4.5S`` / ``PT0S`` / ``P0M``, negative with a leading ``-``."""
    if isinstance(value, YearMonthDuration):
        sign = "-" if value.months < 0 else ""
        years, months = divmod(abs(value.months), 12)
        if years and months:
            return f"{sign}P{years}Y{months}M"
        return f"{sign}P{years}Y" if years else f"{sign}P{months}M"
    total = value // _MICRO
    nanos = abs(nanos_of(value))
    sign = "-" if total < 0 or nanos_of(value) < 0 else ""
    total = abs(total)
    seconds_total, micro = divmod(total, 1_000_000)
    days, rest = divmod(seconds_total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}P" + (f"{days}D" if days else "")
    clock = ""
    if hours:
        clock += f"{hours}H"
    if minutes:
        clock += f"{minutes}M"
    if seconds or micro or nanos:
        sec = str(seconds) + ((f".{micro:06d}{nanos:03d}").rstrip("0") if micro or nanos else "")
        clock += f"{sec}S"
    if clock:
        text += "T" + clock
    elif not days:
        text += "T0S"
    return text


def _format_range_end(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, (_dt.date, _dt.time, _dt.timedelta, YearMonthDuration, FeelDate, FeelDateTime)):
        return '@"' + to_feel_string(value) + '"'
    return to_feel_string(value)


def _format_nested(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return to_feel_string(value)


def to_feel_string(value: Any) -> str:
    """FEEL ``string(value)``: the spec's textual form of any FEEL value (``null`` for None)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, (int, float)):
        return format_number(Decimal(repr(value)) if isinstance(value, float) else Decimal(value))
    if isinstance(value, (_dt.datetime, FeelDateTime)):
        return format_date_and_time(value)
    if isinstance(value, (_dt.date, FeelDate)):
        return format_date(value)
    if isinstance(value, _dt.time):
        return format_time(value)
    if isinstance(value, (_dt.timedelta, YearMonthDuration)):
        return format_duration(value)
    if isinstance(value, Range):
        return _format_range(value)
    if isinstance(value, list):
        return "[" + ", ".join(_format_nested(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_format_nested(v)}" for k, v in value.items()) + "}"
    names = getattr(value, "parameter_names", None)
    if isinstance(names, tuple):
        return "function(" + ", ".join(str(n) for n in names) + ")"
    return str(value)


def _format_range(value: Range) -> str:
    if value.operator is not None:
        return f"{value.operator} {_format_range_end(value.start)}"
    if value.start is None and value.end is None:
        return "[..]"
    if value.start is None:
        return ("<= " if value.end_included else "< ") + _format_range_end(value.end)
    if value.end is None:
        return (">= " if value.start_included else "> ") + _format_range_end(value.start)
    left = "[" if value.start_included else "("
    right = "]" if value.end_included else ")"
    return f"{left}{_format_range_end(value.start)}..{_format_range_end(value.end)}{right}"
