"""Evaluate a FEEL expression and its expected value (also FEEL) and compare them strictly.

Strict means: both null, or the same FEEL kind, FEEL-equal, and the same ``string()`` form
(so ``@"10:00:00Z"`` and ``@"10:00:00+00:00"`` differ, as do ``1`` and ``[1]``).
"""

from __future__ import annotations

from typing import Any

from casepilot.dmn.feel import compile_expression, feel_equal, kind_of, to_feel_string


def value_of(text: str, variables: dict[str, Any] | None = None) -> Any:
    return compile_expression(text).evaluate(variables or {})


def same(actual: Any, expected: Any) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    if kind_of(actual) != kind_of(expected):
        return False
    if isinstance(expected, list):
        return len(actual) == len(expected) and all(same(a, e) for a, e in zip(actual, expected, strict=True))
    if isinstance(expected, dict):
        return list(actual) == list(expected) and all(same(actual[k], expected[k]) for k in expected)
    return bool(feel_equal(actual, expected)) and to_feel_string(actual) == to_feel_string(expected)


def check(expression: str, expected: Any) -> None:
    """Assert ``expression`` evaluates to what ``expected`` (FEEL text, or a FEEL value) evaluates to."""
    actual = value_of(expression)
    wanted = value_of(expected) if isinstance(expected, str) else expected
    assert same(actual, wanted), (
        f"{expression} gave {to_feel_string(actual)!r}, expected {to_feel_string(wanted)!r}"
    )
