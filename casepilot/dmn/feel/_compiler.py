"""AST → Python closures. Walks the tree once at compile time; evaluation never sees the AST.

Each node becomes ``f(scope) -> value``. The compiler also computes the *free names* of an
expression (the variables it reads from its caller), so that evaluation converts only
those inputs to FEEL values.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from casepilot.errors import ExpressionError

from . import ast, ops
from ._iteration import compile_for, compile_quantified
from ._java import compile_external
from ._runtime import (
    DEFAULT_LIMITS,
    MISSING,
    Scope,
    State,
    UserFunction,
    get_builtin,
    get_property,
    is_function,
    list_item,
)
from ._unary import compile_test
from .types import instance_of
from .values import Range

__all__ = ["Compiler", "Fn"]

Fn = Callable[[Scope], Any]

_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": ops.add,
    "-": ops.subtract,
    "*": ops.multiply,
    "/": ops.divide,
    "**": ops.power,
}
_ARITH_WORD = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "**": "raise"}


def _const(value: Any) -> Fn:
    return lambda s: value


class Compiler:
    """Compiles one expression; collects its free names."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.free: set[str] = set()
        self.has_calls = False
        """Whether the expression invokes functions (then built-in messages are collected)."""
        self.input_references = 0
        """How many times ``?`` was compiled (tells unary tests whether to bind it)."""
        self.bound_names: list[frozenset[str]] = []

    # ------------------------------------------------------------------ entry
    def compile(self, node: ast.Node) -> Fn:
        """Compile a node (dispatch on its class)."""
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:  # pragma: no cover - every node class has a method
            raise ExpressionError(f"cannot compile {type(node).__name__}", expression=self.source)
        fn: Fn = method(node)
        if type(node) in _FOLDABLE and _is_constant(node):
            folded = self.constant_value(fn)
            if folded is not MISSING:
                return _const(folded)
        return fn

    def constant_value(self, fn: Fn) -> Any:
        """Evaluate a constant subexpression once; MISSING if it needs run-time messages."""
        state = State(DEFAULT_LIMITS, self.source)
        try:
            value = fn(Scope({}, None, state))
        except ExpressionError:
            return MISSING
        return MISSING if state.messages else value

    def _is_bound(self, name: str) -> bool:
        return any(name in names for names in self.bound_names)

    def with_bound(self, names: frozenset[str], node: ast.Node) -> Fn:
        self.bound_names.append(names)
        try:
            return self.compile(node)
        finally:
            self.bound_names.pop()

    # ------------------------------------------------------------------ leaves
    def _Literal_(self, node: ast.Literal_) -> Fn:
        return _const(node.value)

    def _Invalid(self, node: ast.Invalid) -> Fn:
        message = node.message

        def invalid(s: Scope) -> Any:
            s.state.note(message)

        return invalid

    def _Name(self, node: ast.Name) -> Fn:
        name = node.name
        if name == "?":
            self.input_references += 1
        elif not self._is_bound(name):
            self.free.add(name)
        builtin = get_builtin(name)

        def lookup(s: Scope) -> Any:
            value = s.vars.get(name, MISSING)
            if value is MISSING:
                value = s.lookup(name)
                if value is MISSING:
                    if builtin is not None:
                        return builtin
                    s.unknown(name)
                    return None
            return value

        return lookup

    # ------------------------------------------------------------------ operators
    def _BinaryOp(self, node: ast.BinaryOp) -> Fn:
        left, right = self.compile(node.left), self.compile(node.right)
        op = node.op
        if op in _ARITH:
            fn = _ARITH[op]
            word = _ARITH_WORD[op]

            def arith(s: Scope) -> Any:
                a, b = left(s), right(s)
                if type(a) is str and type(b) is str:
                    s.state.check_string_length(len(a) + len(b))  # before allocating it
                result = fn(a, b)
                if result is None:
                    if a is not None and b is not None:
                        if word == "divide" and isinstance(b, Decimal) and b.is_zero():
                            s.state.note("division by zero")
                        elif isinstance(a, Decimal) and isinstance(b, Decimal):
                            s.state.note(f"cannot {word} {a} and {b}: result out of range or undefined")
                        else:
                            s.state.note(f"cannot {word} {ops.kind_of(a)} and {ops.kind_of(b)}")
                elif type(result) is str:
                    s.state.check_string(result)
                return result

            return arith
        if op == "=":
            return lambda s: ops.feel_equal(left(s), right(s))
        if op == "!=":

            def not_equal(s: Scope) -> Any:
                eq = ops.feel_equal(left(s), right(s))
                return None if eq is None else not eq

            return not_equal
        return _comparison(op, left, right)

    def _Negation(self, node: ast.Negation) -> Fn:
        operand = self.compile(node.operand)

        def negation(s: Scope) -> Any:
            value = operand(s)
            result = ops.negate(value)
            if result is None and value is not None:
                s.state.note(f"cannot negate {ops.kind_of(value)}")
            return result

        return negation

    def _Not(self, node: ast.Not) -> Fn:
        operand = self.compile(node.operand)

        def negate(s: Scope) -> Any:
            value = operand(s)
            if isinstance(value, list) and len(value) == 1:
                value = value[0]  # the built-in not(negand): §10.3.2.9.4 "from singleton list"
            return (not value) if isinstance(value, bool) else None

        return negate

    def _Logical(self, node: ast.Logical) -> Fn:
        left, right = self.compile(node.left), self.compile(node.right)
        if node.op == "and":

            def conjunction(s: Scope) -> Any:
                a = left(s)
                if a is False:
                    return False
                b = right(s)
                if b is False:
                    return False
                return True if a is True and b is True else None

            return conjunction

        def disjunction(s: Scope) -> Any:
            a = left(s)
            if a is True:
                return True
            b = right(s)
            if b is True:
                return True
            return False if a is False and b is False else None

        return disjunction

    def _Between(self, node: ast.Between) -> Fn:
        value, low, high = self.compile(node.value), self.compile(node.low), self.compile(node.high)

        def between(s: Scope) -> Any:
            v = value(s)
            lo, hi = ops.compare(v, low(s)), ops.compare(v, high(s))
            if lo is None or hi is None:
                return None
            return lo >= 0 and hi <= 0

        return between

    def _In(self, node: ast.In) -> Fn:
        value = self.compile(node.value)
        tests = [compile_test(self, t) for t in node.tests]

        def membership(s: Scope) -> Any:
            v = value(s)
            saw_null = False
            for test in tests:
                r = test(v, s)
                if r is True:
                    return True
                saw_null = saw_null or r is None
            return None if saw_null else False

        return membership

    def _InstanceOf(self, node: ast.InstanceOf) -> Fn:
        value, type_ref = self.compile(node.value), node.type
        return lambda s: instance_of(value(s), type_ref)

    def _UnaryComparison(self, node: ast.UnaryComparison) -> Fn:
        # `(< 10)` used as a value is the (half-open) range it describes; `(= 10)` and
        # `(!= 10)` are ranges marked with their operator (the TCK tells them from [10..10])
        op, value = node.op, self.compile(node.value)

        def comparison_range(s: Scope) -> Any:
            v = value(s)
            if op == "=":
                return Range(v, v, True, True, "=")
            if op == "!=":
                return Range(v, v, False, False, "!=")
            if op in ("<", "<="):
                return Range(None, v, False, op == "<=")
            return Range(v, None, op == ">=", False)

        return comparison_range

    # ------------------------------------------------------------------ compound
    def _If(self, node: ast.If) -> Fn:
        cond, then, otherwise = (
            self.compile(node.condition),
            self.compile(node.then),
            self.compile(node.otherwise),
        )
        return lambda s: then(s) if cond(s) is True else otherwise(s)

    def _ListLiteral(self, node: ast.ListLiteral) -> Fn:
        items = [self.compile(i) for i in node.items]
        return lambda s: [f(s) for f in items]

    def _ContextLiteral(self, node: ast.ContextLiteral) -> Fn:
        entries: list[tuple[str, Fn]] = []
        self.bound_names.append(frozenset(k for k, _ in node.entries))
        try:
            entries = [(key, self.compile(value)) for key, value in node.entries]
        finally:
            self.bound_names.pop()

        def context(s: Scope) -> Any:
            result: dict[str, Any] = {}
            inner = s.child(result)
            for key, fn in entries:
                result[key] = fn(inner)
            return result

        return context

    def _RangeLiteral(self, node: ast.RangeLiteral) -> Fn:
        start, end = self.compile(node.start), self.compile(node.end)
        si, ei = node.start_included, node.end_included

        def make_range(s: Scope) -> Any:
            a, b = start(s), end(s)
            if a is None or b is None:
                s.state.note("a range endpoint is null")
                return None
            if ops.compare(a, b) is None:
                s.state.note(f"range ends of different types: {ops.kind_of(a)} and {ops.kind_of(b)}")
                return None
            return Range(a, b, si, ei)

        return make_range

    def _Path(self, node: ast.Path) -> Fn:
        target, name = self.compile(node.target), node.name
        return lambda s: get_property(target(s), name, s)

    def _Filter(self, node: ast.Filter) -> Fn:
        target = self.compile(node.target)
        cond_node = node.condition
        if isinstance(cond_node, ast.Literal_) and isinstance(cond_node.value, Decimal):
            index = cond_node.value
            return lambda s: list_item(target(s), index)
        condition = self.with_bound(frozenset({"item"}), cond_node)

        def filtered(s: Scope) -> Any:
            value = target(s)
            if value is None:
                return None
            items = value if isinstance(value, list) else [value]
            out: list[Any] = []
            state = s.state
            for position, item in enumerate(items):
                state.tick()
                inner = {"item": item}
                if isinstance(item, dict):
                    inner.update(item)  # entry names win over `item`
                result = condition(s.child(inner))
                if position == 0 and isinstance(result, Decimal):
                    return list_item(value, result)
                if result is True:
                    out.append(item)
            return out

        return filtered

    def _Call(self, node: ast.Call) -> Fn:
        self.has_calls = True
        args = [self.compile(a) for a in node.args]
        named = [(n, self.compile(a)) for n, a in node.named] if node.named is not None else None
        callee_node = node.function
        if isinstance(callee_node, ast.Name):
            name = callee_node.name
            if not self._is_bound(name):
                self.free.add(name)
            builtin = get_builtin(name)

            def resolve(s: Scope) -> Any:
                value = s.lookup(name)
                if value is MISSING or value is None:
                    if builtin is None:
                        if value is None:
                            s.state.note(f"{name!r} is null, not a function")
                        else:
                            s.unknown(name)
                    return builtin
                return value

            callee: Fn = resolve
            label = name
        else:
            callee = self.compile(callee_node)
            label = "expression"

        def call(s: Scope) -> Any:
            fn = callee(s)
            if fn is None:
                return None
            if not is_function(fn):
                s.state.note(f"{label!r} is not a function")
                return None
            try:
                if named is not None:
                    result = fn.invoke(named={n: f(s) for n, f in named})
                else:
                    result = fn.invoke(args=[f(s) for f in args])
            except (ExpressionError, RecursionError):
                raise
            except MemoryError:
                raise ExpressionError(f"{label} ran out of memory", expression=s.state.expression) from None
            except Exception as exc:  # a misbehaving function must not crash the evaluation
                s.state.note(f"{label} failed: {exc}")
                return None
            return s.state.check_result(result)

        return call

    def _FunctionDefinition(self, node: ast.FunctionDefinition) -> Fn:
        names = tuple(p.name for p in node.parameters)
        if node.external:
            return compile_external(names, self.compile(node.body))
        types = tuple(p.type for p in node.parameters)
        body = self.with_bound(frozenset(names), node.body)
        return lambda s: UserFunction(names, types, body, s)

    def _For(self, node: ast.For) -> Fn:
        return compile_for(self, node)

    def _Quantified(self, node: ast.Quantified) -> Fn:
        return compile_quantified(self, node)

    def _UnaryTests(self, node: ast.UnaryTests) -> Fn:  # pragma: no cover - compiled via _unary
        raise ExpressionError("unary tests are not an expression", expression=self.source)


_FOLDABLE = frozenset(
    {ast.RangeLiteral, ast.BinaryOp, ast.Negation, ast.Not, ast.Logical, ast.Between, ast.If}
)


def _is_constant(node: ast.Node) -> bool:
    """Built only from literals and pure operators (no names, calls, lists or contexts)."""
    if isinstance(node, ast.Literal_):
        return True
    if type(node) not in _FOLDABLE:
        return False
    children = [getattr(node, f) for f in node.__dataclass_fields__]  # type: ignore[attr-defined]
    return all(_is_constant(c) for c in children if isinstance(c, ast.Node))


def _comparison(op: str, left: Fn, right: Fn) -> Fn:
    if op == "<":
        check: Callable[[int], bool] = lambda c: c < 0  # noqa: E731
    elif op == "<=":
        check = lambda c: c <= 0  # noqa: E731
    elif op == ">":
        check = lambda c: c > 0  # noqa: E731
    else:
        check = lambda c: c >= 0  # noqa: E731

    def compare(s: Scope) -> Any:
        c = ops.compare(left(s), right(s))
        return None if c is None else check(c)

    return compare
