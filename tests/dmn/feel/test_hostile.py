"""Hostile expressions stop with ExpressionError after bounded work and memory."""

from __future__ import annotations

import pytest

from casepilot.dmn.feel import (
    ExpressionError,
    ExpressionSyntaxError,
    Limits,
    compile_condition,
    compile_expression,
)

SMALL = Limits(max_steps=5_000, max_list_length=10_000, max_string_length=10_000, max_allocated_chars=100_000)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 10_000 + "1" + ")" * 10_000,
        "[" * 500 + "]" * 500,
        "{a: " * 500 + "1" + "}" * 500,
        "1" + " + 1" * 10_000,
        "if true then " * 300 + "1" + " else 0" * 300,
        "f(" * 400 + ")" * 400,
        "a" + ".b" * 500,
        "x" * 50 + "[1]" * 500,
    ],
)
def test_deep_or_long_expressions_are_refused_at_compile_time(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError, match=r"too deeply|too long"):
        compile_expression(text)


def test_deep_juel_is_refused() -> None:
    with pytest.raises(ExpressionSyntaxError, match="too deeply"):
        compile_condition("${" + "!" * 5_000 + "x}")


def test_long_negation_chain_folds() -> None:
    assert compile_expression("-" * 1000 + "1").evaluate({}) == 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("for i in 1..1000000000 return i", "list of 1000000000 items"),
        ("for i in [1..1000000000] return i", "list of 1000000000 items"),
        ("for a in 1..100, b in 1..100, c in 1..100 return 1", "steps"),
        ("some a in 1..100, b in 1..100, c in 1..100 satisfies false", "steps"),
        ("{f: function(n) if n = 0 then 0 else f(n - 1) + f(n - 1), r: f(40)}.r", "steps"),
        ("count([1, 2, 3][item > 0]) + count(for i in 1..100000 return i)", "list of"),
        (
            '{a: "xxxxxxxxxx"'
            + "".join(f", k{i}: k{i - 1} + k{i - 1}" if i else ", k0: a + a" for i in range(20))
            + "}",
            "string of",
        ),
        ('string join(for i in 1..5000 return "xxxxxxxxxx")', "string of"),
        (
            "{l: [1, 2, 3, 4, 5, 6, 7, 8], "
            + ", ".join(
                f"l{i}: concatenate({'l' if i == 0 else f'l{i - 1}'}, {'l' if i == 0 else f'l{i - 1}'})"
                for i in range(20)
            )
            + "}",
            "list of",
        ),
    ],
)
def test_runaway_evaluation_stops(text: str, reason: str) -> None:
    expr = compile_expression(text).with_limits(SMALL)
    with pytest.raises(ExpressionError, match=reason):
        expr.evaluate({})


def test_infinite_recursion_stops() -> None:
    expr = compile_expression("{f: function(n) f(n + 1), r: f(1)}.r")
    with pytest.raises(ExpressionError, match=r"recursed too deeply|steps"):
        expr.evaluate({})


def test_huge_numbers_are_null_not_hangs() -> None:
    result, notes = compile_expression("10 ** 999999999").evaluate_with_messages({})
    assert result is None
    assert notes and "out of range" in notes[0]
    assert compile_expression("1 ** 999999999").evaluate({}) == 1
    assert compile_expression("0.5 ** 999999999").evaluate({}) == 0


def test_default_limits_allow_ordinary_work() -> None:
    assert compile_expression("sum(for i in 1..10000 return i)").evaluate({}) == 50005000
    assert compile_expression("count(for i in 1..100, j in 1..100 return i * j)").evaluate({}) == 10000


def test_unary_tests_have_limits_too() -> None:
    from casepilot.dmn.feel import compile_unary_tests

    tests = compile_unary_tests("count(for i in 1..100000 return i) > 0").with_limits(SMALL)
    with pytest.raises(ExpressionError):
        tests.matches(1)
