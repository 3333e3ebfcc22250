"""Unary tests (DMN 1.5 §10.3.2.7 / §10.3.3.2): the cells of decision-table inputs and ``in``.

A compiled test is ``test(value, scope) -> bool | None`` where ``value`` is the input
(``?``). A plain expression as a test means, in this order:

* it mentions ``?`` and gives a boolean → that boolean;
* it gives a range → the input lies in the range;
* it gives a list (and the input is not a list equal to it) → membership;
* it gives a boolean and the input is not a boolean → that boolean;
* otherwise → the input equals the value.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import ast, ops
from ._runtime import MISSING, Scope
from .values import Range

if TYPE_CHECKING:
    from ._compiler import Compiler

__all__ = ["Test", "compile_test", "compile_unary_tests", "in_range"]

Test = Callable[[Any, Scope], Any]


def in_range(value: Any, r: Range) -> bool | None:
    """Whether ``value`` lies in the range (None when incomparable)."""
    if r.operator is not None:
        eq = ops.feel_equal(value, r.start)
        return None if eq is None else eq is (r.operator == "=")
    if r.start is not None:
        c = ops.compare(value, r.start)
        if c is None:
            return None
        if c < 0 or (c == 0 and not r.start_included):
            return False
    if r.end is not None:
        c = ops.compare(value, r.end)
        if c is None:
            return None
        if c > 0 or (c == 0 and not r.end_included):
            return False
    return True


def _matches_value(value: Any, result: Any, uses_input: bool) -> Any:
    if uses_input and isinstance(result, bool):
        return result
    if isinstance(result, Range):
        return in_range(value, result)
    if isinstance(result, list):
        if isinstance(value, list) and ops.feel_equal(value, result) is True:
            return True
        for item in result:
            hit = in_range(value, item) if isinstance(item, Range) else ops.feel_equal(value, item)
            if hit is True:
                return True
        return False
    if isinstance(result, bool) and not isinstance(value, bool) and value is not None:
        return result
    return ops.feel_equal(value, result)


_CHECKS: dict[str, Callable[[int], bool]] = {
    "<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
    ">": lambda c: c > 0,
    ">=": lambda c: c >= 0,
}


def _is_literal_like(node: ast.Node) -> bool:
    if isinstance(node, (ast.Literal_, ast.RangeLiteral)):
        return all(
            isinstance(part, ast.Literal_)
            for part in ((node.start, node.end) if isinstance(node, ast.RangeLiteral) else (node,))
        )
    return False


def _constant_test(constant: Any) -> Test:
    """Fast paths for the commonest cells: a literal value or a literal range."""
    if isinstance(constant, Range):
        return lambda value, s: in_range(value, constant)
    if isinstance(constant, str):
        return lambda value, s: (
            value == constant if type(value) is str else (None if value is not None else False)
        )
    if isinstance(constant, Decimal):
        return lambda value, s: (
            value == constant if type(value) is Decimal else ops.feel_equal(value, constant)
        )
    if isinstance(constant, bool) or constant is None:
        return lambda value, s: ops.feel_equal(value, constant)
    return lambda value, s: _matches_value(value, constant, False)


def compile_test(compiler: Compiler, node: ast.Node) -> Test:
    """Compile one positive unary test."""
    if isinstance(node, ast.AnyTest):
        return lambda value, s: True
    if isinstance(node, ast.UnaryComparison):
        operand = compiler.compile(node.value)
        op = node.op
        if op == "=":
            return lambda value, s: ops.feel_equal(value, operand(s))
        if op == "!=":

            def not_equal(value: Any, s: Scope) -> Any:
                eq = ops.feel_equal(value, operand(s))
                return None if eq is None else not eq

            return not_equal
        check = _CHECKS[op]

        def comparison(value: Any, s: Scope) -> Any:
            c = ops.compare(value, operand(s))
            return None if c is None else check(c)

        return comparison
    before = compiler.input_references
    expression = compiler.compile(node)
    uses_input = compiler.input_references > before
    if _is_literal_like(node):
        constant = compiler.constant_value(expression)
        if constant is not MISSING:
            return _constant_test(constant)
    if isinstance(node, ast.RangeLiteral):

        def range_test(value: Any, s: Scope) -> Any:
            r = expression(s)
            return None if r is None else _matches_value(value, r, False)

        return range_test
    if uses_input:

        def with_input(value: Any, s: Scope) -> Any:
            return _matches_value(value, expression(s.child({"?": value})), True)

        return with_input
    return lambda value, s: _matches_value(value, expression(s), False)


def compile_unary_tests(compiler: Compiler, node: ast.UnaryTests) -> Test:
    """Compile a whole cell: ``-``, a list of tests, or ``not(…)`` of a list."""
    tests = [compile_test(compiler, t) for t in node.tests]
    negated = node.negated

    # §10.3.2.7 (Table 49): "e in t1, t2" is "e in t1 or e in t2" and "e in not(tests)" is
    # "not(e in tests)", in three-valued logic; a cell matches only when that is true. So a
    # negated cell whose tests are all false matches, one with a true test does not, and one
    # whose tests are false or null (null > 5) is null: no match, as the plain cell.
    def unary_tests(value: Any, s: Scope) -> bool:
        unknown = False
        for test in tests:
            result = test(value, s)
            if result is True:
                return not negated
            if result is not False:
                unknown = True
        return negated and not unknown

    return unary_tests
