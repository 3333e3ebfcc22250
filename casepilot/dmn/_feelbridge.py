"""The one place where DMN code calls the FEEL compiler.

It passes the names in scope to FEEL (which needs them to scan names with spaces or
operator characters, and caches compiled expressions by text), turns FEEL syntax
errors into load-time problems (strict) or into evaluators that return null with a
message (lenient, used by the TCK runner so that one bad expression does not sink a
whole model), and adds the fast paths of ``_fastpath``. A defect inside FEEL at run
time becomes a message on the one expression, never an exception for the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from casepilot.dmn import feel
from casepilot.dmn._fastpath import constant_expression, fast_unary_tests, simple_path
from casepilot.dmn._results import EvalContext
from casepilot.errors import DefinitionError, ExpressionError

__all__ = ["Eval", "FeelBridge", "UnaryTest"]

Eval = Callable[[dict[str, Any], EvalContext], Any]
"""A compiled expression: (scope, context) → FEEL value. Pure apart from ``context`` messages."""

UnaryTest = Callable[[Any, Mapping[str, Any]], bool]
"""A compiled input entry: (input value, scope) → matched?"""

_MISSING = object()


class FeelBridge:
    """Compiles FEEL text for one model load; collects problems with file and line."""

    def __init__(self, file: str | None, strict: bool) -> None:
        self.file = file
        self.strict = strict
        self.problems: list[DefinitionError] = []
        self.member_names: frozenset[str] = frozenset()
        """Names that may appear in paths anywhere in the model (components, context entries…)."""

    def _problem(self, what: str, text: str, exc: Exception, line: int | None, owner: str) -> str:
        msg = f"{what} {text.strip()!r} of {owner!r} does not compile: {exc}"
        if self.strict:
            self.problems.append(DefinitionError(msg, file=self.file, line=line))
        return msg

    def compiled(self, text: str, names: frozenset[str] = frozenset()) -> Any:
        """The FEEL ``CompiledExpression`` for ``text``; raises ExpressionError.

        ``names`` are the variable names in scope: FEEL needs them to read names
        containing spaces or operators (``Loan-to-value``). The FEEL package caches
        compiled expressions by text and relevant names.
        """
        return feel.compile_expression(text, known_names=names | self.member_names)

    def expression(
        self, text: str, owner: str, line: int | None, names: frozenset[str] = frozenset()
    ) -> Eval:
        """An evaluator for the FEEL expression ``text`` inside element ``owner``."""
        ok, const = constant_expression(text)
        if ok:
            return lambda scope, ctx: const
        try:
            compiled = self.compiled(text, names)
        except (ExpressionError, RecursionError, ValueError) as exc:
            msg = self._problem("expression", text, exc, line, owner)
            return _failing(owner, msg)
        run = compiled.evaluate_with_messages
        path = simple_path(text)

        def evaluate(scope: dict[str, Any], ctx: EvalContext) -> Any:
            try:
                value, messages = run(scope)
            except RecursionError:
                raise  # reported once, at the top of the evaluation
            except Exception as exc:
                ctx.error("feel-error", owner, f"evaluation of {text.strip()!r} failed: {exc!r}")
                return None
            for m in messages:
                ctx.error("feel-error", owner, str(m))
            return value

        if path is None:
            return evaluate
        if len(path) == 1:
            name = path[0]

            def lookup(scope: dict[str, Any], ctx: EvalContext) -> Any:
                v = scope.get(name, _MISSING)
                return evaluate(scope, ctx) if v is _MISSING else v

            return lookup

        def walk(scope: dict[str, Any], ctx: EvalContext) -> Any:
            v: Any = scope
            for seg in path:
                if v.__class__ is not dict or seg not in v:
                    return evaluate(scope, ctx)
                v = v[seg]
            return v

        return walk

    def unary_tests(
        self, text: str, owner: str, line: int | None, names: frozenset[str] = frozenset()
    ) -> UnaryTest:
        """A matcher for the unary tests ``text`` (an input entry or allowed values)."""
        fast = fast_unary_tests(text)
        if fast is not None:
            return fast
        try:
            compiled = feel.compile_unary_tests(text, known_names=names | self.member_names)
        except (ExpressionError, RecursionError, ValueError) as exc:
            self._problem("unary tests", text, exc, line, owner)
            return lambda value, scope: False
        matches = compiled.matches

        def test(value: Any, scope: Mapping[str, Any]) -> bool:
            try:
                return matches(value, scope) is True
            except Exception:  # FEEL promises not to raise; a defect there must not crash a caller
                return False

        return test

    def matcher(self, text: str, owner: str, line: int | None) -> Any:
        """An object with ``matches(value)`` for item-definition allowed values (raises on bad text)."""
        fast = fast_unary_tests(text)
        if fast is not None:
            return _FastMatcher(fast)
        return feel.compile_unary_tests(text, known_names=self.member_names)


class _FastMatcher:
    __slots__ = ("_test",)

    def __init__(self, test: Callable[[Any], bool]) -> None:
        self._test = test

    def matches(self, value: Any, variables: Mapping[str, Any] | None = None) -> bool:
        return self._test(value)


def _failing(owner: str, message: str) -> Eval:
    def fail(scope: dict[str, Any], ctx: EvalContext) -> Any:
        ctx.error("feel-error", owner, message)
        return None

    return fail
