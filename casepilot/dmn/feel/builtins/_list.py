"""List functions (DMN 1.5 §10.3.4.4), without the numeric aggregates (see ``_aggregate``).

Positions are 1-based and may be negative (counted from the end); a position outside the
list is an error (null). A non-list argument where a list is expected is read as a
singleton list (§10.3.2.9.4), so ``count(5)`` is 1. Lists are never mutated: FEEL lists
are values, so every function returns a new list.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from casepilot.dmn.feel.values import FeelFunction

from ._core import MISSING, BuiltinArgumentError, builtin
from ._support import feel_eq, feel_lt, need_function, need_int, need_list, type_name

__all__ = ["distinct", "index_in"]

_HASHABLE = (str, Decimal, bool, _dt.date, type(None))


def _key(value: Any) -> tuple[type, Any] | None:
    """A hash key that respects FEEL equality, or None for values compared one by one."""
    if isinstance(value, _HASHABLE) and not isinstance(value, _dt.datetime):
        return (type(value), value)
    return None


def distinct(items: Iterable[Any]) -> list[Any]:
    """Items without FEEL-equal repeats, first occurrences kept, in order."""
    seen: set[tuple[type, Any]] = set()
    others: list[Any] = []
    out: list[Any] = []
    for item in items:
        key = _key(item)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        else:
            if any(feel_eq(item, other) is True for other in others):
                continue
            others.append(item)
        out.append(item)
    return out


def index_in(size: int, position: Any, param: str = "position") -> int:
    """A 1-based (or negative, from the end) FEEL position as a 0-based index."""
    pos = need_int(position, param)
    if pos == 0 or abs(pos) > size:
        raise BuiltinArgumentError(f"{param} {pos} is outside a list of {size} item(s)")
    return pos - 1 if pos > 0 else size + pos


@builtin("list contains", "list", "element")
def _list_contains(list_: Any, element: Any) -> bool:
    return any(feel_eq(item, element) is True for item in need_list(list_, "list"))


@builtin("count", "list")
def _count(list_: Any) -> Decimal:
    return Decimal(len(need_list(list_, "list")))


def _feel_gt(a: Any, b: Any) -> bool | None:
    return feel_lt(b, a)


def _extreme(items: list[Any], largest: bool) -> Any:
    if not items:
        raise BuiltinArgumentError("the list is empty")
    first = type(items[0])
    if (first is Decimal or first is str) and all(type(item) is first for item in items):
        # homogeneous numbers or strings: Python's order is FEEL's order
        return max(items) if largest else min(items)
    better = _feel_gt if largest else feel_lt
    best = items[0]
    for item in items[1:]:
        r = better(item, best)
        if r is None:
            raise BuiltinArgumentError(
                f"cannot compare {type_name(item)} with {type_name(best)}: the items are not comparable"
            )
        if r:
            best = item
    if len(items) == 1 and feel_lt(best, best) is None:
        raise BuiltinArgumentError(f"a {type_name(best)} has no order")
    return best


def _is_list(args: Any) -> bool:
    return isinstance(args[0], list)


@builtin("min", "list", guard=_is_list)
def _min_list(list_: Any) -> Any:
    return _extreme(need_list(list_, "list"), largest=False)


@builtin("min", "c...")
def _min_args(c: list[Any]) -> Any:
    return _extreme(c, largest=False)


@builtin("max", "list", guard=_is_list)
def _max_list(list_: Any) -> Any:
    return _extreme(need_list(list_, "list"), largest=True)


@builtin("max", "c...")
def _max_args(c: list[Any]) -> Any:
    return _extreme(c, largest=True)


def _all(items: list[Any]) -> bool | None:
    result: bool | None = True
    for item in items:
        if item is False:
            return False
        if item is not True:
            result = None
    if result is None:
        raise BuiltinArgumentError("the list holds a value that is not a boolean")
    return result


def _any(items: list[Any]) -> bool | None:
    result: bool | None = False
    for item in items:
        if item is True:
            return True
        if item is not False:
            result = None
    if result is None:
        raise BuiltinArgumentError("the list holds a value that is not a boolean")
    return result


def _all_of_list(list_: Any) -> bool | None:
    return _all(need_list(list_, "list"))


def _any_of_list(list_: Any) -> bool | None:
    return _any(need_list(list_, "list"))


# "and" / "or" are the DMN 1.1 names of "all" / "any"
for _name, _of_list, _of_args in (
    ("all", _all_of_list, _all),
    ("and", _all_of_list, _all),
    ("any", _any_of_list, _any),
    ("or", _any_of_list, _any),
):
    builtin(_name, "list", guard=_is_list)(_of_list)
    builtin(_name, "b...")(_of_args)


@builtin("sublist", "list", "start position", "length?")
def _sublist(list_: Any, start: Any, length: Any = MISSING) -> list[Any]:
    items = need_list(list_, "list")
    index = index_in(len(items), start, "start position")
    if length is MISSING:
        return items[index:]
    count = need_int(length, "length")
    if count < 0 or index + count > len(items):
        raise BuiltinArgumentError(f"length {count} from position {start} goes past the end of the list")
    return items[index : index + count]


@builtin("append", "list", "item...", variadic_min=0)
def _append(list_: Any, item: list[Any]) -> list[Any]:
    return [*need_list(list_, "list"), *item]


@builtin("concatenate", "list...", variadic_min=0)
def _concatenate(lists: list[Any]) -> list[Any]:
    out: list[Any] = []
    for i, value in enumerate(lists, 1):
        out.extend(need_list(value, f"list {i}"))
    return out


@builtin("insert before", "list", "position", "newItem")
def _insert_before(list_: Any, position: Any, newItem: Any) -> list[Any]:
    items = need_list(list_, "list")
    index = index_in(len(items), position)
    return [*items[:index], newItem, *items[index:]]


@builtin("remove", "list", "position")
def _remove(list_: Any, position: Any) -> list[Any]:
    items = need_list(list_, "list")
    index = index_in(len(items), position)
    return [*items[:index], *items[index + 1 :]]


@builtin("reverse", "list")
def _reverse(list_: Any) -> list[Any]:
    return need_list(list_, "list")[::-1]


@builtin("index of", "list", "match")
def _index_of(list_: Any, match: Any) -> list[Decimal]:
    items = need_list(list_, "list")
    return [Decimal(i) for i, item in enumerate(items, 1) if feel_eq(item, match) is True]


@builtin("union", "list...", variadic_min=0)
def _union(lists: list[Any]) -> list[Any]:
    return distinct(item for i, value in enumerate(lists, 1) for item in need_list(value, f"list {i}"))


@builtin("distinct values", "list")
def _distinct_values(list_: Any) -> list[Any]:
    return distinct(need_list(list_, "list"))


def _flatten_into(items: list[Any], out: list[Any]) -> None:
    for item in items:
        if isinstance(item, list):
            _flatten_into(item, out)
        else:
            out.append(item)


@builtin("flatten", "list")
def _flatten(list_: Any) -> list[Any]:
    out: list[Any] = []
    _flatten_into(need_list(list_, "list"), out)
    return out


class _NotBoolean(Exception):
    pass


@builtin("sort", "list", "precedes?")
def _sort(list_: Any, precedes: Any = MISSING) -> list[Any]:
    """``sort(list, precedes)``; without ``precedes`` (an extension) the FEEL ``<`` order."""
    items = need_list(list_, "list")
    if precedes is MISSING:
        less: Callable[[Any, Any], Any] = feel_lt
        what = "the items are not comparable with <"
    else:
        fn = need_function(precedes, "precedes", 2)
        less = lambda a, b: fn.invoke([a, b])  # noqa: E731
        what = "precedes must return true or false"

    def compare(a: Any, b: Any) -> int:
        r = less(a, b)
        if r is True:
            return -1
        if r is False:
            return 1  # sorted() only asks "a < b?", so "not less" needs no finer answer
        raise _NotBoolean

    try:
        return sorted(items, key=functools.cmp_to_key(compare))
    except _NotBoolean:
        raise BuiltinArgumentError(what) from None


def _is_function(args: Any) -> bool:
    return isinstance(args[1], FeelFunction)


def _not_function(args: Any) -> bool:
    return not isinstance(args[1], FeelFunction)


@builtin("list replace", "list", "position", "newItem", guard=_not_function)
def _list_replace_at(list_: Any, position: Any, newItem: Any) -> list[Any]:
    items = need_list(list_, "list")
    index = index_in(len(items), position)
    return [*items[:index], newItem, *items[index + 1 :]]


@builtin("list replace", "list", "match", "newItem", guard=_is_function)
def _list_replace_match(list_: Any, match: Any, newItem: Any) -> list[Any]:
    items = need_list(list_, "list")
    fn = need_function(match, "match", 2)
    out: list[Any] = []
    for item in items:
        hit = fn.invoke([item, newItem])
        if not isinstance(hit, bool):
            raise BuiltinArgumentError(f"match must return true or false, returned {type_name(hit)}")
        out.append(newItem if hit else item)
    return out
