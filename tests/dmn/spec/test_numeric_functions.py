"""DMN 1.5 §10.3.4.5 numeric functions and §10.3.2.3.1 number arithmetic, written from the
specification text: results are decimal128 (34 significant digits, half-even rounding)."""

from __future__ import annotations

import pytest

from tests.dmn.spec._check import check

NUMERIC = [
    ("decimal(1/3, 2)", ".33"),
    ("decimal(1.5, 0)", "2"),
    ("decimal(2.5, 0)", "2"),
    ("decimal(-2.5, 0)", "-2"),
    ("decimal(n: 1.235, scale: 2)", "1.24"),
    ("decimal(123, -1)", "120"),
    ("decimal(1.5, null)", "null"),
    ('decimal("1", 0)', "null"),
    ("decimal(1, 6177)", "null"),
    ("decimal(1, -6112)", "null"),
    ("floor(1.5)", "1"),
    ("floor(-1.5)", "-2"),
    ("floor(n: 1.5)", "1"),
    ("floor(-1.56, 1)", "-1.6"),
    ("floor(n: 1.56, scale: 1)", "1.5"),
    ("floor(1.5, null)", "null"),
    ("floor(null)", "null"),
    ("ceiling(1.5)", "2"),
    ("ceiling(-1.5)", "-1"),
    ("ceiling(-1.56, 1)", "-1.5"),
    ("ceiling(n: 1.56, scale: 1)", "1.6"),
    ('ceiling("1")', "null"),
    ("round up(5.5, 0)", "6"),
    ("round up(-5.5, 0)", "-6"),
    ("round up(1.121, 2)", "1.13"),
    ("round up(-1.126, 2)", "-1.13"),
    ("round up(n: 5, scale: -1)", "10"),
    ("round down(5.5, 0)", "5"),
    ("round down(-5.5, 0)", "-5"),
    ("round down(1.121, 2)", "1.12"),
    ("round down(n: -1.126, scale: 2)", "-1.12"),
    ("round half up(5.5, 0)", "6"),
    ("round half up(-5.5, 0)", "-6"),
    ("round half up(1.121, 2)", "1.12"),
    ("round half up(n: -1.126, scale: 2)", "-1.13"),
    ("round half down(5.5, 0)", "5"),
    ("round half down(-5.5, 0)", "-5"),
    ("round half down(1.121, 2)", "1.12"),
    ("round half down(n: -1.126, scale: 2)", "-1.13"),
    ("round half down(1.125, 2)", "1.12"),
    ("round up(5.5)", "null"),
    ("round up(5.5, null)", "null"),
    ("abs(10)", "10"),
    ("abs(-10)", "10"),
    ("abs(n: -0.5)", "0.5"),
    ('abs(duration("-PT5H"))', '@"PT5H"'),
    ('abs(duration("-P1Y"))', '@"P1Y"'),
    ('abs("x")', "null"),
    ("modulo(12, 5)", "2"),
    ("modulo(-12, 5)", "3"),
    ("modulo(12, -5)", "-3"),
    ("modulo(-12, -5)", "-2"),
    ("modulo(10.1, 4.5)", "1.1"),
    ("modulo(-10.1, 4.5)", "3.4"),
    ("modulo(10.1, -4.5)", "-3.4"),
    ("modulo(-10.1, -4.5)", "-1.1"),
    ("modulo(dividend: 5, divisor: 3)", "2"),
    ("modulo(1, 0)", "null"),
    ("modulo(null, 1)", "null"),
    ("sqrt(16)", "4"),
    ("sqrt(2)", "1.414213562373095048801688724209698"),
    ("sqrt(number: 0)", "0"),
    ("sqrt(-1)", "null"),
    ('sqrt("4")', "null"),
    ("log(10)", "2.302585092994045684017991454684364"),
    ("log(number: 1)", "0"),
    ("log(0)", "null"),
    ("log(-1)", "null"),
    ("exp(5)", "148.4131591025766034211155800405523"),
    ("exp(number: 0)", "1"),
    ("exp(-1)", "0.3678794411714423215955237701614609"),
    ("exp(null)", "null"),
    ("odd(5)", "true"),
    ("odd(number: 2)", "false"),
    ("odd(-3)", "true"),
    ("odd(null)", "null"),
    ("even(2)", "true"),
    ("even(number: 5)", "false"),
    ("even(0)", "true"),
    ('even("2")', "null"),
]

ARITHMETIC = [
    ("10 ** 2", "100"),
    ("2 ** -1", "0.5"),
    ("2 ** 0.5", "1.414213562373095048801688724209698"),
    ("1 / 3", "0.3333333333333333333333333333333333"),
    ("2 / 3", "0.6666666666666666666666666666666667"),
    ("10000000000000000000000000000000001 + 1", "10000000000000000000000000000000000"),
    ("0.1 + 0.2", "0.3"),
    ("1 / 0", "null"),
    ("0 ** -1", "null"),
    ("-2 ** 0.5", "null"),
    # IEEE 754-2008 §9.2.1: pow(x, ±0) is 1 for every x, zero included
    ("0 ** 0", "1"),
    ("0.0 ** 0", "1"),
    ("5 ** 0", "1"),
    ("(1/3) ** 3", "0.03703703703703703703703703703703703"),
    ("2 ** 3 ** 2", "64"),  # left-associative, as TCK 0075 expects
    ("-2 ** 2", "4"),  # unary minus binds tighter (TCK 0075 expects the same)
    ("1.5 ** 2", "2.25"),
    ('"2" ** 2', "null"),
    ("2 ** null", "null"),
    ('@"P1D" ** 2', "null"),
    ("0 / 0", "null"),
    ("10 / 3 * 3", "9.999999999999999999999999999999999"),
    ("modulo(-12, 5)", "3"),
    ("modulo(12, -5)", "-3"),
    ("modulo(-10.1, 4.5)", "3.4"),
]


@pytest.mark.parametrize(("expression", "expected"), NUMERIC)
def test_numeric_functions(expression: str, expected: str) -> None:
    check(expression, expected)


@pytest.mark.parametrize(("expression", "expected"), ARITHMETIC)
def test_decimal128_arithmetic(expression: str, expected: str) -> None:
    check(expression, expected)
