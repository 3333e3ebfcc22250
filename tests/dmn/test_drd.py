"""DRD evaluation: dependency order, scopes, decision services, introspection, item definitions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from casepilot.dmn import DecisionModel
from casepilot.errors import DefinitionError

from ._dmn import decision, definitions, input_data, literal

CHAIN = (
    input_data("a", "number")
    + input_data("b", "number")
    + decision("sum", literal("a + b"), inputs=["a", "b"], type_ref="number")
    + decision("double", literal("sum * 2"), decisions=["sum"])
    + decision("report", literal('"total " + string(double)'), decisions=["double"], type_ref="string")
)


def model(body: str = CHAIN) -> DecisionModel:
    return DecisionModel.from_xml(definitions(body).encode())


def test_required_decisions_are_evaluated_first_and_reported() -> None:
    r = model().evaluate("report", {"a": 1, "b": 2})
    assert r.value == "total 6"
    assert r.results == {"sum": Decimal(3), "double": Decimal(6), "report": "total 6"}
    assert r.ok


def test_evaluate_all_and_lookup_by_id() -> None:
    m = model()
    assert m.evaluate("d_double", {"a": 1, "b": 1}).value == Decimal(4)
    assert set(m.evaluate_all({"a": 1, "b": 1}).results) == {"sum", "double", "report"}


def test_introspection_lists_names_ids_and_types() -> None:
    m = model()
    assert [(d.name, d.id, d.type_ref) for d in m.decisions] == [
        ("sum", "d_sum", "number"),
        ("double", "d_double", None),
        ("report", "d_report", "string"),
    ]
    assert [(i.name, i.type_ref) for i in m.inputs] == [("a", "number"), ("b", "number")]
    assert m.decisions[2].requires == ("double",)
    assert len(m.content_hash) == 64


def test_a_decision_sees_only_its_requirements() -> None:
    body = input_data("a", "number") + decision("leaky", literal("a + 1"))
    r = model(body).evaluate("leaky", {"a": 1})
    assert r.value is None
    assert not r.ok


def test_unknown_decision_gives_a_message_not_an_exception() -> None:
    r = model().evaluate("nope", {})
    assert r.value is None
    assert r.messages[0].kind == "unknown-element"
    assert "sum" in r.messages[0].text


def test_input_of_the_wrong_type_becomes_null_with_a_message() -> None:
    r = model().evaluate("sum", {"a": "one", "b": 2})
    assert r.value is None
    assert any(m.kind == "invalid-input" for m in r.messages)


def test_decision_result_is_coerced_to_its_type() -> None:
    body = decision("single", literal('["x"]'), type_ref="string") + decision(
        "bad", literal("1"), type_ref="string"
    )
    m = model(body)
    assert m.evaluate("single").value == "x"
    r = m.evaluate("bad")
    assert r.value is None
    assert r.messages[0].kind == "type-mismatch"


ITEMS = """
<itemDefinition name="tAge"><typeRef>number</typeRef><allowedValues><text>[0..150]</text></allowedValues></itemDefinition>
<itemDefinition name="tPerson">
  <itemComponent name="name"><typeRef>string</typeRef></itemComponent>
  <itemComponent name="age"><typeRef>tAge</typeRef></itemComponent>
</itemDefinition>
<itemDefinition name="tPeople" isCollection="true"><typeRef>tPerson</typeRef></itemDefinition>
"""


def test_item_definitions_check_structure_collections_and_allowed_values() -> None:
    body = (
        ITEMS
        + input_data("people", "tPeople")
        + decision("count", literal("count(people)"), inputs=["people"])
    )
    m = model(body)
    assert m.evaluate(
        "count", {"people": [{"name": "a", "age": 3}, {"name": "b", "age": 40}]}
    ).value == Decimal(2)
    too_old = m.evaluate("count", {"people": [{"name": "a", "age": 300}]})
    assert too_old.value is None
    assert any(x.kind == "invalid-input" for x in too_old.messages)
    missing = m.evaluate("count", {"people": [{"name": "a"}]})
    assert missing.value is None
    extra_is_fine = m.evaluate("count", {"people": [{"name": "a", "age": 1, "x": 2}]})
    assert extra_is_fine.value == Decimal(1)


SERVICE = (
    input_data("x", "number")
    + decision("base", literal("x + 1"), inputs=["x"])
    + decision("out1", literal("base * 10"), decisions=["base"])
    + decision("out2", literal("base * 100"), decisions=["base"])
    + '<decisionService id="svc" name="svc"><variable name="svc"/>'
    '<outputDecision href="#d_out1"/><outputDecision href="#d_out2"/><inputDecision href="#d_base"/></decisionService>'
    + '<decisionService id="svc2" name="svc2"><variable name="svc2"/>'
    '<outputDecision href="#d_out1"/><encapsulatedDecision href="#d_base"/><inputData href="#i_x"/></decisionService>'
    + decision("caller", literal("svc2(4)"), knowledge=["svc2"])
)


def test_decision_service_invoked_directly_and_from_feel() -> None:
    m = model(SERVICE)
    r = m.evaluate_service("svc", {"base": 2})
    assert r.value == {"out1": Decimal(20), "out2": Decimal(200)}
    assert m.evaluate_service("svc2", {"x": 1}).value == Decimal(20)
    assert m.evaluate("caller").value == Decimal(50)
    assert [s.name for s in m.services] == ["svc", "svc2"]
    assert m.evaluate_service("missing").messages[0].kind == "unknown-element"


def test_cycles_are_definition_errors() -> None:
    body = decision("a", literal("b"), decisions=["b"]) + decision("b", literal("a"), decisions=["a"])
    with pytest.raises(DefinitionError, match="cycle"):
        model(body)


def test_models_are_immutable() -> None:
    m = model()
    with pytest.raises(AttributeError):
        m.name = "other"  # type: ignore[misc]
    assert m.name == "test"
    assert m.namespace == "urn:test"


def test_unknown_input_names_give_a_warning_with_a_suggestion() -> None:
    r = model().evaluate("sum", {"a": 1, "bb": 2})
    assert r.value is None
    assert r.ok  # a warning, not an error: the decision itself decides what a null means
    warning = next(m for m in r.messages if m.kind == "unknown-element")
    assert warning.severity == "warning"
    assert "did you mean 'b'" in warning.text


def test_a_long_chain_of_decisions_needs_no_deep_recursion() -> None:
    n = 1500
    body = decision("d0", literal("0")) + "".join(
        decision(f"d{i}", literal(f"d{i - 1} + 1"), decisions=[f"d{i - 1}"]) for i in range(1, n)
    )
    r = model(body).evaluate(f"d{n - 1}")
    assert r.value == Decimal(n - 1)
    assert r.ok


def test_a_longer_cycle_is_named_in_order() -> None:
    body = (
        decision("a", literal("c"), decisions=["c"])
        + decision("b", literal("a"), decisions=["a"])
        + decision("c", literal("b"), decisions=["b"])
    )
    with pytest.raises(DefinitionError, match="cycle: a -> c -> b -> a"):
        model(body)
