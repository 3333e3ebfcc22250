"""Numeric functions (DMN 1.5 §10.3.4.5), all in 34-digit decimal arithmetic.

Rounding functions take a ``scale`` (digits after the point, may be negative) limited to
the decimal128 range −6111..6176; a fractional scale is truncated, as the TCK expects.
"""

from __future__ import annotations

import datetime as _dt
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
    InvalidOperation,
)
from typing import Any

from casepilot.dmn.feel._nanos import duration_nanos, duration_of_nanos
from casepilot.dmn.feel.values import FEEL_DECIMAL, YearMonthDuration

from ._core import MISSING, BuiltinArgumentError, builtin
from ._support import need_int, need_number, type_name

__all__ = ["round_to_scale"]

_MIN_SCALE, _MAX_SCALE = -6111, 6176
_ZERO = Decimal(0)
_TWO = Decimal(2)


def _scale(value: Any) -> int:
    scale = need_int(value, "scale")
    if not _MIN_SCALE <= scale <= _MAX_SCALE:
        raise BuiltinArgumentError(f"scale must be between {_MIN_SCALE} and {_MAX_SCALE}, got {scale}")
    return scale


def round_to_scale(n: Decimal, scale: int, rounding: str) -> Decimal:
    """``n`` rounded to ``scale`` decimal places with ``rounding``; never ``-0``."""
    if not n.is_finite():
        raise BuiltinArgumentError(f"n must be a finite number, got {n}")
    try:
        result = n.quantize(Decimal(1).scaleb(-scale), rounding=rounding, context=FEEL_DECIMAL)
    except InvalidOperation:
        # more than 34 digits would be needed: only possible when n already has fewer
        # decimals than `scale` (rounding away digits shortens the coefficient), so n is exact
        exponent = n.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= -scale:
            result = n
        else:  # pragma: no cover - defensive
            raise BuiltinArgumentError(f"cannot round {n} to scale {scale} in 34 digits") from None
    if result.is_zero() and result.is_signed():
        result = result.copy_abs()
    return result


@builtin("decimal", "n", "scale")
def _decimal(n: Any, scale: Any) -> Decimal:
    return round_to_scale(need_number(n, "n"), _scale(scale), ROUND_HALF_EVEN)


@builtin("floor", "n", "scale?")
def _floor(n: Any, scale: Any = MISSING) -> Decimal:
    return round_to_scale(need_number(n, "n"), 0 if scale is MISSING else _scale(scale), ROUND_FLOOR)


@builtin("ceiling", "n", "scale?")
def _ceiling(n: Any, scale: Any = MISSING) -> Decimal:
    return round_to_scale(need_number(n, "n"), 0 if scale is MISSING else _scale(scale), ROUND_CEILING)


@builtin("round up", "n", "scale")
def _round_up(n: Any, scale: Any) -> Decimal:
    return round_to_scale(need_number(n, "n"), _scale(scale), ROUND_UP)


@builtin("round down", "n", "scale")
def _round_down(n: Any, scale: Any) -> Decimal:
    return round_to_scale(need_number(n, "n"), _scale(scale), ROUND_DOWN)


@builtin("round half up", "n", "scale")
def _round_half_up(n: Any, scale: Any) -> Decimal:
    return round_to_scale(need_number(n, "n"), _scale(scale), ROUND_HALF_UP)


@builtin("round half down", "n", "scale")
def _round_half_down(n: Any, scale: Any) -> Decimal:
    return round_to_scale(need_number(n, "n"), _scale(scale), ROUND_HALF_DOWN)


@builtin("abs", "n")
def _abs(n: Any) -> Any:
    if isinstance(n, Decimal):
        return n.copy_abs()
    if isinstance(n, _dt.timedelta):
        return duration_of_nanos(abs(duration_nanos(n)))
    if isinstance(n, YearMonthDuration):
        return YearMonthDuration(abs(n.months))
    raise BuiltinArgumentError(f"n must be a number or a duration, got {type_name(n)}")


@builtin("modulo", "dividend", "divisor")
def _modulo(dividend: Any, divisor: Any) -> Decimal:
    a = need_number(dividend, "dividend")
    b = need_number(divisor, "divisor")
    if b.is_zero():
        raise BuiltinArgumentError("divisor must not be zero")
    # spec: dividend - divisor * floor(dividend / divisor); the result has the divisor's sign
    try:
        r = FEEL_DECIMAL.remainder(a, b)  # exact, sign of the dividend
    except InvalidOperation:
        quotient = FEEL_DECIMAL.divide(a, b).to_integral_value(rounding=ROUND_FLOOR)
        return FEEL_DECIMAL.subtract(a, FEEL_DECIMAL.multiply(b, quotient))
    if not r.is_zero() and r.is_signed() != b.is_signed():
        r = FEEL_DECIMAL.add(r, b)
    return r.copy_abs() if r.is_zero() else r


@builtin("sqrt", "number")
def _sqrt(number: Any) -> Decimal:
    n = need_number(number, "number")
    if n.is_signed() and not n.is_zero():
        raise BuiltinArgumentError(f"cannot take the square root of the negative number {n}")
    return FEEL_DECIMAL.sqrt(n)


@builtin("log", "number")
def _log(number: Any) -> Decimal:
    n = need_number(number, "number")
    if n <= _ZERO:
        raise BuiltinArgumentError(f"the logarithm needs a positive number, got {n}")
    return FEEL_DECIMAL.ln(n)


@builtin("exp", "number")
def _exp(number: Any) -> Decimal:
    n = need_number(number, "number")
    result = FEEL_DECIMAL.exp(n)
    if not result.is_finite():  # pragma: no cover - Overflow is trapped by the context
        raise BuiltinArgumentError(f"exp({n}) is too large")
    return result


def _integer(number: Any) -> Decimal:
    n = need_number(number, "number")
    if not n.is_finite() or n != n.to_integral_value():
        raise BuiltinArgumentError(f"number must be an integer, got {n}")
    return n


@builtin("odd", "number")
def _odd(number: Any) -> bool:
    return not FEEL_DECIMAL.remainder(_integer(number), _TWO).is_zero()


@builtin("even", "number")
def _even(number: Any) -> bool:
    return FEEL_DECIMAL.remainder(_integer(number), _TWO).is_zero()
