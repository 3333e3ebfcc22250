"""Values crossing between process data and FEEL.

Process data is plain JSON (it is persisted at every wait state), FEEL works on Decimals,
dates and durations. Numbers come back as int when integral, else float; temporal values
come back as their ISO text (what timer definitions and JSON both expect).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from casepilot.dmn.feel import to_feel_string

__all__ = ["to_plain"]


def to_plain(value: Any) -> Any:
    """A FEEL result as a JSON-safe Python value."""
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return to_feel_string(value)
    text = to_feel_string(value)
    return text
