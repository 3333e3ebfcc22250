"""DMN 1.5 §8.2.11 hit policies and §8.3.4 decision-table semantics, from the specification.

- PRIORITY (P) and OUTPUT ORDER (O) rank matched rules by the order of the output values
  (decreasing priority); with several outputs the comparison is lexicographic, output column
  by output column in table order, skipping columns without output values.
- COLLECT with an aggregation over no match: sum, min and max of nothing are null, count is 0.
- A default output entry (the output clause's ``defaultOutputEntry``) is the result when no
  rule matches.
- Input entries are unary tests, and comments are whitespace in them too (§10.3.1).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from casepilot.dmn import DecisionModel, DecisionResult
from tests.dmn._dmn import decision, definitions, input_data, table


def run(logic: str, x: Any) -> DecisionResult:
    xml = definitions(input_data("x") + decision("D", logic, inputs=["x"]))
    return DecisionModel.from_xml(xml.encode()).evaluate("D", {"x": x})


TWO_OUTPUTS = [("a", "number"), ("b", "string")]


@pytest.mark.parametrize(
    ("rules", "output_values", "expected"),
    [
        # first output decides: 1 before 2
        ([(["-"], ["1", '"q"']), (["> 2"], ["2", '"p"'])], ["1,2", '"p","q"'], {"a": 1, "b": "q"}),
        # tie on the first output: the second decides, "p" before "q"
        ([(["-"], ["1", '"q"']), (["> 2"], ["1", '"p"'])], ["1,2", '"p","q"'], {"a": 1, "b": "p"}),
        # the first output has no output values: ranked by the second alone
        ([(["-"], ["1", '"q"']), (["> 2"], ["2", '"p"'])], [None, '"p","q"'], {"a": 2, "b": "p"}),
    ],
)
def test_priority_with_several_outputs_ranks_output_by_output(
    rules: list[tuple[list[str], list[str]]], output_values: list[str | None], expected: dict[str, int | str]
) -> None:
    r = run(table("PRIORITY", ["x"], TWO_OUTPUTS, rules, output_values=output_values), Decimal(6))
    assert r.value == {k: Decimal(v) if isinstance(v, int) else v for k, v in expected.items()}


def test_output_order_sorts_every_match_output_by_output() -> None:
    rules = [(["-"], ["1", '"q"']), (["> 2"], ["1", '"p"']), (["> 2"], ["2", '"a"'])]
    logic = table("OUTPUT ORDER", ["x"], TWO_OUTPUTS, rules, output_values=["2,1", '"a","p","q"'])
    assert run(logic, Decimal(6)).value == [
        {"a": Decimal(2), "b": "a"},
        {"a": Decimal(1), "b": "p"},
        {"a": Decimal(1), "b": "q"},
    ]


def test_priority_single_output() -> None:
    rules = [(["> 0"], ['"LOW"']), (["> 5"], ['"HIGH"']), (["> 3"], ['"MED"'])]
    logic = table("PRIORITY", ["x"], [("o", "string")], rules, output_values=['"HIGH","MED","LOW"'])
    assert run(logic, Decimal(6)).value == "HIGH"
    assert run(logic, Decimal(4)).value == "MED"
    assert run(logic, Decimal(1)).value == "LOW"
    assert run(logic, Decimal(0)).value is None


@pytest.mark.parametrize(
    ("aggregation", "expected"), [("SUM", None), ("MIN", None), ("MAX", None), ("COUNT", Decimal(0))]
)
def test_collect_aggregations_over_no_match(aggregation: str, expected: Decimal | None) -> None:
    logic = table("COLLECT", ["x"], [("o", "number")], [(["> 100"], ["1"])], aggregation=aggregation)
    assert run(logic, Decimal(6)).value == expected


@pytest.mark.parametrize("hit_policy", ["UNIQUE", "FIRST", "ANY", "PRIORITY"])
def test_the_default_output_entry_is_the_result_when_no_rule_matches(hit_policy: str) -> None:
    logic = table(
        hit_policy,
        ["x"],
        [("o", "string")],
        [(["> 100"], ['"A"'])],
        output_values=['"A","B"'],
        defaults=['"B"'],
    )
    assert run(logic, Decimal(6)).value == "B"
    assert run(logic, Decimal(200)).value == "A"


@pytest.mark.parametrize(
    ("entry", "x", "matches"),
    [
        ("- // any value", Decimal(6), True),
        ("/* none */ > 5", Decimal(6), True),
        ("> 5 /* more than five */", Decimal(4), False),
        ("1, // one\n 6", Decimal(6), True),
    ],
)
def test_comments_in_input_entries(entry: str, x: Decimal, matches: bool) -> None:
    logic = table("FIRST", ["x"], [("o", "string")], [([entry], ['"hit"'])])
    assert (run(logic, x).value == "hit") is matches
