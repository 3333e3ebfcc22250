"""Recognise the timer expressions casepilot can schedule.

CMMN 1.1 (ch. 5 EventListener) leaves the timer language open; models in the wild write ISO-8601:
durations (``PT1H``), date-times (``2025-01-31T09:00:00Z``), repeating intervals
(``R3/PT1H``, ``R/2025-01-01T00:00:00Z/P1D``) and intervals, or an expression
(``${…}`` / FEEL) computed when the timer starts. Quartz cron lines are Flowable's own
and are reported separately so the refusal can name them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

__all__ = ["TimerForm", "classify_timer"]

TimerForm = Literal["duration", "date-time", "repeat", "interval", "expression", "cron", "invalid"]

_DURATION = re.compile(
    r"^P(?!$)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?W)?(?:\d+(?:[.,]\d+)?D)?"
    r"(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?$"
)
_REPEAT = re.compile(r"^R(\d*)/(.+)$")
_CRON = re.compile(r"^(?:\S+\s+){5,6}\S+$")
_LOOKS_ISO = re.compile(r"^(?:P|R\d*/|\d{4}-)")


def _is_duration(text: str) -> bool:
    return bool(_DURATION.match(text)) and not text.endswith("T")


def _is_datetime(text: str) -> bool:
    if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        return False
    return True


def _is_interval(text: str) -> bool:
    parts = text.split("/")
    if len(parts) != 2:
        return False
    start, end = parts
    return (
        (_is_datetime(start) and (_is_duration(end) or _is_datetime(end)))
        or (_is_duration(start) and _is_datetime(end))
    )


def classify_timer(body: str) -> TimerForm:
    """Which form a timer expression takes.

    ``expression`` covers ``${…}`` and anything that is not an attempt at ISO-8601 (FEEL, to be
    compiled by the caller); ``invalid`` is a malformed ISO-8601 form.
    """
    text = body.strip()
    if not text:
        return "invalid"
    if text.startswith(("${", "#{")) and text.endswith("}"):
        return "expression"
    if _is_duration(text):
        return "duration"
    if _is_datetime(text):
        return "date-time"
    repeat = _REPEAT.match(text)
    if repeat is not None:
        rest = repeat.group(2)
        return "repeat" if _is_duration(rest) or _is_interval(rest) else "invalid"
    if _is_interval(text):
        return "interval"
    if _CRON.match(text):
        return "cron"
    if _LOOKS_ISO.match(text):
        return "invalid"  # an attempt at ISO-8601 that failed: never re-read as a FEEL name
    return "expression"
