"""Boxed expressions → closures: literal, context, list, relation, invocation,
conditional, for / some / every, filter, function definition and decision table.

Each boxed expression with a ``typeRef`` coerces its value to that type on the way
out (DMN 1.5 §10.3.2.9.4). Function values close over the scope they were defined in,
so a context entry can hold a function that later entries (and itself) call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from casepilot.dmn._feelbridge import Eval, FeelBridge
from casepilot.dmn._model import (
    BoxedDef,
    ConditionalDef,
    ContextDef,
    DecisionTableDef,
    FilterDef,
    FunctionDef,
    InvocationDef,
    IteratorDef,
    ListDef,
    LiteralDef,
    RelationDef,
    UnsupportedDef,
)
from casepilot.dmn._results import EvalContext
from casepilot.dmn._table import compile_table
from casepilot.dmn._types import ANY, FeelType, TypeRegistry, coerce, describe
from casepilot.dmn.feel._java import JavaMappingError, external_function

__all__ = ["BoxedCompiler", "UserFunction", "invoke_function", "result_of"]


class UserFunction:
    """A FEEL function value made from a boxed function definition (or a BKM's logic).

    It implements the ``FeelFunction`` protocol. Arguments are coerced to the declared
    parameter types; an argument that does not conform makes the invocation null
    (the body is never run), as the spec requires.
    """

    __slots__ = ("_body", "_ctx", "_names", "_owner", "_result_type", "_scope", "_types")

    def __init__(
        self,
        owner: str,
        names: tuple[str, ...],
        types: tuple[FeelType, ...],
        body: Eval,
        result_type: FeelType,
        scope: dict[str, Any],
        ctx: EvalContext,
    ) -> None:
        self._owner = owner
        self._names = names
        self._types = types
        self._body = body
        self._result_type = result_type
        self._scope = scope
        self._ctx = ctx

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return self._names

    def __repr__(self) -> str:
        return f"<function {self._owner}({', '.join(self._names)})>"

    def invoke(self, args: list[Any] | None = None, named: dict[str, Any] | None = None) -> Any:
        values = bind_arguments(self._owner, self._names, args, named, self._ctx)
        if values is None:
            return None
        local = dict(self._scope)
        for name, t, v in zip(self._names, self._types, values, strict=True):
            if t.kind != "any" and v is not None:
                cv, err = coerce(v, t)
                if err:
                    self._ctx.error("type-mismatch", self._owner, f"parameter {name!r}: {err}")
                    return None
                v = cv
            local[name] = v
        result = self._body(local, self._ctx)
        if self._result_type.kind != "any":
            result, err = coerce(result, self._result_type)
            if err:
                self._ctx.error("type-mismatch", self._owner, f"result: {err}")
        return result


def bind_arguments(
    owner: str,
    names: Sequence[str],
    args: list[Any] | None,
    named: dict[str, Any] | None,
    ctx: EvalContext,
) -> list[Any] | None:
    """Positional or named arguments → values in parameter order (None and a message if they do not fit)."""
    if named is not None:
        unknown = [n for n in named if n not in names]
        if unknown:
            ctx.error(
                "invocation-error", owner, f"unknown parameter(s) {unknown}; parameters are {list(names)}"
            )
            return None
        return [named.get(n) for n in names]
    given = list(args or [])
    if len(given) != len(names):
        ctx.error("invocation-error", owner, f"expects {len(names)} argument(s), got {len(given)}")
        return None
    return given


def invoke_function(fn: Any, owner: str, named: dict[str, Any], ctx: EvalContext) -> Any:
    """Invoke any FEEL function value with named arguments, as a boxed invocation does."""
    if not (hasattr(fn, "invoke") and hasattr(fn, "parameter_names")):
        ctx.error("invocation-error", owner, f"{describe(fn)} is not a function")
        return None
    try:
        return fn.invoke(None, named)
    except Exception as exc:  # a defective function must not crash the caller
        ctx.error("invocation-error", owner, f"invocation failed: {exc}")
        return None


class BoxedCompiler:
    """Compiles the boxed expressions of one model (shared FEEL bridge and types)."""

    def __init__(self, bridge: FeelBridge, types: TypeRegistry) -> None:
        self.bridge = bridge
        self.types = types

    def compile(self, expr: BoxedDef | None, owner: str, names: frozenset[str]) -> Eval:
        """An evaluator for ``expr``; a missing expression evaluates to null."""
        if expr is None:
            return lambda scope, ctx: None
        ev = self._compile(expr, owner, names)
        t = self.types.resolve(expr.type_ref) if not isinstance(expr, FunctionDef) else ANY
        if t.kind == "any":
            return ev
        return _coercing(ev, t, owner)

    def _compile(self, expr: BoxedDef, owner: str, names: frozenset[str]) -> Eval:
        if isinstance(expr, LiteralDef):
            return self.bridge.expression(expr.text, owner, expr.line, names)
        if isinstance(expr, DecisionTableDef):
            return compile_table(expr, owner, names, self.bridge, self.types)
        if isinstance(expr, ContextDef):
            return self._context(expr, owner, names)
        if isinstance(expr, ListDef):
            items = [self.compile(i, owner, names) for i in expr.items]
            return lambda scope, ctx: [i(scope, ctx) for i in items]
        if isinstance(expr, RelationDef):
            return self._relation(expr, owner, names)
        if isinstance(expr, InvocationDef):
            return self._invocation(expr, owner, names)
        if isinstance(expr, ConditionalDef):
            return self._conditional(expr, owner, names)
        if isinstance(expr, IteratorDef):
            return self._iterator(expr, owner, names)
        if isinstance(expr, FilterDef):
            return self._filter(expr, owner, names)
        if isinstance(expr, FunctionDef):
            return self.function(expr, owner, ANY, names)
        return _unsupported(expr, owner)

    def function(self, fdef: FunctionDef, owner: str, result_type: FeelType, names: frozenset[str]) -> Eval:
        """An evaluator producing a ``UserFunction`` closed over the current scope."""
        if fdef.kind.upper() != "FEEL":
            return self._external(fdef, owner, names)
        params = tuple(p.name for p in fdef.parameters)
        ptypes = tuple(self.types.resolve(p.type_ref) for p in fdef.parameters)
        body = self.compile(fdef.body, owner, names | set(params))
        if result_type.kind == "any" and fdef.type_ref:
            result_type = result_of(self.types.resolve(fdef.type_ref))

        def make(scope: dict[str, Any], ctx: EvalContext) -> Any:
            return UserFunction(owner, params, ptypes, body, result_type, scope, ctx)

        return make

    def _external(self, fdef: FunctionDef, owner: str, names: frozenset[str]) -> Eval:
        """A boxed function of kind ``Java`` (a mapped static method, §10.3.2.13.3); ``PMML``
        and other kinds give null with an ``unsupported`` error naming what was asked."""
        kind = fdef.kind.upper()
        params = tuple(p.name for p in fdef.parameters)
        body = self.compile(fdef.body, owner, names) if fdef.body is not None and kind == "JAVA" else None

        def external(scope: dict[str, Any], ctx: EvalContext) -> Any:
            try:
                if body is None:
                    raise JavaMappingError(
                        f"function kind {fdef.kind!r} is not supported (FEEL and Java only)"
                    )
                return external_function(params, {"java": body(scope, ctx)})
            except JavaMappingError as exc:
                ctx.error("unsupported", owner, str(exc))
                return None

        return external

    def _context(self, expr: ContextDef, owner: str, names: frozenset[str]) -> Eval:
        entries = []
        for e in expr.entries:
            entries.append((e.name, self.compile(e.value, owner, names), self.types.resolve(e.type_ref)))
            if e.name:
                names = names | {e.name}

        def evaluate(scope: dict[str, Any], ctx: EvalContext) -> Any:
            local = dict(scope)
            result: dict[str, Any] = {}
            for name, ev, t in entries:
                v = ev(local, ctx)
                if t.kind != "any":
                    v, err = coerce(v, t)
                    if err:
                        ctx.error("type-mismatch", owner, f"context entry {name!r}: {err}")
                if name is None:
                    return v
                local[name] = v
                result[name] = v
            return result

        return evaluate

    def _relation(self, expr: RelationDef, owner: str, names: frozenset[str]) -> Eval:
        cols = expr.columns
        rows = [[self.compile(c, owner, names) for c in row] for row in expr.rows]

        def evaluate(scope: dict[str, Any], ctx: EvalContext) -> Any:
            return [dict(zip(cols, (c(scope, ctx) for c in row), strict=False)) for row in rows]

        return evaluate

    def _invocation(self, expr: InvocationDef, owner: str, names: frozenset[str]) -> Eval:
        callee = self.compile(expr.callee, owner, names)
        bindings = [(b.parameter, self.compile(b.expression, owner, names)) for b in expr.bindings]

        def evaluate(scope: dict[str, Any], ctx: EvalContext) -> Any:
            fn = callee(scope, ctx)
            named = {p: ev(scope, ctx) for p, ev in bindings}
            return invoke_function(fn, owner, named, ctx)

        return evaluate

    def _conditional(self, expr: ConditionalDef, owner: str, names: frozenset[str]) -> Eval:
        cond = self.compile(expr.condition, owner, names)
        then = self.compile(expr.then, owner, names)
        other = self.compile(expr.otherwise, owner, names)

        def evaluate(scope: dict[str, Any], ctx: EvalContext) -> Any:
            test = cond(scope, ctx)
            if test is True:
                return then(scope, ctx)
            if test is not False and test is not None:
                ctx.warn(
                    "feel-error",
                    owner,
                    f"conditional 'if' gave {describe(test)}, not a boolean: 'else' is taken",
                )
            return other(scope, ctx)

        return evaluate

    def _iterator(self, expr: IteratorDef, owner: str, names: frozenset[str]) -> Eval:
        source = self.compile(expr.source, owner, names)
        body = self.compile(expr.body, owner, names | {expr.variable})
        var = expr.variable
        kind = expr.kind

        def evaluate(scope: dict[str, Any], ctx: EvalContext) -> Any:
            items = source(scope, ctx)
            if items is None:
                return None
            if not isinstance(items, list):
                items = [items]
            results = []
            for item in items:
                local = dict(scope)
                local[var] = item
                results.append(body(local, ctx))
            if kind == "for":
                return results
            if any(r is not True and r is not False for r in results):
                ctx.error("feel-error", owner, f"'{kind}' condition did not give a boolean for every item")
                return None
            return any(results) if kind == "some" else all(results)

        return evaluate

    def _filter(self, expr: FilterDef, owner: str, names: frozenset[str]) -> Eval:
        source = self.compile(expr.source, owner, names)
        match = self.compile(expr.match, owner, names | {"item"})

        def evaluate(scope: dict[str, Any], ctx: EvalContext) -> Any:
            items = source(scope, ctx)
            if items is None:
                return None
            if not isinstance(items, list):
                items = [items]
            kept = []
            for item in items:
                local = dict(scope)
                if isinstance(item, dict):
                    local.update(item)
                local["item"] = item
                ok = match(local, ctx)
                if ok is not True and ok is not False:
                    ctx.error("feel-error", owner, f"filter condition gave {describe(ok)}, not a boolean")
                    return None
                if ok:
                    kept.append(item)
            return kept

        return evaluate


def result_of(t: FeelType) -> FeelType:
    """The result type a typeRef imposes on a function: a function type's output, else the type itself."""
    if t.kind == "function":
        return t.element or ANY
    return t


def _coercing(ev: Eval, t: FeelType, owner: str) -> Eval:
    def evaluate(scope: dict[str, Any], ctx: EvalContext) -> Any:
        v, err = coerce(ev(scope, ctx), t)
        if err:
            ctx.error("type-mismatch", owner, err)
        return v

    return evaluate


def _unsupported(expr: UnsupportedDef | BoxedDef, owner: str) -> Eval:
    tag = expr.tag if isinstance(expr, UnsupportedDef) else type(expr).__name__

    def evaluate(scope: dict[str, Any], ctx: EvalContext) -> Any:
        ctx.error("unsupported", owner, f"<{tag}> expressions are not supported")
        return None

    return evaluate
