"""Context functions (DMN 1.5 §10.3.4.10). Contexts are values: nothing is mutated."""

from __future__ import annotations

from typing import Any

from ._core import BuiltinArgumentError, builtin
from ._support import need_context, need_list, need_string, type_name

__all__: list[str] = []


@builtin("get value", "m", "key")
def _get_value(m: Any, key: Any) -> Any:
    return need_context(m, "m").get(need_string(key, "key"))


@builtin("get entries", "m")
def _get_entries(m: Any) -> list[dict[str, Any]]:
    return [{"key": k, "value": v} for k, v in need_context(m, "m").items()]


@builtin("context", "entries")
def _context(entries: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for entry in need_list(entries, "entries"):
        if not isinstance(entry, dict):
            raise BuiltinArgumentError(
                f"each entry must be a context with key and value, got {type_name(entry)}"
            )
        if "key" not in entry or "value" not in entry:
            raise BuiltinArgumentError("each entry must have a 'key' and a 'value'")
        key = entry["key"]
        if not isinstance(key, str):
            raise BuiltinArgumentError(f"an entry key must be a string, got {type_name(key)}")
        if key in out:
            raise BuiltinArgumentError(f"duplicate key {key!r}")
        out[key] = entry["value"]
    return out


def _put(context: dict[str, Any], keys: list[Any], value: Any) -> dict[str, Any]:
    key = keys[0]
    if not isinstance(key, str):
        raise BuiltinArgumentError(f"keys must be strings, got {type_name(key)}")
    out = dict(context)
    if len(keys) == 1:
        out[key] = value
        return out
    inner = context.get(key)
    if not isinstance(inner, dict):
        raise BuiltinArgumentError(f"the value at key {key!r} is not a context")
    out[key] = _put(inner, keys[1:], value)
    return out


def _key_is_list(args: Any) -> bool:
    return isinstance(args[1], list)


def _key_not_list(args: Any) -> bool:
    return not isinstance(args[1], list)


@builtin("context put", "context", "key", "value", guard=_key_not_list)
def _context_put(context: Any, key: Any, value: Any) -> dict[str, Any]:
    return _put(need_context(context, "context"), [need_string(key, "key")], value)


@builtin("context put", "context", "keys", "value", guard=_key_is_list)
def _context_put_path(context: Any, keys: Any, value: Any) -> dict[str, Any]:
    path = need_list(keys, "keys")
    if not path:
        raise BuiltinArgumentError("keys must not be empty")
    return _put(need_context(context, "context"), path, value)


@builtin("context merge", "contexts")
def _context_merge(contexts: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for ctx in need_list(contexts, "contexts"):
        out.update(need_context(ctx, "each of contexts"))
    return out
