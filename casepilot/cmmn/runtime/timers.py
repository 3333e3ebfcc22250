"""Timer expressions of timer event listeners (ch. 5 EventListener): ISO-8601 durations, date-times and
repeating intervals ``R[n]/…``.

The runtime has no clock: a timer gets a due time when it starts counting (at creation, or
when its start trigger's event happens) and occurs when the caller's ``advance_to(now)``
reaches it. ``R3/PT1H`` occurs three times an hour apart, ``R/PT1H`` without end.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from casepilot.dmn.feel.temporal import parse_date_and_time
from casepilot.dmn.feel.values import YearMonthDuration

__all__ = ["Period", "TimerSchedule", "add_period", "parse_duration_text", "parse_timer", "period_of"]

Period = tuple[int, dt.timedelta]
"""A calendar-aware duration: (months, exact part)."""

_DURATION = re.compile(
    r"(?P<neg>-)?P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+(?:[.,]\d+)?)S)?)?"
)


@dataclass(frozen=True, slots=True)
class TimerSchedule:
    """When a timer first occurs and how it repeats."""

    first: dt.datetime
    period: Period | None = None
    repeats: int | None = 1
    """Total number of occurrences; ``None`` means unbounded (``R/…``)."""


def parse_duration_text(text: str) -> Period:
    """Parse an ISO-8601 duration (years/months may be mixed with days/time, unlike FEEL)."""
    t = text.strip()
    m = _DURATION.fullmatch(t)
    if m is None or t.endswith(("P", "T")) or t in ("-P",):
        raise ValueError(f"not an ISO-8601 duration (e.g. PT1H, P1D, P1M): {text!r}")
    sign = -1 if m.group("neg") else 1
    months = int(m.group("y") or 0) * 12 + int(m.group("mo") or 0)
    seconds = float((m.group("s") or "0").replace(",", "."))
    exact = dt.timedelta(
        weeks=int(m.group("w") or 0),
        days=int(m.group("d") or 0),
        hours=int(m.group("h") or 0),
        minutes=int(m.group("mi") or 0),
        seconds=seconds,
    )
    return (sign * months, exact if sign > 0 else -exact)


def add_period(moment: dt.datetime, period: Period) -> dt.datetime:
    """``moment`` plus a calendar-aware period (month ends are clamped: Jan 31 + P1M = Feb 28/29)."""
    months, exact = period
    if months:
        total = moment.year * 12 + (moment.month - 1) + months
        year, month = divmod(total, 12)
        day = min(moment.day, calendar.monthrange(year, month + 1)[1])
        moment = moment.replace(year=year, month=month + 1, day=day)
    return moment + exact


def _moment(text: str, like: dt.datetime) -> dt.datetime:
    """An ISO-8601 date-time; without a zone it is read in the case clock's zone.

    ``datetime.fromisoformat`` takes every ISO-8601 extended form, minutes-only
    (``2017-12-05T10:00``, used by Flowable's TimerEventListenerTest#testDateExpression)
    included; FEEL's parser is the fallback for ``@zone`` forms.
    """
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        parsed = parse_date_and_time(text.strip().replace("z", "Z"))
        if not isinstance(parsed, dt.datetime):  # a year outside 1..9999
            raise ValueError(f"timer date-time out of range: {text!r}") from None
        value = parsed
    if value.tzinfo is None and like.tzinfo is not None:
        value = value.replace(tzinfo=like.tzinfo)
    return value


def period_of(value: object) -> Period | None:
    """A FEEL duration value (``timedelta`` / ``YearMonthDuration``) as a period."""
    if isinstance(value, dt.timedelta):
        return (0, value)
    if isinstance(value, YearMonthDuration):
        return (value.months, dt.timedelta())
    return None


def parse_timer(text: str, start: dt.datetime) -> TimerSchedule:
    """Schedule of a timer expression that starts counting at ``start``.

    Accepts ``PT1H`` (duration), ``2025-01-01T09:00:00Z`` (date-time), ``R3/PT1H``,
    ``R/PT1H``, ``R3/2025-01-01T09:00:00Z/PT1H`` and ``R3/PT1H/2025-01-01T09:00:00Z``.
    """
    t = text.strip()
    if t.startswith("R"):
        head, _, rest = t.partition("/")
        count = head[1:]
        repeats = int(count) if count else None
        parts = rest.split("/")
        if len(parts) == 1:
            period = parse_duration_text(parts[0])
            return TimerSchedule(add_period(start, period), period, repeats)
        if len(parts) == 2 and parts[0].lstrip("-").startswith("P"):
            period = parse_duration_text(parts[0])
            end = _moment(parts[1], start)
            n = repeats or 1
            first = end
            for _ in range(n - 1):
                first = add_period(first, (-period[0], -period[1]))
            return TimerSchedule(max(first, add_period(start, period)), period, repeats)
        if len(parts) == 2:
            period = parse_duration_text(parts[1])
            return TimerSchedule(_moment(parts[0], start), period, repeats)
        raise ValueError(f"not an ISO-8601 repeating interval: {text!r}")
    if t.lstrip("-").startswith("P"):
        return TimerSchedule(add_period(start, parse_duration_text(t)))
    return TimerSchedule(_moment(t, start))
