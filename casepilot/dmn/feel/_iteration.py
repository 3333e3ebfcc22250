"""``for``, ``some`` and ``every``: iteration domains (lists, integer and date ranges) and loops.

Every iteration spends one step of the evaluation budget and the lists built are
size-checked, so ``for i in 1..1000000000 return i`` fails fast instead of exhausting memory.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import ast, ops
from ._runtime import Scope
from .values import Range

if TYPE_CHECKING:
    from ._compiler import Compiler

__all__ = ["compile_for", "compile_quantified"]

Fn = Callable[[Scope], Any]


def compile_for(compiler: Compiler, node: ast.For) -> Fn:
    """``for`` with several iterators, numeric/date ranges and ``partial``."""
    domains, body = _iterators(compiler, node.iterators, node.body)
    names = [it.name for it in node.iterators]

    def loop(s: Scope) -> Any:
        results: list[Any] = []
        state = s.state

        def nest(level: int, scope: Scope) -> bool:
            domain = _domain(domains[level](scope), scope)
            if domain is None:
                return False
            for value in domain:
                state.tick()
                inner = scope.child({names[level]: value, "partial": results})
                if level + 1 < len(domains):
                    if not nest(level + 1, inner):
                        return False
                else:
                    results.append(_detached(body(inner), results))
                    state.check_list(len(results))
            return True

        return results if nest(0, s) else None

    return loop


def _detached(value: Any, results: list[Any]) -> Any:
    """``value`` with ``partial`` (the growing ``results``) replaced by a copy where it is the
    value or one of its items: ``for i in 1..2 return partial`` is ``[[], [[]]]``, not a list
    that contains itself (which nothing can print or compare)."""
    if value is results:
        return list(results)
    if isinstance(value, list) and any(v is results for v in value):
        return [list(results) if v is results else v for v in value]
    if isinstance(value, dict) and any(v is results for v in value.values()):
        return {k: list(results) if v is results else v for k, v in value.items()}
    return value


def compile_quantified(compiler: Compiler, node: ast.Quantified) -> Fn:
    """``some`` / ``every`` over one or more iterators."""
    domains, condition = _iterators(compiler, node.iterators, node.condition)
    names = [it.name for it in node.iterators]
    want = node.kind == "some"

    def quantified(s: Scope) -> Any:
        state = s.state

        def nest(level: int, scope: Scope) -> bool | None:
            domain = _domain(domains[level](scope), scope)
            if domain is None:
                return None
            for value in domain:
                state.tick()
                inner = scope.child({names[level]: value})
                r = nest(level + 1, inner) if level + 1 < len(domains) else condition(inner) is True
                if r is want:
                    return want
            return not want

        return nest(0, s)

    return quantified


def _iterators(
    compiler: Compiler, iterators: tuple[ast.Iterator, ...], body: ast.Node
) -> tuple[list[Fn], Fn]:
    domains: list[Fn] = []
    bound: set[str] = set()
    for it in iterators:
        compiler.bound_names.append(frozenset(bound))
        try:
            start = compiler.compile(it.domain)
            end = compiler.compile(it.end) if it.end is not None else None
        finally:
            compiler.bound_names.pop()
        domains.append(_range_domain(start, end) if end is not None else start)
        bound.add(it.name)
    compiled_body = compiler.with_bound(frozenset(bound | {"partial"}), body)
    return domains, compiled_body


class _RangeMarker:
    """``a..b`` in a ``for``/quantifier: an integer range evaluated lazily."""

    __slots__ = ("end", "start")

    def __init__(self, start: Any, end: Any) -> None:
        self.start = start
        self.end = end


def _range_domain(start: Fn, end: Fn) -> Fn:
    return lambda s: _RangeMarker(start(s), end(s))


def _date_range(start: _dt.date, end: _dt.date, scope: Scope) -> list[Any]:
    days = (end - start).days
    scope.state.check_list(abs(days) + 1)
    step = 1 if days >= 0 else -1
    return [start + _dt.timedelta(days=i) for i in range(0, days + step, step)]


def _integer_range(start: Any, end: Any, scope: Scope) -> range | None:
    if not (isinstance(start, Decimal) and isinstance(end, Decimal)):
        scope.state.note("a for-range needs two numbers or two dates")
        return None
    if start != start.to_integral_value() or end != end.to_integral_value():
        scope.state.note("a for-range needs whole numbers")
        return None
    a, b = int(start), int(end)
    size = abs(b - a) + 1
    scope.state.check_list(size)
    return range(a, b + 1) if a <= b else range(a, b - 1, -1)


def _is_date(value: Any) -> bool:
    return isinstance(value, _dt.date) and not isinstance(value, _dt.datetime)


def _domain(value: Any, scope: Scope) -> list[Any] | None:
    if isinstance(value, _RangeMarker):
        if _is_date(value.start) and _is_date(value.end):
            return _date_range(value.start, value.end, scope)
        span = _integer_range(value.start, value.end, scope)
        return None if span is None else [Decimal(i) for i in span]
    if isinstance(value, Range):
        if value.start is None or value.end is None:
            scope.state.note("cannot iterate over an unbounded range")
            return None
        if ops.compare(value.start, value.end) == 1:
            scope.state.note("a range literal must not descend")
            return None
        span = _integer_range(value.start, value.end, scope)
        if span is None:
            return None
        numbers = [Decimal(i) for i in span]
        if not value.start_included and numbers:
            numbers = numbers[1:]
        if not value.end_included and numbers:
            numbers = numbers[:-1]
        return numbers
    if isinstance(value, list):
        return value
    if value is None:
        scope.state.note("cannot iterate over null")
        return None
    return [value]
