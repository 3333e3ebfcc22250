"""Numeric list aggregates (DMN 1.5 §10.3.4.4): sum, mean, product, median, stddev, mode.

Each accepts a list or the numbers as separate arguments (``sum([1, 2])`` = ``sum(1, 2)``).
Items must all be numbers. An empty list gives null, except ``mode([])`` = ``[]``;
``stddev`` is the sample standard deviation and needs at least two items.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from casepilot.dmn.feel.values import FEEL_DECIMAL

from ._core import BuiltinArgumentError, builtin
from ._support import need_list, type_name

__all__: list[str] = []

_ctx = FEEL_DECIMAL


def _numbers(items: list[Any], *, allow_empty: bool = False) -> list[Decimal]:
    for item in items:
        if not isinstance(item, Decimal):
            raise BuiltinArgumentError(f"the items must be numbers, found {type_name(item)}")
    if not items and not allow_empty:
        raise BuiltinArgumentError("the list is empty")
    return items


def _sum(items: list[Any]) -> Decimal:
    total = Decimal(0)
    for n in _numbers(items):
        total = _ctx.add(total, n)
    return total


def _mean(items: list[Any]) -> Decimal:
    return _ctx.divide(_sum(items), Decimal(len(items)))


def _product(items: list[Any]) -> Decimal:
    result = Decimal(1)
    for n in _numbers(items):
        result = _ctx.multiply(result, n)
    return result


def _median(items: list[Any]) -> Decimal:
    ordered = sorted(_numbers(items))
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return _ctx.divide(_ctx.add(ordered[mid - 1], ordered[mid]), Decimal(2))


def _stddev(items: list[Any]) -> Decimal:
    numbers = _numbers(items)
    if len(numbers) < 2:
        raise BuiltinArgumentError("the sample standard deviation needs at least two numbers")
    mean = _mean(numbers)
    squares = Decimal(0)
    for n in numbers:
        d = _ctx.subtract(n, mean)
        squares = _ctx.add(squares, _ctx.multiply(d, d))
    return _ctx.sqrt(_ctx.divide(squares, Decimal(len(numbers) - 1)))


def _mode(items: list[Any]) -> list[Decimal]:
    counts: dict[Decimal, int] = {}
    first: dict[Decimal, Decimal] = {}
    for n in _numbers(items, allow_empty=True):
        counts[n] = counts.get(n, 0) + 1
        first.setdefault(n, n)
    if not counts:
        return []
    top = max(counts.values())
    return sorted(first[n] for n, c in counts.items() if c == top)


def _is_list(args: Any) -> bool:
    return isinstance(args[0], list)


def _register(name: str, fn: Callable[[list[Any]], Any]) -> None:
    def of_list(list_: Any) -> Any:
        return fn(need_list(list_, "list"))

    builtin(name, "list", guard=_is_list)(of_list)
    builtin(name, "n...")(fn)


for _name, _fn in (
    ("sum", _sum),
    ("mean", _mean),
    ("product", _product),
    ("median", _median),
    ("stddev", _stddev),
    ("mode", _mode),
):
    _register(_name, _fn)
