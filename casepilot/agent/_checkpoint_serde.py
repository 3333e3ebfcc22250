"""The checkpointer's serializer: LangGraph's own, with a way out for values msgpack refuses.

Why: LangGraph serialises the loop's state with msgpack, which refuses integers beyond 64
bits and containers nested 255 levels deep or more. The loop's state carries the case file
(the observation the planner reads), so one such value from a tool, a document or the Python
API made every later checkpoint of the case fail — a case stored and never workable again.
The store keeps those values (JSON text), so the checkpointer must too.

How: msgpack first (fast, and what every existing checkpoint holds); a value msgpack refuses
is written as JSON instead under a type tag of our own, which keeps integers of any size and
nests as deep as Python's JSON does. Leaves that are not plain JSON (LangGraph's own objects,
``Decimal``…) are wrapped, each packed by LangGraph's msgpack; dictionaries whose keys are not
all text, or that look like a wrapper, are written as pairs, so loading gives back exactly
what was written. A state even JSON cannot hold (nested deeper than the interpreter's
recursion allows) raises ``CheckpointTooDeep`` saying so, rather than a bare ``TypeError``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import ormsgpack
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

__all__ = ["JSON_TAG", "CheckpointTooDeep", "KeepingSerializer"]

JSON_TAG = "casepilot-json"
"""The type tag of a checkpoint value written as JSON (stored beside it by every saver)."""

_PACKED = "__casepilot_msgpack__"
_PAIRS = "__casepilot_pairs__"
_PLAIN = (str, int, float, bool, type(None))


class CheckpointTooDeep(ValueError):
    """The loop's state is nested too deeply to be written even as JSON."""


class KeepingSerializer(JsonPlusSerializer):
    """``JsonPlusSerializer`` that falls back to JSON where msgpack refuses a value."""

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        try:
            return super().dumps_typed(obj)
        except ormsgpack.MsgpackEncodeError:
            pass
        try:
            return JSON_TAG, json.dumps(self._tree(obj), separators=(",", ":")).encode("ascii")
        except RecursionError as exc:
            raise CheckpointTooDeep(
                "the loop's state is nested too deeply to checkpoint (even as JSON); keep case-file "
                "values flatter (casepilot's API takes at most 64 levels)") from exc

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        type_, payload = data
        if type_ == JSON_TAG:
            return json.loads(payload, object_hook=self._revive)
        return super().loads_typed(data)

    def _tree(self, value: Any) -> Any:
        """``value`` as plain JSON data; anything else is a wrapped msgpack leaf."""
        if isinstance(value, _PLAIN):
            return value
        if isinstance(value, list | tuple):
            return [self._tree(item) for item in value]
        if isinstance(value, dict):
            if all(isinstance(key, str) for key in value) and not ({_PACKED, _PAIRS} & value.keys()):
                return {key: self._tree(item) for key, item in value.items()}
            return {_PAIRS: [[self._tree(key), self._tree(item)] for key, item in value.items()]}
        type_, packed = super().dumps_typed(value)
        return {_PACKED: [type_, base64.b64encode(packed).decode("ascii")]}

    def _revive(self, obj: dict[str, Any]) -> Any:
        if len(obj) == 1 and _PACKED in obj:
            type_, packed = obj[_PACKED]
            return super().loads_typed((type_, base64.b64decode(packed)))
        if len(obj) == 1 and _PAIRS in obj:
            return {_hashable(key): item for key, item in obj[_PAIRS]}
        return obj


def _hashable(key: Any) -> Any:
    """A key written as a list (a tuple key) back as a tuple."""
    return tuple(_hashable(part) for part in key) if isinstance(key, list) else key
