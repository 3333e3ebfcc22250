"""FEEL text → AST: the lark LALR parser over the scanner's tokens, plus safety limits.

The tree is built bottom-up by the transformer while lark reduces, so parsing never
recurses; the AST depth is then checked iteratively so that a hostile expression
(10,000 nested parentheses, a 10,000-term chain) is refused here instead of exhausting
the Python stack in the compiler or at evaluation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput, UnexpectedToken, VisitError

from casepilot.errors import ExpressionSyntaxError

from . import ast
from ._lexer import RawToken, TokenListLexer
from .temporal import parse_temporal_literal
from .values import FEEL_DECIMAL

__all__ = ["MAX_DEPTH", "MAX_TOKENS", "parse_tokens"]

MAX_DEPTH = 120
"""Deepest AST accepted; deeper expressions are refused as hostile (or machine-made)."""

MAX_TOKENS = 20_000
"""Longest expression accepted, in tokens."""

_TERMINAL_TEXT = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "TEMPORAL": 'an @"…" literal',
    "$END": "the end of the expression",
    "OPEN_START": "']'",
    "OPEN_END": "'['",
}
_PUNCT_TEXT = {
    "PLUS": "+", "MINUS": "-", "STAR": "*", "SLASH": "/", "POW": "**", "EQ": "=", "NE": "!=", "LT": "<",
    "LE": "<=", "GT": ">", "GE": ">=", "DOTDOT": "..", "DOT": ".", "COMMA": ",", "COLON": ":", "ARROW": "->",
    "LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "LBRACE": "{", "RBRACE": "}",
}  # fmt: skip


def describe_terminal(name: str) -> str:
    """Human wording of a grammar terminal for error messages."""
    if name in _TERMINAL_TEXT:
        return _TERMINAL_TEXT[name]
    if name in _PUNCT_TEXT:
        return repr(_PUNCT_TEXT[name])
    return repr(name.lower())


_EXPECTED_ORDER = ("NAME", "NUMBER", "STRING", "RPAR", "RSQB", "RBRACE", "COMMA", "COLON", "DOTDOT", "$END")


def describe_expected(terminals: Iterable[str]) -> str:
    """'a name, a number, ')' or …' — the most telling alternatives first, at most eight."""
    names = {t for t in terminals if t not in ("OPEN_START", "OPEN_END")}
    first = [t for t in _EXPECTED_ORDER if t in names]
    rest = sorted(names - set(first), key=describe_terminal)
    words = [describe_terminal(t) for t in first + rest]
    return ", ".join(words[:8]) + (", …" if len(words) > 8 else "")


class _Syntax(Exception):
    """Raised inside the transformer; converted to ExpressionSyntaxError with a position."""

    def __init__(self, message: str, token: Token | None) -> None:
        super().__init__(message)
        self.message = message
        self.token = token


def _tokens(children: Sequence[Any]) -> list[Token]:
    return [c for c in children if isinstance(c, Token)]


def _values(children: Sequence[Any]) -> list[Any]:
    return [c for c in children if not isinstance(c, Token)]


class _ToAst(Transformer[Token, Any]):
    """Callbacks run at each LALR reduction (no recursion over the tree)."""

    def start(self, c: list[Any]) -> Any:
        return c[0]

    def positive_unary_tests(self, c: list[Any]) -> ast.UnaryTests:
        return ast.UnaryTests(tuple(_values(c)))

    def primary(self, c: list[Any]) -> Any:  # ( expression )
        return _values(c)[0]

    # --- names and literals
    def name(self, c: list[Any]) -> ast.Name:
        return ast.Name(str(c[0]))

    def number(self, c: list[Any]) -> ast.Literal_:
        return ast.Literal_(FEEL_DECIMAL.create_decimal(str(c[0])))

    def string(self, c: list[Any]) -> ast.Literal_:
        return ast.Literal_(str(c[0]))

    def temporal(self, c: list[Any]) -> ast.Node:
        try:
            return ast.Literal_(parse_temporal_literal(str(c[0])))
        except ValueError as exc:
            # FEEL: an invalid @-literal is null at run time, not a model error
            return ast.Invalid(str(exc))

    def true(self, c: list[Any]) -> ast.Literal_:
        return ast.Literal_(True)

    def false(self, c: list[Any]) -> ast.Literal_:
        return ast.Literal_(False)

    def null(self, c: list[Any]) -> ast.Literal_:
        return ast.Literal_(None)

    def list_literal(self, c: list[Any]) -> ast.ListLiteral:
        return ast.ListLiteral(tuple(_values(c)))

    def context_entry(self, c: list[Any]) -> tuple[str, Any]:
        return (str(c[0]), c[2])

    def context(self, c: list[Any]) -> ast.Node:
        entries = _values(c)
        seen: set[str] = set()
        for key, _ in entries:
            if key in seen:
                return ast.Invalid(f"duplicate context entry {key!r}")
            seen.add(key)
        return ast.ContextLiteral(tuple(entries))

    def interval(self, c: list[Any]) -> ast.RangeLiteral:
        opening, _, closing = _tokens(c)
        start, end = _values(c)
        return ast.RangeLiteral(start, end, opening.type == "LSQB", closing.type == "RSQB")

    def comparison_range(self, c: list[Any]) -> ast.UnaryComparison:
        # `(< 10)`: a range value in expressions, a unary test after `in`
        return ast.UnaryComparison(str(c[1]), _values(c)[0])  # type: ignore[arg-type]

    # --- operators
    def disjunction(self, c: list[Any]) -> ast.Logical:
        return ast.Logical("or", c[0], c[2])

    def conjunction(self, c: list[Any]) -> ast.Logical:
        return ast.Logical("and", c[0], c[2])

    def comparison_op(self, c: list[Any]) -> str:
        return str(c[0])

    def comparison(self, c: list[Any]) -> ast.BinaryOp:
        return ast.BinaryOp(c[1], c[0], c[2])

    def arith(self, c: list[Any]) -> ast.BinaryOp:
        return ast.BinaryOp(str(c[1]), c[0], c[2])  # type: ignore[arg-type]

    def negation(self, c: list[Any]) -> ast.Node:
        operand = c[1]
        if isinstance(operand, ast.Literal_) and isinstance(operand.value, Decimal):
            return ast.Literal_(FEEL_DECIMAL.minus(operand.value))
        return ast.Negation(operand)

    def between(self, c: list[Any]) -> ast.Between:
        value, low, high = _values(c)
        return ast.Between(value, low, high)

    def in_test(self, c: list[Any]) -> ast.In:
        value, test = _values(c)
        return ast.In(value, (test,))

    def in_tests(self, c: list[Any]) -> ast.In:
        value, tests = _values(c)
        return ast.In(value, tests.tests)

    def instance_of(self, c: list[Any]) -> ast.InstanceOf:
        value, type_ = _values(c)
        return ast.InstanceOf(value, type_)

    def unary_comparison(self, c: list[Any]) -> ast.UnaryComparison:
        return ast.UnaryComparison(str(c[0]), c[1])  # type: ignore[arg-type]

    # --- postfix
    def path(self, c: list[Any]) -> ast.Path:
        return ast.Path(c[0], str(c[2]))

    def filter(self, c: list[Any]) -> ast.Filter:
        return ast.Filter(c[0], c[2])

    def positional_arguments(self, c: list[Any]) -> tuple[str, tuple[Any, ...]]:
        return ("positional", tuple(_values(c)))

    def named_arguments(self, c: list[Any]) -> tuple[str, tuple[Any, ...]]:
        return ("named", tuple(_values(c)))

    def named_argument(self, c: list[Any]) -> tuple[str, Any]:
        return (str(c[0]), c[2])

    def arguments(self, c: list[Any]) -> Any:
        return c[0]

    def invocation(self, c: list[Any]) -> ast.Node:
        target = c[0]
        values = _values(c)
        kind: str = "positional"
        args: tuple[Any, ...] = ()
        if len(values) > 1:
            kind, args = values[1]
        if kind == "named":
            names = [n for n, _ in args]
            if len(set(names)) != len(names):
                raise _Syntax("a named argument is given twice", _tokens(c)[0])
            return ast.Call(target, (), tuple(args))
        if isinstance(target, ast.Name) and target.name == "not" and len(args) == 1:
            return ast.Not(args[0])
        return ast.Call(target, tuple(args))

    # --- compound expressions
    def if_expression(self, c: list[Any]) -> ast.If:
        cond, then, otherwise = _values(c)
        return ast.If(cond, then, otherwise)

    def iteration_context(self, c: list[Any]) -> ast.Iterator:
        values = _values(c)
        return ast.Iterator(str(c[0]), values[0], values[1] if len(values) > 1 else None)

    def iteration_contexts(self, c: list[Any]) -> tuple[Any, ...]:
        return tuple(_values(c))

    quantified_contexts = iteration_contexts

    def for_expression(self, c: list[Any]) -> ast.For:
        iterators, body = _values(c)
        return ast.For(iterators, body)

    def quantified_expression(self, c: list[Any]) -> ast.Quantified:
        iterators, condition = _values(c)
        return ast.Quantified("some" if c[0].type == "SOME" else "every", iterators, condition)

    def formal_parameter(self, c: list[Any]) -> ast.Parameter:
        values = _values(c)
        return ast.Parameter(str(c[0]), values[0] if values else None)

    def formal_parameters(self, c: list[Any]) -> tuple[Any, ...]:
        return tuple(_values(c))

    def function_definition(self, c: list[Any]) -> ast.FunctionDefinition:
        values = _values(c)
        params: tuple[ast.Parameter, ...] = values[0] if len(values) == 2 else ()
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise _Syntax("a function parameter is declared twice", c[0])
        external = any(t.type == "EXTERNAL" for t in _tokens(c))
        return ast.FunctionDefinition(params, values[-1], external)

    # --- types
    def named_type(self, c: list[Any]) -> ast.NamedType:
        return ast.NamedType(str(c[0]))

    def qualified_type(self, c: list[Any]) -> ast.NamedType:
        """``prefix.tName``: an item definition of an imported model (grammar rule 54)."""
        return ast.NamedType(".".join(str(t) for t in _tokens(c) if t.type == "NAME"))

    def generic_type(self, c: list[Any]) -> ast.TypeRef:
        name = str(c[0])
        if name not in ("list", "range"):
            raise _Syntax(f"unknown generic type {name!r} (expected list<…>, range<…> or context<…>)", c[0])
        return ast.GenericType(name, c[2])  # type: ignore[arg-type]

    def context_type_entries(self, c: list[Any]) -> tuple[tuple[str, Any], ...]:
        names = [str(t) for t in _tokens(c) if t.type == "NAME"]
        return tuple(zip(names, _values(c), strict=True))

    def context_type(self, c: list[Any]) -> ast.ContextType:
        if str(c[0]) != "context":
            raise _Syntax(f"{str(c[0])!r}<name: type> is not a type; did you mean context<…>?", c[0])
        return ast.ContextType(c[2])

    def function_type(self, c: list[Any]) -> ast.FunctionType:
        values = _values(c)
        return ast.FunctionType(tuple(values[:-1]), values[-1])


@cache
def _lark() -> Lark:
    grammar = resources.files(__package__).joinpath("feel.lark").read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer=TokenListLexer,
        start=["start", "positive_unary_tests"],
        transformer=_ToAst(),
        maybe_placeholders=False,
    )


def _position(token: Any, tokens: Sequence[RawToken], text: str) -> tuple[int, int]:
    if getattr(token, "type", None) == "$END":
        token = None
    line = getattr(token, "line", None)
    column = getattr(token, "column", None)
    if isinstance(line, int) and isinstance(column, int):
        return line, column
    if tokens:
        last = tokens[-1]
        before = text[: last.end]
        return before.count("\n") + 1, last.end - (before.rfind("\n") + 1) + 1
    return 1, 1


def parse_tokens(tokens: Sequence[RawToken], text: str, *, start: str = "start") -> Any:
    """Parse scanned tokens into an AST (or ``UnaryTests`` for ``start='positive_unary_tests'``)."""
    if not tokens:
        raise ExpressionSyntaxError("empty expression", expression=text, line=1, column=1)
    try:
        tree = _lark().parse(tokens, start=start)  # type: ignore[arg-type,unused-ignore]
    except UnexpectedToken as exc:
        line, column = _position(exc.token, tokens, text)
        found = "the end of the expression" if exc.token.type == "$END" else repr(str(exc.token))
        shown = describe_expected(exc.expected)
        raise ExpressionSyntaxError(
            f"unexpected {found}; expected {shown}", expression=text, line=line, column=column
        ) from None
    except UnexpectedInput as exc:  # pragma: no cover - lark never raises other kinds with our lexer
        raise ExpressionSyntaxError(str(exc), expression=text, line=exc.line, column=exc.column) from None
    except VisitError as exc:
        orig = exc.orig_exc
        if isinstance(orig, _Syntax):
            line, column = _position(orig.token, tokens, text)
            raise ExpressionSyntaxError(orig.message, expression=text, line=line, column=column) from None
        raise
    except _Syntax as exc:
        line, column = _position(exc.token, tokens, text)
        raise ExpressionSyntaxError(exc.message, expression=text, line=line, column=column) from None
    check_depth(tree, text)
    return tree


def check_depth(root: Any, text: str, *, limit: int = MAX_DEPTH) -> None:
    """Refuse ASTs deeper than ``limit`` (iteratively, so the check itself cannot overflow)."""
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise ExpressionSyntaxError(
                f"expression nested too deeply (more than {limit} levels)", expression=text, line=1, column=1
            )
        if isinstance(node, tuple):
            stack.extend((child, depth) for child in node)
        elif dataclasses.is_dataclass(node) and not isinstance(node, type):
            for field in dataclasses.fields(node):
                child = getattr(node, field.name)
                if isinstance(child, (ast.Node, ast.TypeRef, tuple)):
                    stack.append((child, depth + 1))
