"""Decision tables: every hit policy, multiple outputs, input/output values, defaults."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from casepilot.dmn import DecisionModel, DecisionResult

from ._dmn import decision, definitions, input_data, table

RULES = [
    ([">= 18", '"gold"'], ['"A"']),
    ([">= 18", "-"], ['"B"']),
    (["< 18", "-"], ['"C"']),
    (["[30..40]", '"gold","silver"'], ['"D"']),
]


def run(logic: str, inputs: dict[str, Any]) -> DecisionResult:
    xml = definitions(
        input_data("age", "number")
        + input_data("tier", "string")
        + decision("D", logic, inputs=["age", "tier"])
    )
    return DecisionModel.from_xml(xml.encode()).evaluate("D", inputs)


def simple(hp: str, **kw: Any) -> str:
    return table(hp, ["age", "tier"], ["out"], RULES, **kw)


def test_unique_single_match_gives_the_output_and_rule_id() -> None:
    r = run(simple("UNIQUE"), {"age": 10, "tier": "gold"})
    assert r.value == "C"
    assert r.rule_ids == ("r3",)
    assert r.ok


def test_unique_with_several_matches_is_null_with_a_hit_policy_message() -> None:
    r = run(simple("UNIQUE"), {"age": 20, "tier": "gold"})
    assert r.value is None
    assert [m.kind for m in r.messages] == ["hit-policy-violation"]
    assert "r1" in r.messages[0].text and "r2" in r.messages[0].text


def test_first_takes_the_first_matching_rule() -> None:
    r = run(simple("FIRST"), {"age": 35, "tier": "silver"})
    assert r.value == "B"
    assert r.rule_ids == ("r2",)


def test_any_accepts_agreeing_outputs_and_rejects_disagreeing_ones() -> None:
    agree = table("ANY", ["age"], ["out"], [([">= 18"], ['"adult"']), (["> 60"], ['"adult"'])])
    assert run(agree, {"age": 70, "tier": "x"}).value == "adult"
    disagree = table("ANY", ["age"], ["out"], [([">= 18"], ['"adult"']), (["> 60"], ['"senior"'])])
    r = run(disagree, {"age": 70, "tier": "x"})
    assert r.value is None
    assert r.messages[0].kind == "hit-policy-violation"


def test_priority_uses_output_value_order() -> None:
    r = run(simple("PRIORITY", output_values=['"D","C","B","A"']), {"age": 35, "tier": "gold"})
    assert r.value == "D"
    r = run(simple("PRIORITY", output_values=['"A","B","C","D"']), {"age": 35, "tier": "gold"})
    assert r.value == "A"


def test_rule_order_output_order_and_collect_give_lists() -> None:
    inputs = {"age": 35, "tier": "gold"}
    assert run(simple("RULE ORDER"), inputs).value == ["A", "B", "D"]
    assert run(simple("OUTPUT ORDER", output_values=['"D","B","A","C"']), inputs).value == ["D", "B", "A"]
    assert run(simple("COLLECT"), inputs).value == ["A", "B", "D"]
    assert run(simple("COLLECT"), {"age": 35, "tier": "gold"}).rule_ids == ("r1", "r2", "r4")


NUMERIC = [([">= 1"], ["10"]), ([">= 2"], ["20"]), ([">= 3"], ["5"]), ([">= 4"], ["20"])]


@pytest.mark.parametrize(
    ("aggregation", "age", "expected"),
    [
        ("SUM", 4, Decimal(55)),
        ("MIN", 4, Decimal(5)),
        ("MAX", 4, Decimal(20)),
        ("COUNT", 4, Decimal(4)),
        ("COUNT", 0, Decimal(0)),
        ("SUM", 0, None),
        ("MAX", 0, None),
    ],
)
def test_collect_aggregations(aggregation: str, age: int, expected: Decimal | None) -> None:
    logic = table("COLLECT", ["age"], ["out"], NUMERIC, aggregation=aggregation)
    assert run(logic, {"age": age, "tier": ""}).value == expected


def test_collect_without_match_is_an_empty_list() -> None:
    assert run(simple("COLLECT"), {"age": 5, "tier": None}).value == ["C"]
    logic = table("COLLECT", ["age"], ["out"], [(["> 100"], ['"x"'])])
    assert run(logic, {"age": 5, "tier": None}).value == []


def test_multiple_outputs_give_contexts() -> None:
    logic = table(
        "UNIQUE",
        ["age"],
        ["label", "score"],
        [(["< 18"], ['"minor"', "1"]), ([">= 18"], ['"adult"', "2"])],
    )
    assert run(logic, {"age": 40, "tier": ""}).value == {"label": "adult", "score": Decimal(2)}
    collect = table("COLLECT", ["age"], ["label", "score"], [(["-"], ['"a"', "1"]), (["-"], ['"b"', "2"])])
    assert run(collect, {"age": 1, "tier": ""}).value == [
        {"label": "a", "score": Decimal(1)},
        {"label": "b", "score": Decimal(2)},
    ]


def test_no_match_gives_default_output_or_null() -> None:
    logic = table("UNIQUE", ["age"], ["out"], [(["> 100"], ['"old"'])], defaults=['"none"'])
    r = run(logic, {"age": 5, "tier": ""})
    assert r.value == "none"
    assert r.rule_ids == ()
    plain = table("UNIQUE", ["age"], ["out"], [(["> 100"], ['"old"'])])
    assert run(plain, {"age": 5, "tier": ""}).value is None


def test_input_values_reject_a_value_outside_them() -> None:
    logic = table("UNIQUE", ["tier"], ["out"], [(["-"], ['"ok"'])], input_values=['"gold","silver"'])
    assert run(logic, {"age": 1, "tier": "gold"}).value == "ok"
    r = run(logic, {"age": 1, "tier": "bronze"})
    assert r.value is None
    assert r.messages[0].kind == "invalid-input"


def test_a_value_of_another_type_never_matches_a_literal_test() -> None:
    logic = table(
        "FIRST", ["tier"], ["out"], [(["1"], ['"one"']), (['"1"'], ['"string one"']), (["-"], ['"other"'])]
    )
    xml = definitions(input_data("tier") + decision("D", logic, inputs=["tier"]))
    model = DecisionModel.from_xml(xml.encode())
    assert model.evaluate("D", {"tier": "1"}).value == "string one"
    assert model.evaluate("D", {"tier": 1}).value == "one"
    assert model.evaluate("D", {"tier": True}).value == "other"


def test_output_entries_can_compute_from_inputs() -> None:
    logic = table("UNIQUE", ["age"], ["out"], [(["-"], ["age * 2 + 1"])])
    assert run(logic, {"age": 20, "tier": ""}).value == Decimal(41)


def test_rule_ids_of_every_decision_are_reported() -> None:
    body = (
        input_data("age", "number")
        + decision(
            "Band",
            table("UNIQUE", ["age"], ["out"], [(["< 18"], ['"minor"']), ([">= 18"], ['"adult"'])]),
            inputs=["age"],
        )
        + decision(
            "Ok",
            table("UNIQUE", ["Band"], ["out"], [(['"adult"'], ["true"]), (['"minor"'], ["false"])]),
            decisions=["Band"],
        )
    )
    r = DecisionModel.from_xml(definitions(body).encode()).evaluate("Ok", {"age": 30})
    assert r.value is True
    assert r.decision_rule_ids == {"Band": ("r2",), "Ok": ("r1",)}
    assert r.results == {"Band": "adult", "Ok": True}
