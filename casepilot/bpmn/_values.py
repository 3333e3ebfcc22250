"""Values crossing into and out of a process: exact numbers in, JSON out.

Why: a process moves money. FEEL computes with 34-digit decimals, so process data keeps
them — a float (``1250.5`` for "1250.50", ``0.1 + 0.2 = 0.30000000000000004``) would
round an amount, or move it across a threshold, on its way to a decision or a bank.
The rules, one per direction:

* **Into process data** (:func:`to_plain`: start data, FEEL results, tool results, form
  data, message payloads): no floats. A decimal keeps its digits and scale (``1250.50``
  stays ``Decimal("1250.50")``); a whole number without a fraction part is an ``int``
  (FEEL's ``2``, a loop counter); a float becomes the decimal it prints as
  (``Decimal(repr(x))``: ``1250.5`` → ``Decimal("1250.5")``, what FEEL reads it as too);
  temporal values become their ISO text (what timer definitions and JSON both expect).
* **A tool's result** comes as JSON (a pydantic model dumped in JSON mode writes a
  ``Decimal`` field as text): :func:`typed_result` turns the fields the tool's result model
  declares as ``Decimal`` back into decimals before the process sees them.
* **Into the history** (:func:`to_history`): a decimal is written as its text
  (``"1250.50"``), as every history payload of a case writes it (``privacy.jsonable``); the
  store's canonical JSON refuses a ``Decimal`` rather than guess (``TypeError``).
* **Into the stored state** (the engine's dump and the runner's calls): SpiffWorkflow's
  tagged form ``{"typename": "Decimal", "value": "1250.50"}`` (:data:`DECIMAL_TAG`,
  :func:`encode_state` / :func:`decode_state`), which its serializer restores on load —
  the same digits and scale back, so a reloaded amount equals and prints as the original
  and the state's digest does not change with a save and load.
* **Process data's own dicts with a ``typename`` key** (a tool answering
  ``{"typename": "car", "model": "X"}``, a case file value, a DMN output, a message payload):
  the serializer reads *any* dict with a ``typename`` key as one of its tagged values, so
  such a dict stored as it is would not load (``car`` is no registered type: the process is
  stuck for good) or would load as something else (``{"typename": "Decimal", "value": "1"}``
  as a decimal). In stored state it is therefore escaped — wrapped as
  ``{"typename": "casepilot.dict", "items": {...}}`` (:data:`ESCAPED_TAG`,
  :func:`escape_data` / :func:`unescape`) — and unwrapped on load, so every JSON value
  round-trips exactly and a decimal tag is only ever one casepilot wrote. Nothing is refused:
  the data is the tool's, not ours to judge. State written before the escape (decimals
  tagged as they still are) loads as before; a dict there with a ``typename`` the
  serializer does not know loads as the plain dict it was.
"""

from __future__ import annotations

import datetime as dt
import math
import types
import typing
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel

from casepilot.dmn.feel import to_feel_string

__all__ = [
    "DECIMAL_TAG",
    "ESCAPED_TAG",
    "decode_state",
    "encode_state",
    "escape_data",
    "to_history",
    "to_plain",
    "typed_result",
    "unescape",
]

DECIMAL_TAG = "Decimal"
"""The ``typename`` of a decimal in stored process state (SpiffWorkflow's registry convention)."""

ESCAPED_TAG = "casepilot.dict"
"""The ``typename`` of an escaped dict of process data in stored state: ``{"typename": ESCAPED_TAG,
"items": <the dict, its values stored as any value is>}`` — the wrapper of a dict that has a
``typename`` key of its own, so the serializer never reads that dict as one of its tagged values."""

_TYPENAME = "typename"


def _needs_escape(value: Any) -> bool:
    """Whether ``value`` holds, at any depth, a dict with a ``typename`` key (the common case: no).

    Called for every dump on all of the process data: it recurses into containers only (no call per
    scalar)."""
    if isinstance(value, dict):
        if _TYPENAME in value:
            return True
        children: Any = value.values()
    elif isinstance(value, (list, tuple)):
        children = value
    else:
        return False
    for child in children:  # noqa: SIM110 - a loop, not any(): no generator per container on every dump
        if isinstance(child, (dict, list, tuple)) and _needs_escape(child):
            return True
    return False


def _escaped(value: Any) -> Any:
    if isinstance(value, dict):
        items = {k: _escaped(v) for k, v in value.items()}
        return {_TYPENAME: ESCAPED_TAG, "items": items} if _TYPENAME in value else items
    if isinstance(value, (list, tuple)):
        return [_escaped(v) for v in value]
    return value


def escape_data(value: Any) -> Any:
    """``value`` with every dict that has a ``typename`` key wrapped (:data:`ESCAPED_TAG`), at any depth.

    The value itself (not a copy) when nothing in it needs the wrapper, so a dump of ordinary data
    costs one read of it. Other values (decimals, dates) are left to the serializer's own tags.
    """
    return _escaped(value) if _needs_escape(value) else value


def unescape(value: Any) -> Mapping[str, Any] | None:
    """The items of an escaped dict (:func:`escape_data`), still to be restored; None for any other value."""
    if (isinstance(value, dict) and len(value) == 2 and value.get(_TYPENAME) == ESCAPED_TAG
            and isinstance(value.get("items"), dict)):
        items: Mapping[str, Any] = value["items"]
        return items
    return None


def to_plain(value: Any) -> Any:
    """A value as process data: JSON-shaped, every number an ``int`` or an exact ``Decimal``."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value.as_tuple().exponent >= 0 else value  # type: ignore[operator]
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return to_feel_string(value)
    return to_feel_string(value)


def to_history(value: Any) -> Any:
    """``value`` for a history payload: decimals as their text (exact), the rest as it is."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: to_history(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_history(v) for v in value]
    return value


def encode_state(value: Any) -> Any:
    """``value`` for the stored runner state: decimals tagged (:data:`DECIMAL_TAG`), dicts with a
    ``typename`` key escaped (:data:`ESCAPED_TAG`), the rest as it is — the form the engine's dump has."""
    if isinstance(value, Decimal):
        return {_TYPENAME: DECIMAL_TAG, "value": str(value)}
    if isinstance(value, dict):
        items = {k: encode_state(v) for k, v in value.items()}
        return {_TYPENAME: ESCAPED_TAG, "items": items} if _TYPENAME in value else items
    if isinstance(value, (list, tuple)):
        return [encode_state(v) for v in value]
    return value


def decode_state(value: Any) -> Any:
    """Inverse of :func:`encode_state`, for the runner's state and the engine's dumped data alike.

    A decimal tag whose value is no decimal, and a dict with any other ``typename`` (state written
    before dicts were escaped), are left as the dicts they are.
    """
    if isinstance(value, dict):
        items = unescape(value)
        if items is not None:
            return {k: decode_state(v) for k, v in items.items()}
        if value.get(_TYPENAME) == DECIMAL_TAG and len(value) == 2 and isinstance(value.get("value"), str):
            try:
                return Decimal(value["value"])
            except InvalidOperation:
                return value
        return {k: decode_state(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_state(v) for v in value]
    return value


def typed_result(model: type[BaseModel] | None, output: Any) -> Any:
    """A tool's JSON ``output`` with the values its result ``model`` declares as ``Decimal`` as decimals.

    Only those: other values stay as the JSON has them (a pseudonymised text, a date as text).
    A value that is not a number where the model says ``Decimal`` is left as it is.
    """
    if model is None or not isinstance(output, Mapping):
        return output
    out = dict(output)
    for name, field in model.model_fields.items():
        for key in dict.fromkeys(
            (name, field.alias or name)
        ):  # dumped by name (ToolOutcome.output) or by alias
            if key in out:
                out[key] = _typed(field.annotation, out[key])
    return out


def _typed(annotation: Any, value: Any) -> Any:
    if annotation is Decimal:
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            try:
                number = Decimal(value)
            except InvalidOperation:
                return value
            return number if number.is_finite() else value
        return value
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return typed_result(annotation, value)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _typed(args[0], value)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if arg is not type(None):
                typed = _typed(arg, value)
                if typed is not value:
                    return typed
        return value
    if origin in (list, tuple) and isinstance(value, list) and args:
        return [_typed(args[0], v) for v in value]
    if origin is dict and isinstance(value, Mapping) and len(args) == 2:
        return {k: _typed(args[1], v) for k, v in value.items()}
    return value
