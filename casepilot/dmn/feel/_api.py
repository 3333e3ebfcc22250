"""The public entry points: compile once (cached by source text), evaluate many times."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any, Literal

from casepilot.errors import ExpressionError, ExpressionSyntaxError

from . import ast
from ._compiler import Compiler
from ._lexer import RawToken, known_name_table, tokenize
from ._parser import MAX_TOKENS, check_depth, parse_tokens
from ._runtime import CURRENT_STATE, DEFAULT_LIMITS, Limits, Scope, State, builtin_names, message_sink
from ._unary import compile_unary_tests as _build_tests
from .types import BUILTIN_TYPE_NAMES
from .values import Range, to_feel

__all__ = [
    "CompiledExpression",
    "CompiledUnaryTests",
    "Dialect",
    "compile_condition",
    "compile_expression",
    "compile_unary_tests",
]

Dialect = Literal["feel", "juel"]
_CACHE_SIZE = 4096


def _inputs(variables: Mapping[str, Any] | None, names: frozenset[str]) -> dict[str, Any]:
    """Convert just the variables an expression reads to FEEL values."""
    if not variables or not names:
        return {}
    out: dict[str, Any] = {}
    for name in names:
        value = variables.get(name, _ABSENT)
        if value is not _ABSENT:
            out[name] = value if type(value) in _SCALARS or _is_feel(value) else to_feel(value)
    return out


_SCALARS = frozenset({Decimal, str, bool, type(None)})


def _is_feel(value: Any) -> bool:
    """Already in FEEL form (so no copy is needed)? Lists and contexts are checked deeply."""
    if type(value) in _SCALARS:
        return True
    if isinstance(value, dict):
        return all(type(k) is str and _is_feel(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_feel(v) for v in value)
    return not isinstance(value, (bool, int, float, tuple, Range))


_ABSENT: Any = object()


def _run(
    fn: Callable[[Scope], Any],
    source: str,
    scope_vars: dict[str, Any],
    hints: Mapping[str, Any] | None,
    limits: Limits,
    calls: bool,
    collect: bool = True,
) -> tuple[Any, list[str]]:
    """Run one evaluation. With ``collect``, built-ins' messages go to the result instead of
    to a sink the caller may have opened around ``evaluate`` (``builtins.collect_messages``)."""
    state = State(limits, source, hints)
    token = CURRENT_STATE.set(state) if calls else None
    try:
        if calls and collect:
            with message_sink(state.note):
                result = fn(Scope(scope_vars, None, state))
        else:
            result = fn(Scope(scope_vars, None, state))
    except RecursionError:
        raise ExpressionError("evaluation recursed too deeply", expression=source) from None
    finally:
        state.active = False
        if token is not None:
            CURRENT_STATE.reset(token)
    return result, state.messages


@dataclass(frozen=True, eq=False, slots=True)
class CompiledExpression:
    """A parsed and compiled FEEL (or ``${…}``) expression; immutable and thread-safe."""

    source: str
    """The expression text as given."""
    ast: ast.Node
    """The syntax tree (shared by both dialects)."""
    free_names: frozenset[str]
    """Top-level variable names the expression reads (first segment of a path)."""
    dialect: Dialect = "feel"
    limits: Limits = DEFAULT_LIMITS
    _fn: Callable[[Scope], Any] = field(default=lambda s: None, repr=False)
    _calls: bool = field(default=False, repr=False)

    def with_limits(self, limits: Limits) -> CompiledExpression:
        """The same expression evaluated under other budgets (e.g. tighter for untrusted input)."""
        return replace(self, limits=limits)

    def evaluate(self, variables: Mapping[str, Any] | None = None) -> Any:
        """Evaluate with ``variables``; FEEL null (``None``) on runtime errors."""
        if self._calls:
            inputs = _inputs(variables, self.free_names)
            return _run(self._fn, self.source, inputs, variables, self.limits, True, collect=False)[0]
        state = State(self.limits, self.source, variables)
        try:
            return self._fn(Scope(_inputs(variables, self.free_names), None, state))
        except RecursionError:
            raise ExpressionError("evaluation recursed too deeply", expression=self.source) from None
        finally:
            state.active = False

    def evaluate_with_messages(self, variables: Mapping[str, Any] | None = None) -> tuple[Any, list[str]]:
        """Evaluate and also return the messages explaining nulls (unknown names, type errors).

        Raises ``ExpressionError`` only when a limit against hostile expressions is hit.
        """
        return _run(
            self._fn, self.source, _inputs(variables, self.free_names), variables, self.limits, self._calls
        )


@dataclass(frozen=True, eq=False, slots=True)
class CompiledUnaryTests:
    """A compiled unary-tests cell (``< 10``, ``[1..5]``, ``"a", "b"``, ``not(…)``, ``-``)."""

    source: str
    ast: ast.UnaryTests | ast.AnyTest
    free_names: frozenset[str]
    limits: Limits = DEFAULT_LIMITS
    _test: Callable[[Any, Scope], bool] = field(default=lambda v, s: False, repr=False)
    _calls: bool = field(default=False, repr=False)

    def with_limits(self, limits: Limits) -> CompiledUnaryTests:
        """The same tests evaluated under other budgets."""
        return replace(self, limits=limits)

    def matches(self, value: Any, variables: Mapping[str, Any] | None = None) -> bool:
        """Whether ``value`` (bound to ``?``) satisfies the tests."""
        if self._calls:
            converted, test = to_feel(value), self._test
            inputs = _inputs(variables, self.free_names)
            run = _run(lambda s: test(converted, s), self.source, inputs, variables, self.limits, True, False)
            return bool(run[0])
        state = State(self.limits, self.source, variables)
        try:
            return self._test(to_feel(value), Scope(_inputs(variables, self.free_names), None, state))
        except RecursionError:
            raise ExpressionError("evaluation recursed too deeply", expression=self.source) from None
        finally:
            state.active = False

    def matches_with_messages(
        self, value: Any, variables: Mapping[str, Any] | None = None
    ) -> tuple[bool, list[str]]:
        """Like :meth:`matches`, with the evaluation messages."""
        converted = to_feel(value)
        test = self._test
        result, messages = _run(
            lambda s: test(converted, s),
            self.source,
            _inputs(variables, self.free_names),
            variables,
            self.limits,
            self._calls,
        )
        return bool(result), messages


# --------------------------------------------------------------------------- compilation


@cache
def _builtin_table() -> dict[str, list[tuple[str, ...]]]:
    return known_name_table(builtin_names() | BUILTIN_TYPE_NAMES)


def _table(known: frozenset[str]) -> dict[str, list[tuple[str, ...]]]:
    if not known:
        return _builtin_table()
    merged = {k: list(v) for k, v in _builtin_table().items()}
    for first, entries in known_name_table(known).items():
        merged.setdefault(first, []).extend(entries)
        merged[first].sort(key=len, reverse=True)
    return merged


def _relevant(text: str, known_names: Iterable[str]) -> frozenset[str]:
    """Only multi-word known names that occur in the text matter (keeps the cache key small)."""
    return frozenset(n for n in known_names if n in text and not n.isidentifier())


def _tokens(text: str, known: frozenset[str]) -> list[RawToken]:
    return tokenize(text, _table(known), max_tokens=MAX_TOKENS)


@lru_cache(maxsize=_CACHE_SIZE)
def _compile_feel(text: str, known: frozenset[str]) -> CompiledExpression:
    tree = parse_tokens(_tokens(text, known), text)
    return _finish(text, tree, "feel")


def _finish(text: str, tree: ast.Node, dialect: Dialect) -> CompiledExpression:
    compiler = Compiler(text)
    try:
        fn = compiler.compile(tree)
    except RecursionError:
        raise ExpressionSyntaxError(
            "expression nested too deeply", expression=text, line=1, column=1
        ) from None
    return CompiledExpression(
        text, tree, frozenset(compiler.free), dialect, DEFAULT_LIMITS, fn, compiler.has_calls
    )


def compile_expression(
    text: str, *, dialect: Dialect = "feel", known_names: Iterable[str] = ()
) -> CompiledExpression:
    """Compile a FEEL expression (or a ``${…}`` body with ``dialect="juel"``).

    ``known_names`` are the variable names in scope (decision and input names); they let the
    scanner read names containing spaces or ``- + * / . '`` such as ``Loan-to-value``.
    Raises ``ExpressionSyntaxError`` (with line and column) when the text does not parse.
    """
    if dialect == "juel":
        from .juel import compile_juel

        return compile_juel(text)
    if dialect != "feel":
        raise ExpressionError(f"unknown expression dialect {dialect!r} (expected 'feel' or 'juel')")
    return _compile_feel(text, _relevant(text, known_names))


def _is_negation(tokens: list[RawToken]) -> bool:
    if len(tokens) < 3 or tokens[0].kind != "NAME" or tokens[0].text != "not" or tokens[1].kind != "LPAR":
        return False
    depth = 0
    for k, tok in enumerate(tokens[1:], start=1):
        if tok.kind in ("LPAR", "LSQB", "LBRACE"):
            depth += 1
        elif tok.kind in ("RPAR", "RSQB", "RBRACE"):
            depth -= 1
            if depth == 0:
                return k == len(tokens) - 1
    return False


@lru_cache(maxsize=_CACHE_SIZE)
def _compile_tests(text: str, known: frozenset[str]) -> CompiledUnaryTests:
    stripped = text.strip()
    if stripped in ("", "-"):
        return CompiledUnaryTests(text, ast.AnyTest(), frozenset(), DEFAULT_LIMITS, lambda v, s: True)
    tokens = _tokens(text, known)
    if not tokens or (len(tokens) == 1 and tokens[0].kind == "MINUS"):
        # Comments are whitespace (§10.3.1.2), so "- // any" and "/* none */" are still the
        # match-anything entry.
        return CompiledUnaryTests(text, ast.AnyTest(), frozenset(), DEFAULT_LIMITS, lambda v, s: True)
    negated = _is_negation(tokens)
    body = tokens[2:-1] if negated else tokens
    parsed = parse_tokens(body, text, start="positive_unary_tests")
    node = ast.UnaryTests(parsed.tests, negated)
    check_depth(node, text)
    compiler = Compiler(text)
    try:
        test = _build_tests(compiler, node)
    except RecursionError:
        raise ExpressionSyntaxError(
            "expression nested too deeply", expression=text, line=1, column=1
        ) from None
    return CompiledUnaryTests(text, node, frozenset(compiler.free), DEFAULT_LIMITS, test, compiler.has_calls)


def compile_unary_tests(text: str, *, known_names: Iterable[str] = ()) -> CompiledUnaryTests:
    """Compile the unary tests of a decision-table input entry (empty or ``-`` match anything)."""
    return _compile_tests(text, _relevant(text, known_names))


def compile_condition(text: str, *, known_names: Iterable[str] = ()) -> CompiledExpression:
    """A CMMN condition: ``${…}`` / ``#{…}`` in the JUEL-like dialect, anything else as FEEL."""
    stripped = text.strip()
    if stripped[:2] in ("${", "#{") and stripped.endswith("}"):
        from .juel import compile_juel

        return compile_juel(text)
    return compile_expression(stripped, known_names=known_names)
