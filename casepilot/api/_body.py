"""JSON request bodies casepilot can keep: parsed strictly and checked before any endpoint runs.

Why a check of our own: Python's ``json`` module (which FastAPI parses bodies with) accepts
values that casepilot cannot store or run, and each of them used to end in a 500 — or worse,
in a case that was written and can never run again:

- a lone UTF-16 surrogate (``"\\ud800"``) is a valid JSON escape but no Unicode character:
  it cannot be encoded as UTF-8, so the PII detector, the store's canonical JSON (the hash
  chain) and PostgreSQL all fail on it;
- an integer beyond 64 bits is valid JSON, and the store keeps it (JSON text), but the
  agent's LangGraph checkpointer serialises with msgpack, which refuses it: the case is
  stored and every later run fails;
- nesting deeper than the serialisers' limits (msgpack and pydantic stop near 255 levels)
  does the same;
- a NUL character is refused by PostgreSQL in any text it is given — a column or a query
  parameter (``GET /cases?business_key=%00``) — and kept by SQLite: the two backends must not
  disagree about what a case may hold or what a lookup finds;
- ``NaN``/``Infinity`` are not JSON at all (RFC 8259), and a number too large for a
  double (``1e400``) becomes infinity: both were silently stored as ``null``.

So every JSON body of the API is parsed here first and refused as a whole — 400 when it is
not JSON, 422 naming each value casepilot cannot keep — before anything reads or writes it;
path and query parameters are held to the same rule for text (``check_params``).
Routers opt in with ``route_class=JsonRoute``; the web page's forms use ``check_value`` on
the JSON text and form fields they take. ``publish_limits`` writes the same rules into the
OpenAPI document (numbers within 64 bits, text without NUL), so the schema a client
reads accepts exactly what the service keeps.
"""

from __future__ import annotations

import email.message
import json
import math
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from casepilot.agent._keepable import MAX_DEPTH  # one limit for bodies and tool results
from casepilot.api.access import require_signed_in
from casepilot.api.errors import ApiError, printable

__all__ = [
    "INT_MAX",
    "INT_MIN",
    "MAX_DEPTH",
    "JsonRoute",
    "check_params",
    "check_value",
    "parse_json_body",
    "publish_limits",
    "value_problems",
]

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
"""Signed 64-bit: what msgpack (the checkpointer), PostgreSQL's ``bigint`` and most JSON
clients hold exactly. Larger numbers travel as strings. The bound holds for every number,
written with a fraction or not: JSON Schema counts ``1e300`` as an integer, and the published
schema must not accept what the service refuses."""


_MAX_LISTED = 20
"""Problems listed one by one; the rest are counted (a body of a million bad values must not
make a million-line answer)."""

_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


class _NotJson(ValueError):
    """Raised from ``json.loads``' hook for the non-JSON constants NaN, Infinity, -Infinity."""


def _refuse_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number; send a number, null or a string")


def parse_json_body(raw: bytes) -> Any:
    """The JSON value of a request body, or ``ApiError`` 400 (not JSON) / 422 (values casepilot cannot keep)."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except _NotJson as exc:
        raise _not_json(str(exc)) from exc
    except json.JSONDecodeError as exc:
        raise _not_json(f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    except UnicodeDecodeError as exc:
        raise _not_json(f"it is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except RecursionError as exc:
        raise _unkeepable([f"body: nested deeper than {MAX_DEPTH} levels; flatten it"]) from exc
    problems = value_problems(value, "body")
    if problems:
        raise _unkeepable(problems)
    return value


def check_value(value: Any, where: str) -> None:
    """Refuse (``ApiError`` 422) a parsed value that holds something casepilot cannot keep."""
    problems = value_problems(value, where)
    if problems:
        raise _unkeepable(problems)


def check_params(request: Request) -> None:
    """Refuse (``ApiError`` 422) path and query parameters whose text casepilot cannot look up (a NUL)."""
    problems = [f"path.{name}: {problem}" for name, value in request.path_params.items()
                if isinstance(value, str) and (problem := _text_problem(value)) is not None]
    problems += [f"query.{printable(name)}: {problem}" for name, value in request.query_params.multi_items()
                 if (problem := _text_problem(name) or _text_problem(value)) is not None]
    if problems:
        raise _unkeepable(problems)


def _not_json(reason: str) -> ApiError:
    return ApiError(400, "InvalidJSON", f"the request body is not valid JSON: {reason}. Send one JSON "
                    "document (RFC 8259) in UTF-8 with content-type application/json", [reason])


def _unkeepable(problems: list[str]) -> ApiError:
    return ApiError(422, "ValidationError", "the request holds values casepilot cannot keep: "
                    + "; ".join(problems), problems)


def value_problems(value: Any, where: str) -> list[str]:
    """Every place in ``value`` casepilot cannot keep, as ``"<path>: <what to do>"`` (document order).

    Walks iteratively, so a deeply nested value cannot exhaust the interpreter's stack.
    """
    found: list[str] = []
    extra = 0
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        problem: str | None = None
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                problem = f"nested deeper than {MAX_DEPTH} levels; flatten it"
            elif isinstance(item, dict):
                children: list[tuple[Any, str, int]] = []
                for key, child in item.items():
                    child_path = f"{path}.{printable(key)}"
                    if _BAD_TEXT.search(key):
                        children.append((key, f"{child_path} (the name)", depth + 1))
                    children.append((child, child_path, depth + 1))
                stack.extend(reversed(children))
            else:
                stack.extend((child, f"{path}.{index}", depth + 1) for index, child in reversed(list(enumerate(item))))
        elif isinstance(item, str):
            problem = _text_problem(item)
        elif isinstance(item, bool):
            pass
        elif isinstance(item, float) and not math.isfinite(item):
            problem = ("the number is not finite (NaN, Infinity, or too large for a 64-bit float); "
                       "send it as a string")
        elif isinstance(item, int | float) and not INT_MIN <= item <= INT_MAX:
            problem = (f"the number {_short(item)} is outside the 64-bit range ({INT_MIN} to {INT_MAX}) "
                       "that casepilot keeps; send it as a string")
        if problem is not None:
            if len(found) < _MAX_LISTED:
                found.append(f"{path}: {problem}")
            else:
                extra += 1
    if extra:
        found.append(f"… and {extra} more like these")
    return found


def _text_problem(text: str) -> str | None:
    bad = _BAD_TEXT.search(text)
    if bad is None:
        return None
    if bad.group() == "\x00":
        return "contains a NUL character (\\u0000), which the store cannot keep; remove it"
    return (f"contains a lone UTF-16 surrogate ({printable(bad.group())}), which is no Unicode character; "
            "send the character itself (UTF-8) or, escaped, as a complete surrogate pair")


def _short(number: float) -> str:
    digits = str(number)
    return digits if len(digits) <= 30 else f"{digits[:12]}…({len(digits)} digits)"


NUL_FREE = "^[^\\x00]*$"
"""JSON Schema pattern of text casepilot keeps (a lone surrogate is not text in JSON Schema's
sense, so only NUL needs saying)."""

KEPT_VALUE = "KeptJsonValue"
"""The component a free-form request value (``variables``) is published as."""


def publish_limits(openapi: dict[str, Any]) -> dict[str, Any]:
    """Write what ``value_problems`` refuses into the request schemas of an OpenAPI document.

    Every schema a request body or parameter refers to gets: text without NUL (``pattern``,
    keys too), numbers within 64 bits, and ``KeptJsonValue`` (a recursive JSON value under
    the same rules) for free-form values. Changes ``openapi`` in place and returns it. Nesting depth
    is not stated: JSON Schema has no word for it short of unrolling 64 levels.
    """
    components: dict[str, Any] = openapi.setdefault("components", {}).setdefault("schemas", {})
    ref = f"#/components/schemas/{KEPT_VALUE}"
    components[KEPT_VALUE] = {
        "description": "Any JSON value casepilot keeps: text without NUL, numbers within 64 bits, "
                       f"nested at most {MAX_DEPTH} levels.",
        "anyOf": [
            {"type": "string", "pattern": NUL_FREE},
            {"type": "number", "minimum": INT_MIN, "maximum": INT_MAX},
            {"type": "boolean"},
            {"type": "null"},
            {"type": "array", "items": {"$ref": ref}},
            {"type": "object", "propertyNames": {"pattern": NUL_FREE}, "additionalProperties": {"$ref": ref}},
        ],
    }
    operations = [operation for path in openapi.get("paths", {}).values() for operation in path.values()
                  if isinstance(operation, dict)]
    pending: list[Any] = [operation["requestBody"] for operation in operations if "requestBody" in operation]
    pending += [parameter["schema"] for operation in operations for parameter in operation.get("parameters", [])
                if "schema" in parameter]
    seen: set[str] = {KEPT_VALUE}
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        target = node.get("$ref")
        if isinstance(target, str) and target.startswith("#/components/schemas/"):
            name = target.rsplit("/", 1)[1]
            if name not in seen and name in components:
                seen.add(name)
                pending.append(components[name])
            continue
        _limit(node, ref)
        pending.extend(value for key, value in node.items() if key not in ("examples", "example", "default"))
    return openapi


def _limit(schema: dict[str, Any], kept_ref: str) -> None:
    kind = schema.get("type")
    if kind == "string" and "pattern" not in schema and "format" not in schema:
        schema["pattern"] = NUL_FREE
    elif kind in ("integer", "number"):
        schema["minimum"] = max(schema.get("minimum", INT_MIN), INT_MIN)
        schema["maximum"] = min(schema.get("maximum", INT_MAX), INT_MAX)
    elif kind == "object":
        if schema.get("additionalProperties") in (True, {}):
            schema["additionalProperties"] = {"$ref": kept_ref}
        if "patternProperties" not in schema and schema.get("additionalProperties") is not False:
            schema.setdefault("propertyNames", {"pattern": NUL_FREE})


def _is_json(content_type: str | None) -> bool:
    """The content types FastAPI parses as JSON (``application/json`` and ``application/*+json``)."""
    if not content_type:
        return False  # FastAPI's strict content type: a body without one is not parsed as JSON
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


class JsonRoute(APIRoute):
    """An API route whose parameters (``check_params``) and JSON body (``parse_json_body``) are
    checked before FastAPI parses them.

    The sign-in check runs first (as the app-wide dependency would), so an anonymous request
    behind a sign-on proxy gets 401 whatever its body holds and learns nothing about it.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def checked(request: Request) -> Response:
            require_signed_in(request)
            check_params(request)
            if _is_json(request.headers.get("content-type")):
                raw = await request.body()  # kept by the request: FastAPI reads it from there again
                if raw:
                    parse_json_body(raw)
            return await handle(request)

        return checked
