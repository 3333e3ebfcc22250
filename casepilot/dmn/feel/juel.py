"""The ``${…}`` condition dialect of Flowable / Camunda models, parsed into the FEEL AST.

Supported: variable paths (``a.b``, ``a['b']``, ``a[0]``), literals (numbers, ``'single'``
and ``"double"`` strings, ``true``/``false``/``null``), comparisons (``== != < > <= >=`` and
``eq ne lt gt le ge``), ``and``/``or``/``not`` and ``&& || !``, arithmetic (``+ - * / %``,
``div``, ``mod``), ``empty x`` and ``a ? b : c``. Anything else — method calls such as
``execution.getVariable('x')``, functions like ``vars:get(x)`` — is refused at compile
time with an ``ExpressionSyntaxError`` naming the construct; nothing is ever evaluated by
Python.

Semantics are FEEL's (one evaluator for both dialects). Where JUEL differs we chose:

* no type coercion: ``1 == '1'`` is null (not true), so the condition does not hold;
* three-valued logic: ``!x`` with ``x`` null is null, which a condition treats as false;
* ``empty x`` is true for null, ``''``, an empty list and an empty map, false otherwise;
* ``a[0]`` indexes lists from 0 as in JUEL; only literal indexes/keys are accepted.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from casepilot.errors import ExpressionSyntaxError

from . import ast
from ._api import CompiledExpression, _finish
from ._lexer import unescape
from ._parser import check_depth
from .values import FEEL_DECIMAL

__all__ = ["compile_juel", "parse_juel"]

_OPS: dict[str, ast.BinaryOperator] = {
    "==": "=", "eq": "=", "!=": "!=", "ne": "!=", "<": "<", "lt": "<", ">": ">", "gt": ">",
    "<=": "<=", "le": "<=", ">=": ">=", "ge": ">=", "+": "+", "-": "-", "*": "*", "/": "/", "div": "/",
}  # fmt: skip


class _Unsupported(Exception):
    def __init__(self, message: str, token: Token | None) -> None:
        super().__init__(message)
        self.message = message
        self.token = token


class _CallMarker:
    """Placeholder for ``(…)`` in a path, which is refused."""


_TERMINALS = {
    "ADD_OP": "'+' or '-'", "MUL_OP": "'*', '/' or '%'", "EQ_OP": "'==' or '!='", "REL_OP": "'<', '>', '<=' or '>='",
    "AND": "'&&'", "OR": "'||'", "NOT": "'!'", "EMPTY": "'empty'", "IDENT": "a name", "NUMBER": "a number",
    "STRING": "a string", "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "COLON": "':'",
    "COMMA": "','", "QMARK": "'?'", "DOT": "'.'", "MINUS": "'-'", "TRUE": "'true'", "FALSE": "'false'",
    "NULL": "'null'",
}  # fmt: skip


def _first_token(children: list[Any]) -> Token | None:
    for c in children:
        if isinstance(c, Token):
            return c
    return None


def _path_text(node: ast.Node) -> str:
    if isinstance(node, ast.Name):
        return node.name
    if isinstance(node, ast.Path):
        return f"{_path_text(node.target)}.{node.name}"
    if isinstance(node, ast.Filter):
        return f"{_path_text(node.target)}[…]"
    return "…"


class _ToAst(Transformer[Token, Any]):
    def number(self, c: list[Any]) -> ast.Literal_:
        return ast.Literal_(FEEL_DECIMAL.create_decimal(str(c[0])))

    def string(self, c: list[Any]) -> ast.Literal_:
        return ast.Literal_(unescape(str(c[0])[1:-1]))

    def true(self, c: list[Any]) -> ast.Literal_:
        return ast.Literal_(True)

    def false(self, c: list[Any]) -> ast.Literal_:
        return ast.Literal_(False)

    def null(self, c: list[Any]) -> ast.Literal_:
        return ast.Literal_(None)

    def call_arguments(self, c: list[Any]) -> _CallMarker:
        return _CallMarker()

    def path(self, c: list[Any]) -> ast.Node:
        node: ast.Node = ast.Name(str(c[0]))
        for part in c[1:]:
            if isinstance(part, _CallMarker):
                raise _Unsupported(
                    f"method call {_path_text(node)}(…) is not supported in ${{…}} conditions", c[0]
                )
            if isinstance(part, Token):
                node = ast.Path(node, str(part))
            elif isinstance(part, ast.Literal_) and isinstance(part.value, str):
                node = ast.Path(node, part.value)
            elif isinstance(part, ast.Literal_) and isinstance(part.value, Decimal):
                if part.value != part.value.to_integral_value() or part.value < 0:
                    raise _Unsupported("a list index must be a whole number ≥ 0", _first_token(c))
                node = ast.Filter(node, ast.Literal_(part.value + 1))
            else:
                raise _Unsupported(
                    f"dynamic index {_path_text(node)}[expression] is not supported; use a literal key",
                    _first_token(c),
                )
        return node

    def function_call(self, c: list[Any]) -> ast.Node:
        raise _Unsupported(f"function call {c[0]}:{c[1]}(…) is not supported in ${{…}} conditions", c[0])

    def ternary(self, c: list[Any]) -> ast.If:
        return ast.If(c[0], c[1], c[2])

    def logical_or(self, c: list[Any]) -> ast.Logical:
        return ast.Logical("or", c[0], c[2])

    def logical_and(self, c: list[Any]) -> ast.Logical:
        return ast.Logical("and", c[0], c[2])

    def compare(self, c: list[Any]) -> ast.BinaryOp:
        return ast.BinaryOp(_OPS[str(c[1])], c[0], c[2])

    def arith(self, c: list[Any]) -> ast.Node:
        op = str(c[1])
        if op in ("%", "mod"):
            return ast.Call(ast.Name("modulo"), (c[0], c[2]))
        return ast.BinaryOp(_OPS[op], c[0], c[2])

    def negative(self, c: list[Any]) -> ast.Node:
        operand = c[-1]
        if isinstance(operand, ast.Literal_) and isinstance(operand.value, Decimal):
            return ast.Literal_(FEEL_DECIMAL.minus(operand.value))
        return ast.Negation(operand)

    def logical_not(self, c: list[Any]) -> ast.Not:
        return ast.Not(c[1])

    def empty(self, c: list[Any]) -> ast.BinaryOp:
        # `(x in (null, "", [], {})) = true`: two-valued, as JUEL's `empty` is
        empties = (ast.Literal_(None), ast.Literal_(""), ast.ListLiteral(()), ast.ContextLiteral(()))
        return ast.BinaryOp("=", ast.In(c[1], empties), ast.Literal_(True))


@cache
def _lark() -> Lark:
    grammar = resources.files(__package__).joinpath("juel.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", transformer=_ToAst(), maybe_placeholders=False)


def _strip(text: str) -> tuple[str, int]:
    """Remove a ``${…}`` / ``#{…}`` wrapper; return the body and its column offset."""
    stripped = text.strip()
    if stripped[:2] in ("${", "#{") and stripped.endswith("}"):
        return stripped[2:-1], text.index(stripped[:2]) + 2
    return text, 0


def parse_juel(text: str) -> ast.Node:
    """Parse a ``${…}`` expression (with or without the wrapper) into the FEEL AST."""
    body, offset = _strip(text)
    if not body.strip():
        raise ExpressionSyntaxError("empty expression", expression=text, line=1, column=offset + 1)
    try:
        tree: ast.Node = _lark().parse(body)  # type: ignore[assignment]
    except UnexpectedToken as exc:
        expected = ", ".join(sorted(_TERMINALS.get(t, repr(t)) for t in exc.expected))
        found = "the end of the expression" if exc.token.type == "$END" else repr(str(exc.token))
        if exc.token.type == "$END":
            line, column = body.count("\n") + 1, len(body) - (body.rfind("\n") + 1) + 1
        else:
            line, column = exc.line, exc.column
        raise ExpressionSyntaxError(
            f"unexpected {found}; expected {expected}",
            expression=text,
            line=line,
            column=column + (offset if line == 1 else 0),
        ) from None
    except UnexpectedCharacters as exc:
        raise ExpressionSyntaxError(
            f"unexpected character {body[exc.pos_in_stream or 0]!r}",
            expression=text,
            line=exc.line,
            column=exc.column + (offset if exc.line == 1 else 0),
        ) from None
    except UnexpectedInput as exc:  # pragma: no cover - other lark input errors
        raise ExpressionSyntaxError(str(exc), expression=text, line=exc.line, column=exc.column) from None
    except (VisitError, _Unsupported) as exc:
        problem = exc.orig_exc if isinstance(exc, VisitError) else exc
        if isinstance(problem, _Unsupported):
            token = problem.token
            line = token.line if token is not None and isinstance(token.line, int) else 1
            column = token.column if token is not None and isinstance(token.column, int) else 1
            raise ExpressionSyntaxError(
                problem.message, expression=text, line=line, column=column + (offset if line == 1 else 0)
            ) from None
        raise
    check_depth(tree, text)
    return tree


@lru_cache(maxsize=2048)
def compile_juel(text: str) -> CompiledExpression:
    """Compile a ``${…}`` expression into the same closures as FEEL."""
    return _finish(text, parse_juel(text), "juel")
