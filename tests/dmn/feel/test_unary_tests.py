"""Unary tests: decision-table input entries and the tests after ``in``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from casepilot.dmn.feel import ExpressionSyntaxError, FeelDate, Range, compile_unary_tests

CASES: list[tuple[str, Any, bool]] = [
    ("-", 1, True),
    ("-", None, True),
    ("", "x", True),
    ("< 5", 3, True),
    ("< 5", 5, False),
    ("<= 5", 5, True),
    ("> 5", 6, True),
    (">= 5", 4, False),
    ("< 5", None, False),
    ("< 5", "a", False),
    ("5", 5, True),
    ("5", 6, False),
    ('"a"', "a", True),
    ('"a", "b"', "b", True),
    ('"a", "b"', "c", False),
    ("[1..5]", 5, True),
    ("[1..5)", 5, False),
    ("]1..5]", 1, False),
    ("(1..5]", 1, False),
    ("[1..5[", 5, False),
    ("[1..5], > 10", 11, True),
    ("not(1, 2)", 3, True),
    ("not(1, 2)", 2, False),
    ("not(< 5)", 7, True),
    ('not("a")', "a", False),
    ("null", None, True),
    ("null", 1, False),
    ("not(null)", 1, True),
    ("true", True, True),
    ("false", True, False),
    ("? > 3", 4, True),
    ("? > 3", 2, False),
    ("? > 3 and ? < 10", 5, True),
    ('? = "x"', "x", True),
    ("string length(?) > 2", "abcd", True),
    ("[1, 2, 3]", 2, True),
    ("[1, 2, 3]", 4, False),
    ("[1, 2]", [1, 2], True),
    ("count(?) = 2", [1, 2], True),
    ("limit", 10, True),
    ("< limit", 9, True),
    ("[limit - 5..limit]", 5, True),
    ("range", 3, True),
    ("ok", 1, True),
    ('@"2020-01-01"', dt.date(2020, 1, 1), True),
    ('> @"2020-01-01"', dt.date(2020, 1, 2), True),
    ('[@"2020-01-01"..@"2020-12-31"]', dt.date(2020, 6, 1), True),
    ("= 5", 5, True),
    ("!= 5", 5, False),
    ("!= 5", 6, True),
    ("(< 5)", 3, True),
    ("<5,>10", 20, True),
    ("(!= 5)", 5, False),  # a (!= x) range value: everything but x
    ("(!= 5)", 6, True),
    ("(= 5)", 5, True),
    ('@"-2021-01-01"', FeelDate(-2021, 1, 1), True),
    ('< @"0001-01-01"', FeelDate(-2021, 1, 1), True),
]


@pytest.mark.parametrize(("text", "value", "expected"), CASES)
def test_unary_tests(text: str, value: Any, expected: bool) -> None:
    # a variable holding a range value tests membership; a boolean variable is the test result
    variables = {"limit": 10, "range": Range(1, 5, True, True), "ok": True}
    assert compile_unary_tests(text).matches(value, variables) is expected


def test_source_and_free_names() -> None:
    tests = compile_unary_tests("< limit, [a..b]")
    assert tests.source == "< limit, [a..b]"
    assert tests.free_names == frozenset({"limit", "a", "b"})
    assert compile_unary_tests("? > 1").free_names == frozenset()


def test_messages_from_unary_tests() -> None:
    matched, notes = compile_unary_tests("< lmit").matches_with_messages(3, {"limit": 5})
    assert matched is False
    assert any("did you mean 'limit'" in n for n in notes)


@pytest.mark.parametrize("text", ["< ", "[1..", "not(1", "1,", ">> 2"])
def test_syntax_errors(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_unary_tests(text)


def test_known_names_in_unary_tests() -> None:
    tests = compile_unary_tests("< Max-Amount", known_names=["Max-Amount"])
    assert tests.matches(5, {"Max-Amount": 10}) is True
