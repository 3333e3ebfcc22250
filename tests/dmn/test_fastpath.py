"""The decision-table fast paths must agree with the FEEL unary-test evaluator."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from casepilot.dmn import feel
from casepilot.dmn._fastpath import constant_expression, fast_unary_tests, simple_path, split_top_level

TESTS = [
    "-",
    "5",
    "-2.5",
    ".5",
    '"gold"',
    '"a\\"b"',
    "true",
    "false",
    "null",
    "< 10",
    "<= 10",
    "> -3",
    ">= 18",
    '< "m"',
    "[1..5]",
    "(1..5)",
    "]1..5[",
    "[1..5)",
    '"a", "b", "c"',
    "1, 2, 3",
    "< 0, > 100",
    '1, "1"',
]
VALUES: list[Any] = [
    None,
    Decimal(-3),
    Decimal(0),
    Decimal(1),
    Decimal("2.5"),
    Decimal("0.5"),
    Decimal(5),
    Decimal(10),
    Decimal(18),
    Decimal(101),
    "gold",
    'a"b',
    "a",
    "1",
    "z",
    True,
    False,
    [Decimal(1)],
    dt.date(2024, 1, 1),
]


@pytest.mark.parametrize("text", TESTS)
def test_fast_tests_agree_with_feel(text: str) -> None:
    fast = fast_unary_tests(text)
    assert fast is not None, text
    compiled = feel.compile_unary_tests(text)
    for value in VALUES:
        assert fast(value) == (compiled.matches(value) is True), (text, value)


@pytest.mark.parametrize("text", ["? > 5", 'date("2020-01-01")', "not(5)", "x", "[a..b]", "count(?) > 1"])
def test_anything_else_is_left_to_feel(text: str) -> None:
    assert fast_unary_tests(text) is None


def test_constants_paths_and_splitting() -> None:
    assert constant_expression(' "x" ') == (True, "x")
    assert constant_expression("12.50") == (True, Decimal("12.50"))
    assert constant_expression("a + 1") == (False, None)
    assert simple_path("Applicant Age") == ("Applicant Age",)
    assert simple_path("Loan.amount") == ("Loan", "amount")
    assert simple_path("not x") is None
    assert simple_path("a + b") is None
    assert split_top_level('"a,b", f(1, 2), [3, 4]') == ['"a,b"', " f(1, 2)", " [3, 4]"]
