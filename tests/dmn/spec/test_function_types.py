"""DMN 1.5 §10.3.2.9.1 type conformance of function types where the parameter types are item
definitions: an item definition stands for the FEEL type it is built on (§7.3.2), so
``function(a: number)`` is a ``function<tNumber>->Any`` when ``tNumber`` is a plain number
(parameters are contravariant: ``tNumber <: number``). A restricted item definition conforms
to its base type, not the other way round (TCK 0070-feel-instance-of, 1131-feel-function-invocation)."""

from __future__ import annotations

import pytest

from casepilot.dmn import DecisionModel
from tests.dmn._dmn import decision, definitions, input_data, literal

ITEMS = (
    '<itemDefinition name="tNumber"><typeRef>number</typeRef></itemDefinition>'
    '<itemDefinition name="tSmall"><typeRef>number</typeRef>'
    "<typeConstraint><text>&lt; 10</text></typeConstraint></itemDefinition>"
    '<itemDefinition name="tNumbers" isCollection="true"><typeRef>tNumber</typeRef></itemDefinition>'
    '<itemDefinition name="tPoint"><itemComponent name="x"><typeRef>tNumber</typeRef></itemComponent>'
    "</itemDefinition>"
    '<itemDefinition name="tFn"><functionItem outputTypeRef="tNumber">'
    '<parameters name="a" typeRef="tNumber"/></functionItem></itemDefinition>'
)


def _value(text: str) -> object:
    model = DecisionModel.from_xml(definitions(ITEMS + decision("D", literal(text))).encode())
    return model.evaluate("D").value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(function(a: number) a) instance of function<tNumber>->Any", True),
        ("(function(a: tNumber) a) instance of function<number>->Any", True),
        ("(function(a: tNumber) a) instance of function<tNumber>->Any", True),
        ("(function(a: number) a) instance of function<tSmall>->Any", True),
        ("(function(a: tSmall) a) instance of function<number>->Any", False),
        ("(function(a: string) a) instance of function<tNumber>->Any", False),
        ("(function(a: list<number>) a) instance of function<tNumbers>->Any", True),
        ("(function(a: tNumbers) a) instance of function<list<number>>->Any", True),
        ("(function(a: list<string>) a) instance of function<tNumbers>->Any", False),
        ("(function(p: context<x: number>) p.x) instance of function<tPoint>->Any", True),
        ("(function(p: tPoint) p.x) instance of function<context<x: number>>->Any", True),
        ("(function(a: number) a) instance of tFn", True),
        ("(function(a: tNumber) a) instance of tFn", True),
        ("(function(a: tSmall) a) instance of tFn", False),
    ],
)
def test_item_definitions_stand_for_their_base_type_in_function_types(text: str, expected: bool) -> None:
    assert _value(text) is expected


def test_a_function_item_definition_accepts_functions_typed_with_the_base_types() -> None:
    """A decision typed ``tFn`` (``function<tNumber>->tNumber``) keeps a FEEL function whose
    parameter is declared ``number``; one declared ``string`` breaks the type (null, error)."""
    ok = decision("Ok", literal("function(a: number) a + 1"), type_ref="tFn")
    bad = decision("Bad", literal("function(a: string) a"), type_ref="tFn")
    use = decision("Use", literal("Ok(1)"), decisions=["Ok"])
    model = DecisionModel.from_xml(definitions(ITEMS + ok + bad + use).encode())
    assert model.evaluate("Use").value == 2
    result = model.evaluate("Bad")
    assert result.value is None and any("tFn" in m.text for m in result.errors)


def test_a_function_typed_input_is_checked_structurally() -> None:
    """An input typed ``tFn`` given a FEEL function of ``number`` is kept and callable."""
    model = DecisionModel.from_xml(
        definitions(ITEMS + input_data("f", "tFn") + decision("D", literal("f(41)"), inputs=["f"])).encode()
    )
    fn = (
        DecisionModel.from_xml(definitions(decision("F", literal("function(a: number) a + 1"))).encode())
        .evaluate("F")
        .value
    )
    result = model.evaluate("D", {"f": fn})
    assert result.value == 42 and result.ok


def test_function_item_definitions_that_refer_to_each_other_are_compared_without_looping() -> None:
    """``tF = function<tG>->Any`` and ``tG = function<tF>->Any``: asking whether ``tF <: tG``
    comes back to the same question, which is then taken as answered (the types have the same
    shape), instead of recursing until the evaluation fails."""
    items = (
        '<itemDefinition name="tF"><functionItem><parameters name="g" typeRef="tG"/></functionItem>'
        "</itemDefinition>"
        '<itemDefinition name="tG"><functionItem><parameters name="f" typeRef="tF"/></functionItem>'
        "</itemDefinition>"
    )
    checks = decision(
        "D", literal("[(function(g: tG) 1) instance of tF, (function(g: tG) 1) instance of tG]")
    )
    result = DecisionModel.from_xml(definitions(items + checks).encode()).evaluate("D")
    assert result.value == [True, True] and result.ok
