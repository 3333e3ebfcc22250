"""DMN 1.5 §10.3.4 ``not(negand)`` is a built-in function, so its parameter binds with the
implicit conversions of §10.3.2.9.4: a singleton list stands for its element, as it does for
every other built-in (``upper case(["a"])`` is "A"). The call form ``not(x)`` is compiled to a
direct negation and skipped that rule (``not([true])`` was null). TCK 0021-singleton-list,
1157-implicit-conversions (0066-feel-negation covers the non-list cases)."""

from __future__ import annotations

import pytest

from tests.dmn.spec._check import check


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("not([true])", "false"),
        ("not([false])", "true"),
        ("not(negand: [true])", "false"),
        ("not([true, false])", "null"),
        ("not([])", "null"),
        ("not([null])", "null"),
        ('not(["true"])', "null"),
        ("not([1 > 2])", "true"),
        ("not([1, 2][item > 1] = [2])", "false"),
    ],
)
def test_not_binds_a_singleton_list_to_its_element(expression: str, expected: str) -> None:
    check(expression, expected)
