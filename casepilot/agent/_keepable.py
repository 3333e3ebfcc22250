"""A tool's result in a form every layer keeps, or a clear reason why it cannot be kept.

Why: a tool's result goes into the case file, the history's hash chain (canonical UTF-8
JSON), the store (PostgreSQL refuses a NUL in any text), the loop's checkpoint and, later,
API responses. The API refuses such values at its door (``casepilot.api._body``); a tool is
no door, and one bad value in its result made the case fail on every later step. So, before
anything records a result:

- text that is not Unicode (a lone UTF-16 surrogate) or that the store cannot keep (NUL) has
  those characters replaced with U+FFFD, in values and keys alike, and the places are named
  so the history shows what was changed;
- a float that is not a number (NaN, ±Infinity) becomes null, as ``privacy.jsonable`` makes
  it elsewhere (canonical JSON, and so the hash chain, refuses it);
- containers nested deeper than ``MAX_DEPTH`` are refused (``Unkeepable``): the call is then
  recorded as failed with that reason, and the case goes on. Deeper data cannot be shown by
  the API (its serialiser stops near 250 levels) and is refused there as input too.

Integers of any size are kept — the store keeps them and so does the checkpointer
(``_checkpoint_serde``) — up to the length Python will write as text (4,300 digits by
default; beyond that, ``Unkeepable``).
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_DEPTH", "REPLACEMENT", "Kept", "Unkeepable", "keepable", "keepable_text"]

MAX_DEPTH = 64
"""Containers nested deeper than this are not kept: far beyond any case file, far below the
~250 levels where the checkpointer's msgpack and the API's response serialiser give up."""

REPLACEMENT = "\ufffd"
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
_MAX_NAMED = 20
_MAX_INT_BITS = 12_000
"""Integers this long may pass Python's limit on writing them as text (4,300 digits by default)."""


class Unkeepable(ValueError):
    """A value casepilot cannot keep; the message says where and what the tool should do."""


@dataclass(frozen=True)
class Kept:
    """The keepable value and the places that were changed to make it so, each a JSON Pointer
    (RFC 6901) with what was done: ``"/a/0: …"``."""

    value: Any
    changed: tuple[str, ...] = ()


def keepable_text(text: str) -> str:
    """``text`` with lone surrogates and NUL characters replaced by U+FFFD."""
    return _BAD_TEXT.sub(REPLACEMENT, text)


def keepable(value: Any, *, max_depth: int = MAX_DEPTH) -> Kept:
    """``value`` made keepable (see the module's docstring); raises ``Unkeepable`` when too deep.

    Walks iteratively, so a deeply nested value cannot exhaust the interpreter's stack.
    """
    changed: list[str] = []
    root: list[Any] = [None]
    # (source value, container to put the result into, key or index there, path, depth)
    stack: list[tuple[Any, Any, Any, str, int]] = [(value, root, 0, "", 0)]
    while stack:
        item, into, slot, path, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if depth >= max_depth:
                raise Unkeepable(f"{_at(path)}: nested deeper than {max_depth} levels, which casepilot does not keep; "
                                 "have the tool return it flatter (or as text)")
            if isinstance(item, dict):
                made: dict[Any, Any] = {}
                children: list[tuple[Any, Any, Any, str, int]] = []
                for key, child in item.items():
                    new_key = key
                    if isinstance(key, str) and _BAD_TEXT.search(key):
                        new_key = keepable_text(key)
                        children.append((key, None, None, f"{path}/{_token(new_key)} (the name)", -1))
                    made[new_key] = None
                    children.append((child, made, new_key, f"{path}/{_token(new_key)}", depth + 1))
                stack.extend(reversed(children))  # popped in document order
                into[slot] = made
            else:
                made_list: list[Any] = [None] * len(item)
                stack.extend((item[i], made_list, i, f"{path}/{i}", depth + 1) for i in reversed(range(len(item))))
                into[slot] = made_list
        elif depth < 0:  # a key that was repaired: only noted
            changed.append(f"{_at(path)}: {_what(item)}")
        elif isinstance(item, str) and _BAD_TEXT.search(item):
            into[slot] = keepable_text(item)
            changed.append(f"{_at(path)}: {_what(item)}")
        elif isinstance(item, int) and item.bit_length() > _MAX_INT_BITS and _too_long(item):
            raise Unkeepable(f"{_at(path)}: a number of more than {sys.get_int_max_str_digits()} digits, which "
                             "Python will not write as text; have the tool return it as text")
        elif isinstance(item, float) and not math.isfinite(item):
            into[slot] = None
            changed.append(f"{_at(path)}: a number that is not finite ({item}), kept as null")
        else:
            into[slot] = item
    if len(changed) > _MAX_NAMED:
        changed[_MAX_NAMED:] = [f"… and {len(changed) - _MAX_NAMED} more like these"]
    return Kept(root[0], tuple(changed))


def _too_long(number: int) -> bool:
    try:
        str(number)
    except ValueError:
        return True
    return False


def _at(path: str, width: int = 60) -> str:
    if not path:
        return "the result"
    return path if len(path) <= width else path[:width] + "…"


def _token(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _what(text: str) -> str:
    kinds = {"a NUL character" if ch == "\x00" else "a lone UTF-16 surrogate" for ch in _BAD_TEXT.findall(text)}
    return " and ".join(sorted(kinds)) + " replaced with U+FFFD"
