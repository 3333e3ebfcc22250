"""Plain run-time data of plan-item instances, and the JSON codec for variable values.

An ``ItemInstance`` holds only data (ids, states, sentry memory, timer due time) and refers to
the definition by element id; the definition itself never changes (DESIGN.md, example 1).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from casepilot.dmn.feel.values import YearMonthDuration

__all__ = ["ItemInstance", "decode_value", "encode_value"]


@dataclass(slots=True)
class ItemInstance:
    """One instance of a plan item (or of the case plan model: the root)."""

    id: str
    element: str
    """Plan item, discretionary item or case plan model id."""
    parent: str | None
    state: str
    born: int = 0
    """Sequence number of the last event dispatched before this instance existed: it never
    reacts to that event or earlier ones (a repetition does not see the event that made it)."""
    required: bool = False
    prior: str | None = None
    """State before ``parentSuspend``, restored by ``parentResume``."""
    memory: dict[str, list[int]] = field(default_factory=dict)
    """Sentry id -> indices of its on-parts that have occurred for this instance."""
    children: list[str] = field(default_factory=list)
    due: str | None = None
    """Timer listeners: ISO time of the next occurrence once counting has started."""
    repeats: int | None = None
    """Timer listeners: occurrences left including the pending one (``None`` = unbounded)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data (keys with default values are left out to keep snapshots small)."""
        out: dict[str, Any] = {
            "id": self.id,
            "element": self.element,
            "parent": self.parent,
            "state": self.state,
        }
        if self.born:
            out["born"] = self.born
        if self.required:
            out["required"] = True
        if self.prior is not None:
            out["prior"] = self.prior
        memory = {k: v for k, v in self.memory.items() if v}
        if memory:
            out["memory"] = {k: list(v) for k, v in sorted(memory.items())}
        if self.children:
            out["children"] = list(self.children)
        if self.due is not None:
            out["due"] = self.due
            out["repeats"] = self.repeats
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ItemInstance:
        """Inverse of :meth:`to_dict`."""
        return cls(
            id=str(data["id"]),
            element=str(data["element"]),
            parent=data.get("parent"),
            state=str(data["state"]),
            born=int(data.get("born", 0)),
            required=bool(data.get("required", False)),
            prior=data.get("prior"),
            memory={str(k): [int(i) for i in v] for k, v in data.get("memory", {}).items()},
            children=[str(c) for c in data.get("children", [])],
            due=data.get("due"),
            repeats=data.get("repeats"),
        )


def encode_value(value: Any) -> Any:
    """A variable value as JSON data; FEEL types the JSON model lacks get a ``{"$type": …}`` tag."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return {"$float": repr(value)}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$duration": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, YearMonthDuration):
        return {"$months": value.months}
    if isinstance(value, list | tuple):
        return [encode_value(v) for v in value]
    if isinstance(value, dict):
        encoded = {str(k): encode_value(v) for k, v in value.items()}
        if len(encoded) == 1 and next(iter(encoded)).startswith("$"):
            return {"$object": encoded}
        return encoded
    raise TypeError(f"case variable value of type {type(value).__name__} cannot be stored: {value!r}")


_DECODERS: dict[str, Any] = {
    "$float": float,
    "$decimal": Decimal,
    "$datetime": dt.datetime.fromisoformat,
    "$date": dt.date.fromisoformat,
    "$time": dt.time.fromisoformat,
    "$duration": lambda v: dt.timedelta(days=v[0], seconds=v[1], microseconds=v[2]),
    "$months": YearMonthDuration,
}


def decode_value(data: Any) -> Any:
    """Inverse of :func:`encode_value`."""
    if isinstance(data, list):
        return [decode_value(v) for v in data]
    if isinstance(data, dict):
        if len(data) == 1:
            key, raw = next(iter(data.items()))
            if key == "$object":
                return {k: decode_value(v) for k, v in raw.items()}
            decoder = _DECODERS.get(key)
            if decoder is not None:
                return decoder(raw)
        return {k: decode_value(v) for k, v in data.items()}
    return data
