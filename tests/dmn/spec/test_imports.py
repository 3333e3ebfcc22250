"""DMN 1.5 §6.3.3 imports: imported elements are named ``prefix.name``; an imported model's
own imports stay under its prefix (transitively), so their input data nest one level per
import; item definitions of imported models type variables; a cycle of imports is refused."""

from __future__ import annotations

import pytest

from casepilot.dmn import DecisionModel
from casepilot.errors import DefinitionError
from tests.dmn._dmn import decision, definitions, input_data, literal

IMPORT = 'importType="https://www.omg.org/spec/DMN/20230324/MODEL/"'

C = definitions(
    '<itemDefinition name="tName"><typeRef>string</typeRef>'
    '<allowedValues><text>not("")</text></allowedValues></itemDefinition>'
    + input_data("Person name", "tName")
    + decision("Greet", literal('"Hello " + Person name'), inputs=["Person name"]),
    ns="urn:c",
    name="c",
)
B = definitions(
    f'<import name="modelC" namespace="urn:c" {IMPORT}/>'
    '<decision id="d_B" name="B"><variable name="B" typeRef="modelC.tName"/>'
    '<informationRequirement><requiredDecision href="urn:c#d_Greet"/></informationRequirement>'
    + literal('modelC.Greet + "!"')
    + "</decision>",
    ns="urn:b",
    name="b",
)
B2 = definitions(
    f'<import name="other" namespace="urn:c" {IMPORT}/>'
    '<decision id="d_B2" name="B2"><variable name="B2"/>'
    '<informationRequirement><requiredDecision href="urn:c#d_Greet"/></informationRequirement>'
    + literal('other.Greet + "?"')
    + "</decision>",
    ns="urn:b2",
    name="b2",
)
A = definitions(
    f'<import name="Model B" namespace="urn:b" {IMPORT}/><import name="Model B2" namespace="urn:b2" {IMPORT}/>'
    + '<decision id="d_A" name="A"><variable name="A"/>'
    '<informationRequirement><requiredDecision href="urn:b#d_B"/></informationRequirement>'
    '<informationRequirement><requiredDecision href="urn:b2#d_B2"/></informationRequirement>'
    + literal('Model B.B + " " + Model B2.B2')
    + "</decision>",
    ns="urn:a",
    name="a",
)


def _model() -> DecisionModel:
    return DecisionModel.from_xml([A.encode(), B.encode(), B2.encode(), C.encode()])


def test_transitive_imports_keep_each_prefix_and_nest_input_data() -> None:
    inputs = {"Model B": {"modelC": {"Person name": "Ann"}}, "Model B2": {"other": {"Person name": "Bob"}}}
    result = _model().evaluate("A", inputs)
    assert result.value == "Hello Ann! Hello Bob?"
    assert result.ok


def test_item_definitions_of_imported_models_check_values() -> None:
    result = _model().evaluate("A", {"Model B": {"modelC": {"Person name": 7}}, "Model B2": {"other": {}}})
    assert result.value is None
    assert any("tName" in m.text for m in result.errors)


def test_a_name_of_a_transitively_imported_model_is_not_visible_without_its_prefix_chain() -> None:
    wrong = definitions(
        f'<import name="Model B" namespace="urn:b" {IMPORT}/>'
        + '<decision id="d_W" name="W"><variable name="W"/>'
        '<informationRequirement><requiredDecision href="urn:c#d_Greet"/></informationRequirement>'
        + literal("modelC.Greet")
        + "</decision>",
        ns="urn:w",
        name="w",
    )
    with pytest.raises(DefinitionError):
        DecisionModel.from_xml([wrong.encode(), B.encode(), C.encode()])


def test_a_cycle_of_imports_is_refused() -> None:
    x = definitions(
        f'<import name="y" namespace="urn:y" {IMPORT}/>' + decision("DX", literal("1")), ns="urn:x"
    )
    y = definitions(
        f'<import name="x" namespace="urn:x" {IMPORT}/>' + decision("DY", literal("2")), ns="urn:y"
    )
    with pytest.raises(DefinitionError, match="cycle"):
        DecisionModel.from_xml([x.encode(), y.encode()])


def test_instance_of_names_item_definitions_through_the_import_chain() -> None:
    checks = definitions(
        f'<import name="Model B" namespace="urn:b" {IMPORT}/>'
        + decision("Yes", literal('"Ann" instance of Model B.modelC.tName'))
        + decision("No", literal('"" instance of Model B.modelC.tName')),
        ns="urn:t",
        name="t",
    )
    model = DecisionModel.from_xml([checks.encode(), B.encode(), C.encode()])
    assert model.evaluate("Yes").value is True
    assert model.evaluate("No").value is False


# §6.3.3: an import whose name is empty brings the imported elements in without a prefix.
UNNAMED = definitions(
    f'<import name="" namespace="urn:c" {IMPORT}/>'
    '<decision id="d_U" name="U"><variable name="U" typeRef="tName"/>'
    '<informationRequirement><requiredDecision href="urn:c#d_Greet"/></informationRequirement>'
    + literal('Greet + "!"')
    + "</decision>"
    + decision("Is name", literal('"Ann" instance of tName'))
    + decision("Is not name", literal('"" instance of tName')),
    ns="urn:u",
    name="u",
)


def test_an_unnamed_import_needs_no_prefix() -> None:
    model = DecisionModel.from_xml([UNNAMED.encode(), C.encode()])
    result = model.evaluate("U", {"Person name": "Ann"})
    assert result.value == "Hello Ann!" and result.ok
    assert model.evaluate("Greet", {"Person name": "Bob"}).value == "Hello Bob"
    assert model.evaluate("Is name").value is True
    assert model.evaluate("Is not name").value is False


def test_an_unnamed_import_types_values_with_its_item_definitions() -> None:
    model = DecisionModel.from_xml([UNNAMED.encode(), C.encode()])
    result = model.evaluate("U", {"Person name": ""})  # "Hello !" is a tName; the input "" is not
    assert result.value is None
    assert any("tName" in m.text for m in result.errors)


def test_two_imports_under_one_name_are_refused() -> None:
    twice = definitions(
        f'<import name="m" namespace="urn:c" {IMPORT}/><import name="m" namespace="urn:b" {IMPORT}/>'
        + decision("D", literal("1")),
        ns="urn:t",
        name="t",
    )
    with pytest.raises(DefinitionError, match="two imports"):
        DecisionModel.from_xml([twice.encode(), B.encode(), C.encode()])


# §6.3.3 sets no limit on imports with an empty name: each brings its elements in unprefixed.
D_LIB = definitions(
    '<itemDefinition name="tAge"><typeRef>number</typeRef>'
    "<typeConstraint><text>[0..150]</text></typeConstraint></itemDefinition>"
    + input_data("Age", "tAge")
    + decision("Adult", literal("Age >= 18"), inputs=["Age"])
    + '<businessKnowledgeModel id="b_double" name="double"><variable name="double"/>'
    '<encapsulatedLogic><formalParameter name="n" typeRef="number"/>'
    + literal("n * 2")
    + "</encapsulatedLogic></businessKnowledgeModel>",
    ns="urn:d",
    name="d",
)
TWO_UNNAMED = definitions(
    f'<import name="" namespace="urn:c" {IMPORT}/><import name="" namespace="urn:d" {IMPORT}/>'
    '<decision id="d_Both" name="Both"><variable name="Both"/>'
    '<informationRequirement><requiredDecision href="urn:c#d_Greet"/></informationRequirement>'
    '<informationRequirement><requiredDecision href="urn:d#d_Adult"/></informationRequirement>'
    '<informationRequirement><requiredInput href="urn:d#i_Age"/></informationRequirement>'
    '<knowledgeRequirement><requiredKnowledge href="urn:d#b_double"/></knowledgeRequirement>'
    + literal('Greet + (if Adult then " (adult)" else "") + " " + string(double(Age))')
    + "</decision>"
    + decision("Typed", literal('[30 instance of tAge, 200 instance of tAge, "Ann" instance of tName]')),
    ns="urn:two",
    name="two",
)


def test_several_unnamed_imports_each_bring_their_elements_without_a_prefix() -> None:
    """TCK 0086-import / 0089-nested-inputdata-imports style models with imports whose name
    is empty: decisions, input data, BKMs and item definitions of both are used unprefixed."""
    model = DecisionModel.from_xml([TWO_UNNAMED.encode(), C.encode(), D_LIB.encode()])
    result = model.evaluate("Both", {"Person name": "Ann", "Age": 30})
    assert result.value == "Hello Ann (adult) 60" and not result.messages  # the inputs are known
    assert model.evaluate("Typed").value == [True, False, True]
    assert model.evaluate("Adult", {"Age": 10}).value is False
    assert model.evaluate("Greet", {"Person name": "Bob"}).value == "Hello Bob"
    bad = model.evaluate("Both", {"Person name": "Ann", "Age": 200})
    assert bad.value is None and any("tAge" in m.text for m in bad.errors)


def test_the_same_namespace_imported_twice_without_a_name_is_refused() -> None:
    twice = definitions(
        f'<import name="" namespace="urn:c" {IMPORT}/><import name="" namespace="urn:c" {IMPORT}/>'
        + decision("D", literal("1")),
        ns="urn:t",
        name="t",
    )
    with pytest.raises(DefinitionError, match="two imports"):
        DecisionModel.from_xml([twice.encode(), C.encode()])
