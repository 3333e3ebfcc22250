"""Temporal functions (DMN 1.5 §10.3.4.6/10.3.4.8), ``is`` and ``not``, and the clock.

``now()`` and ``today()`` are the only built-ins that depend on the outside world. They
read an injectable clock so that engines and tests evaluate deterministically: a
process-wide provider (:func:`set_clock`) and, above it, a per-context override
(:func:`use_clock`, safe with threads and asyncio) — e.g. a case evaluates its rules at the
time recorded in its history, not at the time of replay.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from casepilot.dmn.feel import _extended as ext
from casepilot.dmn.feel._nanos import nanos_of
from casepilot.dmn.feel.values import FeelDate, FeelDateTime

from ._core import BuiltinArgumentError, builtin
from ._support import feel_eq, type_name

__all__ = ["Clock", "current_time", "set_clock", "use_clock"]

Clock = Callable[[], _dt.datetime]
"""Returns the current date and time (preferably zone-aware)."""


def _system_clock() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


_clock: Clock = _system_clock
_override: ContextVar[Clock | None] = ContextVar("casepilot_feel_clock", default=None)


def set_clock(provider: Clock | None) -> Clock:
    """Install the process-wide clock (None = the system clock); returns the previous one."""
    global _clock
    previous = _clock
    _clock = provider if provider is not None else _system_clock
    return previous


@contextlib.contextmanager
def use_clock(clock: Clock | _dt.datetime) -> Iterator[None]:
    """Within the block (this thread / task only), ``now()`` reads ``clock``.

    A ``datetime`` fixes the time: ``with use_clock(datetime(2024, 1, 31, tzinfo=UTC)): …``.
    """
    provider: Clock = (lambda: clock) if isinstance(clock, _dt.datetime) else clock
    token = _override.set(provider)
    try:
        yield
    finally:
        _override.reset(token)


def current_time() -> _dt.datetime:
    """What ``now()`` returns at this moment in this context."""
    provider = _override.get()
    return (provider or _clock)()


@builtin("now")
def _now() -> _dt.datetime:
    return current_time()


@builtin("today")
def _today() -> _dt.date:
    return current_time().date()


# ------------------------------------------------------------------ calendar properties

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _need_date(value: Any) -> _dt.date:
    """A native date with the same calendar facts (a 400-year shift for far years)."""
    if isinstance(value, (_dt.date, FeelDate, FeelDateTime)):
        return ext.weekday_proxy(value)
    raise BuiltinArgumentError(f"date must be a date or date and time, got {type_name(value)}")


@builtin("day of year", "date")
def _day_of_year(date: Any) -> Decimal:
    return Decimal(_need_date(date).timetuple().tm_yday)


@builtin("day of week", "date")
def _day_of_week(date: Any) -> str:
    return _DAYS[_need_date(date).weekday()]


@builtin("month of year", "date")
def _month_of_year(date: Any) -> str:
    if not isinstance(date, (_dt.date, FeelDate, FeelDateTime)):
        raise BuiltinArgumentError(f"date must be a date or date and time, got {type_name(date)}")
    return _MONTHS[date.month - 1]


@builtin("week of year", "date")
def _week_of_year(date: Any) -> Decimal:
    """ISO 8601 week number (weeks start on Monday; week 1 holds the first Thursday)."""
    return Decimal(_need_date(date).isocalendar()[1])


# ---------------------------------------------------------------------------- is / not


def _zone_id(value: _dt.time | _dt.datetime) -> Any:
    tz = value.tzinfo
    if tz is None:
        return None
    if isinstance(tz, ZoneInfo):
        return ("zone", tz.key)
    return ("offset", value.utcoffset())


@builtin("is", "value1", "value2")
def _is(value1: Any, value2: Any) -> bool:
    """Same element of the FEEL domain: same type and value, zones included (unlike ``=``)."""
    return _same(value1, value2)


def _same(value1: Any, value2: Any) -> bool:
    if value1 is None or value2 is None:
        return value1 is None and value2 is None
    if type_name(value1) != type_name(value2):
        return False
    if isinstance(value1, FeelDateTime) or isinstance(value2, FeelDateTime):
        return (
            isinstance(value1, FeelDateTime)
            and isinstance(value2, FeelDateTime)
            and value1.date == value2.date
            and _same(value1.time, value2.time)
        )
    if isinstance(value1, _dt.datetime | _dt.time):
        naive1 = value1.replace(tzinfo=None)
        naive2 = value2.replace(tzinfo=None)
        return (
            bool(naive1 == naive2)
            and nanos_of(value1) == nanos_of(value2)
            and _zone_id(value1) == _zone_id(value2)
        )
    return feel_eq(value1, value2) is True


@builtin("not", "negand")
def _not(negand: Any) -> bool:
    if not isinstance(negand, bool):
        raise BuiltinArgumentError(f"negand must be a boolean, got {type_name(negand)}")
    return not negand
