"""Numeric functions: rounding family, abs, modulo, sqrt, log, exp, odd, even."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from casepilot.dmn.feel.values import YearMonthDuration
from tests.dmn.feel.builtins._helpers import D, call, call_named


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((Decimal(1) / Decimal(3), 2), "0.33"),
        ((Decimal(1) / Decimal(3), 2.5), "0.33"),  # scale truncated (TCK)
        ((1.5, 0), "2"),
        ((2.5, 0), "2"),  # half-even
        ((0, 0), "0"),
        ((D("0.0"), 1), "0.0"),
        ((0.515, 2), "0.52"),
        ((65.123456, 6), "65.123456"),
        ((123, -1), "1.2E+2"),
        ((D("-0.001"), 2), "0.00"),  # no negative zero
    ],
)
def test_decimal(args: tuple[Any, ...], expected: str) -> None:
    result = call("decimal", *args)
    assert result == Decimal(expected)
    assert str(result) == expected


def test_decimal_named_and_invalid() -> None:
    assert call_named("decimal", n=Decimal(15) / Decimal(7), scale=3) == D("2.143")
    assert call("decimal", "1", 2) is None
    assert call("decimal", 1, None) is None
    assert call("decimal", 1) is None


@pytest.mark.parametrize(
    ("name", "n", "scale", "expected"),
    [
        ("floor", 1.5, None, "1"),
        ("floor", -1.5, None, "-2"),
        ("floor", 0.3333, None, "0"),
        ("floor", 1.56, 1, "1.5"),
        ("floor", -1.56, 1, "-1.6"),
        ("ceiling", 1.5, None, "2"),
        ("ceiling", -1.5, None, "-1"),
        ("ceiling", -0.5, None, "0"),
        ("ceiling", 1.56, 1, "1.6"),
        ("ceiling", -1.56, 1, "-1.5"),
        ("round up", 5.5, 0, "6"),
        ("round up", -5.5, 0, "-6"),
        ("round up", 1.121, 2, "1.13"),
        ("round up", -1.126, 2, "-1.13"),
        ("round down", 5.5, 0, "5"),
        ("round down", -5.5, 0, "-5"),
        ("round down", 1.121, 2, "1.12"),
        ("round down", -1.126, 2, "-1.12"),
        ("round half up", 5.5, 0, "6"),
        ("round half up", -5.5, 0, "-6"),
        ("round half up", 1.121, 2, "1.12"),
        ("round half up", -1.126, 2, "-1.13"),
        ("round half down", 5.5, 0, "5"),
        ("round half down", -5.5, 0, "-5"),
        ("round half down", 1.121, 2, "1.12"),
        ("round half down", -1.126, 2, "-1.13"),
    ],
)
def test_rounding(name: str, n: float, scale: int | None, expected: str) -> None:
    args = (n,) if scale is None else (n, scale)
    assert call(name, *args) == Decimal(expected)


@pytest.mark.parametrize("name", ["round up", "round down", "round half up", "round half down"])
def test_rounding_scale_limits_and_bad_input(name: str) -> None:
    assert call(name, 5.5, 6176) == D("5.5")
    assert call(name, 5.5, 6177) is None
    assert call(name, 5.5, -6112) is None
    assert call(name, "123", 0) is None
    assert call(name, 5.5, "0") is None
    assert call(name, None, 0) is None
    assert call(name, 1234, None) is None
    assert call(name, 1234.12, 1, 2) is None
    assert call(name, 5.5) is None  # scale is required
    assert call_named(name, n=5.5, scale=0) is not None
    assert call_named(name, scale=0) is None
    assert call_named(name, n=5.5, scale=0, foo=1) is None


def test_floor_ceiling_invalid() -> None:
    assert call("floor", "1.5") is None
    assert call("floor", 1.5, "1") is None
    assert call("floor") is None
    assert call_named("floor", n=1.56, scale=1) == D("1.5")
    assert call_named("floor", n=1.5, scal=1) is None
    assert call_named("ceiling", n=None, scale=1) is None


def test_abs() -> None:
    assert call("abs", -1) == D(1)
    assert call("abs", 0) == D(0)
    assert call_named("abs", n=-1) == D(1)
    assert call_named("abs", number=-1) is None
    assert call("abs", dt.timedelta(days=-1)) == dt.timedelta(days=1)
    assert call("abs", YearMonthDuration(-12)) == YearMonthDuration(12)
    for bad in (None, "-1", True, dt.date(2018, 12, 6), dt.time(0, 0)):
        assert call("abs", bad) is None


@pytest.mark.parametrize(
    ("dividend", "divisor", "expected"),
    [
        (10, 4, "2"),
        (10, -4, "-2"),
        (-10, 4, "2"),
        (0, 4, "0"),
        (12, 5, "2"),
        (-12, 5, "3"),
        (12, -5, "-3"),
        (-12, -5, "-2"),
        (10.1, 4.5, "1.1"),
        (-10.1, 4.5, "3.4"),
        (10.1, -4.5, "-3.4"),
        (-10.1, -4.5, "-1.1"),
        (8, 4, "0"),
        (-8, 4, "0"),
    ],
)
def test_modulo_sign_rule(dividend: float, divisor: float, expected: str) -> None:
    result = call("modulo", dividend, divisor)
    assert result == Decimal(expected)
    assert not (result.is_zero() and result.is_signed())


def test_modulo_invalid_and_named() -> None:
    assert call("modulo", 10, 0) is None
    assert call("modulo", None, 4) is None
    assert call("modulo", "10", "4") is None
    assert call("modulo", 4) is None
    assert call_named("modulo", dividend=10, divisor=4) == D(2)
    assert call_named("modulo", dividend=10, foo=4) is None
    # a quotient beyond 34 digits still gives a result
    assert call("modulo", Decimal("1E+40"), 3) is not None


def test_sqrt_log_exp() -> None:
    assert call("sqrt", 4) == D(2)
    assert call("sqrt", 0) == D(0)
    assert call("sqrt", -1) is None
    assert call("sqrt", 2) == Decimal("1.414213562373095048801688724209698")
    assert call_named("sqrt", number=4) == D(2)
    assert call_named("sqrt", n=4) is None
    assert str(call("log", 4))[:10] == "1.38629436"
    assert call("log", 0) is None
    assert call("log", -1) is None
    assert call("exp", 0) == D(1)
    assert str(call("exp", 1))[:12] == "2.7182818284"
    assert call("exp", "1") is None
    for fn in ("sqrt", "log", "exp"):
        assert call(fn, None) is None
        assert call(fn, True) is None
        assert call(fn, dt.timedelta(days=4)) is None
        assert call(fn, 4, 4) is None


def test_odd_even() -> None:
    assert call("even", 2) is True
    assert call("even", -2) is True
    assert call("even", 0) is True
    assert call("even", 1) is False
    assert call("odd", 5) is True
    assert call("odd", -1) is True
    assert call("odd", 2) is False
    assert call("odd", 1.5) is None
    assert call("even", "4") is None
    assert call_named("even", number=4) is True
    assert call_named("even", n=4) is None
