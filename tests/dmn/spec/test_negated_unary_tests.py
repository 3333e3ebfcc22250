"""DMN 1.5 §10.3.2.7 (semantics of unary tests): ``e in t1, t2`` is ``e in t1 or e in t2`` and
``e in not(tests)`` is ``not(e in tests)``, in FEEL's three-valued logic; an input entry
matches only when that is true (§8.3.3). So ``not(> 5)`` does not match a null input —
``null > 5`` is null and so is its negation — exactly as ``> 5`` does not. No TCK folder
seen here tests it; probed while checking the decision-table cells that level-2 0003 /
level-3 0017-tableTests and 0039-dt-list-semantics use."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from casepilot.dmn import DecisionModel
from casepilot.dmn.feel import compile_unary_tests
from tests.dmn._dmn import decision, definitions, input_data, table


@pytest.mark.parametrize(
    ("tests", "value", "matches"),
    [
        ("not(> 5)", Decimal(3), True),  # not(false)
        ("not(> 5)", Decimal(7), False),  # not(true)
        ("not(> 5)", None, False),  # not(null): null, no match
        ("> 5", None, False),  # null, no match
        ("not(> 5, < 0)", None, False),
        ("not(null)", None, False),  # null = null is true
        ("not(null)", Decimal(1), True),  # 1 = null is false
        ("not(1, 2)", None, True),  # null = 1 and null = 2 are false
        ("not([1..5])", Decimal(9), True),
        ("not([1..5])", None, False),  # null in a range: null
        ("not(< 5, 7)", Decimal(7), False),  # one true test
        ("not(< 5, 7)", Decimal(6), True),
    ],
)
def test_negated_unary_tests_use_three_valued_logic(tests: str, value: Any, matches: bool) -> None:
    assert compile_unary_tests(tests).matches(value) is matches


def test_a_negated_cell_skips_a_rule_for_a_null_input() -> None:
    rules = [(["not(> 5)"], ['"small"']), (["-"], ['"unknown"'])]
    model = DecisionModel.from_xml(
        definitions(
            input_data("x", "number") + decision("D", table("FIRST", ["x"], ["o"], rules), inputs=["x"])
        ).encode()
    )
    assert model.evaluate("D", {"x": 3}).value == "small"
    assert model.evaluate("D", {"x": None}).value == "unknown"
