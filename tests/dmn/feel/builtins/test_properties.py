"""Property tests: invariants the spec states, over many generated inputs."""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from casepilot.dmn.feel.builtins._xsd_regex import compile_xsd
from casepilot.dmn.feel.values import FEEL_DECIMAL
from tests.dmn.feel.builtins._helpers import PyFunction, call

decimals = st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False, places=4)
nonzero = decimals.filter(lambda d: d != 0)


@settings(max_examples=150, deadline=None)
@given(decimals, nonzero)
def test_modulo_is_dividend_minus_divisor_times_floor(a: Decimal, b: Decimal) -> None:
    r = call("modulo", a, b)
    quotient = FEEL_DECIMAL.divide(a, b).to_integral_value(rounding=ROUND_FLOOR)
    assert r == FEEL_DECIMAL.subtract(a, FEEL_DECIMAL.multiply(b, quotient))
    assert r == 0 or (r > 0) == (b > 0)
    assert abs(r) < abs(b)


@settings(max_examples=150, deadline=None)
@given(decimals, st.integers(min_value=-3, max_value=6))
def test_rounding_brackets_the_value(n: Decimal, scale: int) -> None:
    down, up = call("round down", n, scale), call("round up", n, scale)
    floor, ceiling = call("floor", n, scale), call("ceiling", n, scale)
    assert floor <= n <= ceiling
    assert abs(down) <= abs(n) <= abs(up)
    for name in ("decimal", "round half up", "round half down"):
        rounded = call(name, n, scale)
        assert floor <= rounded <= ceiling
        assert rounded in (floor, ceiling)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=12), st.integers(min_value=-14, max_value=14), st.integers(min_value=0, max_value=14))
def test_substring_agrees_with_code_point_slicing(text: str, start: int, length: int) -> None:
    result = call("substring", text, start, length)
    if start == 0 or abs(start) > len(text):
        assert result is None
    else:
        index = start - 1 if start > 0 else len(text) + start
        assert result == text[index : index + length]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=-50, max_value=50), max_size=15))
def test_sort_with_precedes_agrees_with_sorted(values: list[int]) -> None:
    items = [Decimal(v) for v in values]
    less = PyFunction(("x", "y"), lambda x, y: x < y)
    assert call("sort", items, less) == sorted(items)
    assert call("min", items) == (min(items) if items else None)
    assert call("distinct values", items) == list(dict.fromkeys(items))


literal_text = st.text(alphabet="abcXYZ019 -_.", max_size=8)


@settings(max_examples=150, deadline=None)
@given(literal_text, st.text(alphabet="abcXYZ019 -_.", min_size=1, max_size=3))
def test_quoted_patterns_match_like_plain_search(text: str, needle: str) -> None:
    assert (compile_xsd(needle, "q").search(text) is not None) == (needle in text)
    translated = compile_xsd(re.escape(needle).replace("\\ ", " ").replace("\\_", "_"))
    assert (translated.search(text) is not None) == (needle in text)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="ab;,", max_size=12))
def test_split_then_join_round_trips(text: str) -> None:
    pieces = call("split", text, ";")
    assert call("string join", pieces, ";") == text
