"""The FEEL scanner and grammar: names, brackets, precedence and the AST they produce."""

from __future__ import annotations

from decimal import Decimal

import pytest

from casepilot.dmn.feel import ast as A
from casepilot.dmn.feel import compile_expression, compile_unary_tests
from casepilot.dmn.feel._lexer import known_name_table, scan, tokenize


def parse(text: str, known: list[str] | None = None) -> A.Node:
    return compile_expression(text, known_names=known or []).ast


def kinds(text: str, known: list[str] | None = None) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in tokenize(text, known_name_table(known or []), max_tokens=1000)]


def num(n: int) -> A.Literal_:
    return A.Literal_(Decimal(n))


def test_precedence() -> None:
    assert parse("1 + 2 * 3 ** 2") == A.BinaryOp(
        "+", num(1), A.BinaryOp("*", num(2), A.BinaryOp("**", num(3), num(2)))
    )
    assert parse("a or b and c") == A.Logical("or", A.Name("a"), A.Logical("and", A.Name("b"), A.Name("c")))
    assert parse("a = 1 and b") == A.Logical("and", A.BinaryOp("=", A.Name("a"), num(1)), A.Name("b"))
    assert parse("x in y and z") == A.Logical("and", A.In(A.Name("x"), (A.Name("y"),)), A.Name("z"))
    assert parse("-x.y") == A.Negation(A.Path(A.Name("x"), "y"))


def test_postfix_chain() -> None:
    assert parse("f(1)[2].a") == A.Path(A.Filter(A.Call(A.Name("f"), (num(1),)), num(2)), "a")
    assert parse("f(a: 1)") == A.Call(A.Name("f"), (), (("a", num(1)),))
    assert parse("not(x)") == A.Not(A.Name("x"))


def test_compound_forms() -> None:
    assert parse("for i in 1..3 return i") == A.For((A.Iterator("i", num(1), num(3)),), A.Name("i"))
    assert parse("some x in l satisfies x") == A.Quantified(
        "some", (A.Iterator("x", A.Name("l")),), A.Name("x")
    )
    assert parse("function(a: number, b) a") == A.FunctionDefinition(
        (A.Parameter("a", A.NamedType("number")), A.Parameter("b")), A.Name("a")
    )
    assert parse("x instance of list<context<a: number>>") == A.InstanceOf(
        A.Name("x"), A.GenericType("list", A.ContextType((("a", A.NamedType("number")),)))
    )


def test_interval_brackets() -> None:
    assert parse("[1..2]") == A.RangeLiteral(num(1), num(2), True, True)
    assert parse("]1..2[") == A.RangeLiteral(num(1), num(2), False, False)
    assert parse("[1..2[") == A.RangeLiteral(num(1), num(2), True, False)
    assert parse("(1..2]") == A.RangeLiteral(num(1), num(2), False, True)
    assert parse("[]") == A.ListLiteral(())
    assert parse("[[1]]") == A.ListLiteral((A.ListLiteral((num(1),)),))
    assert parse("[a][1]") == A.Filter(A.ListLiteral((A.Name("a"),)), num(1))
    assert parse("x in ]1..2[") == A.In(A.Name("x"), (A.RangeLiteral(num(1), num(2), False, False),))


def test_adjacent_words_form_one_name() -> None:
    assert kinds("Monthly Salary * 12") == [("NAME", "Monthly Salary"), ("STAR", "*"), ("NUMBER", "12")]
    assert kinds("Applicant's  age") == [("NAME", "Applicant's age")]
    assert kinds("for x in y return x")[0] == ("FOR", "for")


def test_known_names_resolve_operators_and_keywords() -> None:
    assert kinds("Loan-to-value * 2", ["Loan-to-value"])[0] == ("NAME", "Loan-to-value")
    assert kinds("Loan-to-value * 2")[:2] == [("NAME", "Loan"), ("MINUS", "-")]
    assert kinds("Is for sale", ["Is for sale"]) == [("NAME", "Is for sale")]
    assert kinds("a/b + c.d", ["a/b", "c.d"]) == [("NAME", "a/b"), ("PLUS", "+"), ("NAME", "c.d")]
    # the longest known name wins
    assert kinds("a b c", ["a b", "a b c"]) == [("NAME", "a b c")]
    # a known name never swallows string literals
    assert kinds('x "y"', ["x y"]) == [("NAME", "x"), ("STRING", "y")]


def test_builtin_names_with_keywords() -> None:
    assert parse('date and time("2020-01-01T00:00:00")') == A.Call(
        A.Name("date and time"), (A.Literal_("2020-01-01T00:00:00"),)
    )
    assert parse("a and time") == A.Logical("and", A.Name("a"), A.Name("time"))


def test_context_keys_may_contain_operators() -> None:
    assert parse('{foo+bar: 1, "a b": 2, c d: 3}') == A.ContextLiteral(
        (("foo+bar", num(1)), ("a b", num(2)), ("c d", num(3)))
    )


def test_comments_and_positions() -> None:
    tokens = scan("1 /* two\nlines */ +\n  x // end", max_tokens=100)
    assert [(t.text, t.line, t.column) for t in tokens] == [("1", 1, 1), ("+", 2, 10), ("x", 3, 3)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r'"a\"b"', 'a"b'),
        (r'"tab\there"', "tab\there"),
        (r'"\\"', "\\"),
        (r'"\u00e9"', "é"),
        (r'"\U01F40E"', "\U0001f40e"),
        (r'"\U0001F40E"', "\U0001f40e"),
        (r'"\ud83d\udc0e"', "\U0001f40e"),
        # only DMN 1.5's escapes decode; any other backslash stays (regex patterns need it)
        (r'"a\d"', "a\\d"),
        (r'"\d{3}\s\b\f\q"', "\\d{3}\\s\\b\\f\\q"),
        (r'"\'x\'\r\n"', "'x'\r\n"),
        (r'"\UFFFFFFFF"', "\\UFFFFFFFF"),  # not a code point: kept, never a crash
    ],
)
def test_string_escapes(text: str, value: str) -> None:
    assert parse(text) == A.Literal_(value)


def test_unary_tests_ast() -> None:
    assert compile_unary_tests("not(< 1, 2)").ast == A.UnaryTests(
        (A.UnaryComparison("<", num(1)), num(2)), negated=True
    )
    assert compile_unary_tests("-").ast == A.AnyTest()
    assert compile_unary_tests("not(1) = x").ast == A.UnaryTests(
        (A.BinaryOp("=", A.Not(num(1)), A.Name("x")),), negated=False
    )


def test_nodes_are_frozen_and_hashable() -> None:
    node = parse("a + 1")
    assert hash(node) == hash(parse("a + 1"))
    with pytest.raises(AttributeError):
        node.op = "-"  # type: ignore[misc]
