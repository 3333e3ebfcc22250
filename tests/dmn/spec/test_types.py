"""DMN 1.5 §10.3.2.9 types: ``instance of`` for every type constructor (§10.3.2.9.1–3),
the implicit conversions of §10.3.2.9.4, and typeRef checks of decisions, BKMs and inputs
against item definitions (a non-conformant value becomes null with a message)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from casepilot.dmn import DecisionModel
from tests.dmn._dmn import decision, definitions, input_data, literal
from tests.dmn.spec._check import check

INSTANCE_OF = [
    ("1 instance of number", "true"),
    ('"a" instance of string', "true"),
    ("null instance of number", "false"),
    ("null instance of Null", "true"),
    ("1 instance of Any", "true"),
    ('@"2019-01-01" instance of date', "true"),
    ('@"2019-01-01" instance of date and time', "false"),
    ('@"2019-01-01T00:00:00" instance of date', "false"),
    ('@"10:00:00" instance of time', "true"),
    ('@"P1Y" instance of years and months duration', "true"),
    ('@"P1Y" instance of days and time duration', "false"),
    ('@"P1D" instance of days and time duration', "true"),
    ("[1, 2] instance of list<number>", "true"),
    ('[1, "a"] instance of list<number>', "false"),
    ("[1, 2] instance of list<Any>", "true"),
    ("[] instance of list<string>", "true"),
    ("[[1]] instance of list<list<number>>", "true"),
    ("[[1]] instance of list<number>", "false"),
    ("1 instance of list<number>", "false"),
    ("[1] instance of number", "false"),
    ("[1] instance of list", "true"),
    ("{a: 1} instance of context<a: number>", "true"),
    ("{a: 1, b: 2} instance of context<a: number>", "true"),
    ('{a: "x"} instance of context<a: number>', "false"),
    ("{b: 1} instance of context<a: number>", "false"),
    ("{a: {b: 1}} instance of context<a: context<b: number>>", "true"),
    ("{a: 1} instance of context", "true"),
    ("[1..2] instance of range<number>", "true"),
    ("[1..2] instance of range<string>", "false"),
    ('[@"2019-01-01"..@"2019-02-01"] instance of range<date>', "true"),
    ("(< 5) instance of range<number>", "true"),
    ("[1..2] instance of range", "true"),
    ("(function(x: number) x > 1) instance of function<number>->boolean", "true"),
    ("(function(x: number) x > 1) instance of function<string>->boolean", "false"),
    ("(function(x) x > 1) instance of function<string>->boolean", "true"),
    ("(function(x) x) instance of function<number, number>->Any", "false"),
    ("(function(x: list<Any>) x) instance of function<list<number>>->Any", "true"),
    ("(function(x: list<number>) x) instance of function<list<Any>>->Any", "false"),
    ("(function(x: context<a: number>) x) instance of function<context<a: number, b: string>>->Any", "true"),
    ("(function(x: context<a: number, b: string>) x) instance of function<context<a: number>>->Any", "false"),
    ("abs instance of function<number>->number", "true"),
    ("substring instance of function<string, number>->string", "true"),
    ("substring instance of function<string, number, number>->string", "true"),
    ("substring instance of function<string>->string", "false"),
    ("1 instance of function<>->Any", "false"),
]

CONVERSIONS = [
    ("(function(x: number) x + 1)([1])", "2"),
    ("(function(x: list<number>) count(x))(5)", "1"),
    ('(function(x: date and time) string(x))(@"2019-01-01")', '"2019-01-01T00:00:00Z"'),
    ('(function(x: number) x)("1")', "null"),
    ("(function(x: number) x)([1, 2])", "null"),
    ('(function(x: list<number>) x)("a")', "null"),
    # built-ins bind their parameters the same way
    ('upper case(["a"])', '"A"'),
    ('substring(["abc"], [2])', '"bc"'),
    ("abs([-1])", "1"),
    ('string length(string: ["abc"])', "3"),
    ('date(["2019-01-01"])', '@"2019-01-01"'),
    ('upper case(["a", "b"])', "null"),
    ("sum([1])", "1"),
    ("count([[1]])", "1"),
]


@pytest.mark.parametrize(("expression", "expected"), INSTANCE_OF)
def test_instance_of(expression: str, expected: str) -> None:
    check(expression, expected)


@pytest.mark.parametrize(("expression", "expected"), CONVERSIONS)
def test_implicit_conversions_when_binding_parameters(expression: str, expected: str) -> None:
    check(expression, expected)


ITEMS = (
    '<itemDefinition name="tNums" isCollection="true"><typeRef>number</typeRef></itemDefinition>'
    '<itemDefinition name="tPerson"><itemComponent name="name"><typeRef>string</typeRef></itemComponent>'
    '<itemComponent name="age"><typeRef>number</typeRef></itemComponent></itemDefinition>'
    '<itemDefinition name="tAge"><typeRef>number</typeRef><allowedValues><text>[0..150]</text></allowedValues>'
    "</itemDefinition>"
)


def _model(*decisions: str, inputs: str = "") -> DecisionModel:
    return DecisionModel.from_xml(definitions(ITEMS + inputs + "".join(decisions)).encode())


@pytest.mark.parametrize(
    ("type_ref", "text", "expected"),
    [
        ("number", "[7]", Decimal(7)),
        ("tNums", "7", [Decimal(7)]),
        ("tNums", "[1, 2]", [Decimal(1), Decimal(2)]),
        ("tAge", "42", Decimal(42)),
        ("tPerson", '{name: "Ann", age: 3}', {"name": "Ann", "age": Decimal(3)}),
        ("date and time", '@"2019-01-01"', "2019-01-01T00:00:00Z"),
    ],
)
def test_decision_results_are_converted_to_their_declared_type(
    type_ref: str, text: str, expected: Any
) -> None:
    result = _model(decision("D", literal(text), type_ref=type_ref)).evaluate("D")
    value = result.value
    if isinstance(expected, str):
        from casepilot.dmn.feel import to_feel_string

        value = to_feel_string(value)
    assert value == expected
    assert result.ok


@pytest.mark.parametrize(
    ("type_ref", "text"),
    [
        ("number", '"7"'),
        ("number", "[1, 2]"),
        ("tNums", '["a"]'),
        ("tAge", "151"),
        ("tPerson", '{name: "Ann"}'),
        ("tPerson", "{name: 1, age: 3}"),
        ("string", '@"2019-01-01"'),
        ("date", '@"2019-01-01T10:00:00"'),
    ],
)
def test_non_conformant_decision_results_are_null_with_a_message(type_ref: str, text: str) -> None:
    result = _model(decision("D", literal(text), type_ref=type_ref)).evaluate("D")
    assert result.value is None
    assert result.errors, "a non-conformant result must say why it is null"
    assert any(type_ref in m.text for m in result.errors)


def test_inputs_and_bkm_parameters_are_checked_against_item_definitions() -> None:
    bkm = (
        '<businessKnowledgeModel id="bkm_next" name="next"><variable name="next"/>'
        '<encapsulatedLogic typeRef="tAge"><formalParameter name="a" typeRef="tAge"/>'
        + literal("a + 1")
        + "</encapsulatedLogic></businessKnowledgeModel>"
    )
    model = _model(
        decision("Next", literal("next(Age)"), inputs=["Age"], knowledge=["bkm_next"]),
        decision("Echo", literal("Age"), inputs=["Age"]),
        inputs=bkm + input_data("Age", "tAge"),
    )
    assert model.evaluate("Next", {"Age": 41}).value == Decimal(42)
    assert model.evaluate("Next", {"Age": [41]}).value == Decimal(42)
    over = model.evaluate("Next", {"Age": 150})
    assert over.value is None and over.errors
    bad_input = model.evaluate("Echo", {"Age": "old"})
    assert bad_input.value is None
    assert any("tAge" in m.text for m in bad_input.errors)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{name: "Ann", age: 3} instance of tPerson', True),
        ('{name: "Ann"} instance of tPerson', False),
        ("42 instance of tAge", True),
        ("151 instance of tAge", False),
        ('"42" instance of tAge', False),
        ("null instance of tAge", False),
        ("[1, 2] instance of tNums", True),
        ('["a"] instance of tNums', False),
        ("[42] instance of list<tAge>", True),
        ('{p: {name: "A", age: 1}} instance of context<p: tPerson>', True),
        ("(function(a: tAge) a) instance of function<tAge>->Any", True),
    ],
)
def test_instance_of_item_definitions(text: str, expected: bool) -> None:
    result = _model(decision("D", literal(text))).evaluate("D")
    assert result.value is expected


CONSTRAINED = (
    '<itemDefinition name="tScores" isCollection="true"><typeRef>number</typeRef>'
    "<typeConstraint><text>[0..10]</text></typeConstraint>"
    "<allowedValues><text>count(?) &lt;= 2</text></allowedValues></itemDefinition>"
    '<itemDefinition name="tLegacy" isCollection="true"><typeRef>number</typeRef>'
    "<allowedValues><text>[0..10]</text></allowedValues></itemDefinition>"
    '<itemDefinition name="tSmall"><typeRef>number</typeRef>'
    "<typeConstraint><text>&gt;= 0</text></typeConstraint><allowedValues><text>&lt; 5</text></allowedValues>"
    "</itemDefinition>"
)


@pytest.mark.parametrize(
    ("type_ref", "text", "ok"),
    [
        ("tScores", "[1, 10]", True),
        ("tScores", "[1, 11]", False),  # typeConstraint: each item
        ("tScores", "[1, 2, 3]", False),  # allowedValues: the collection
        ("tLegacy", "[1, 10, 3]", True),  # DMN 1.4 reading: allowedValues of each item
        ("tLegacy", "[11]", False),
        ("tSmall", "4", True),
        ("tSmall", "-1", False),
        ("tSmall", "5", False),
    ],
)
def test_type_constraint_and_allowed_values(type_ref: str, text: str, ok: bool) -> None:
    model = DecisionModel.from_xml(
        definitions(CONSTRAINED + decision("D", literal(text), type_ref=type_ref)).encode()
    )
    result = model.evaluate("D")
    assert (result.value is not None) is ok
    assert result.ok is ok


def test_feel_function_parameters_typed_with_item_definitions() -> None:
    model = _model(
        decision("Ok", literal("(function(a: tAge) a + 1)(41)")),
        decision("Over", literal("(function(a: tAge) a + 1)(200)")),
        decision("Wrapped", literal("(function(a: tAge) a + 1)([41])")),
    )
    assert model.evaluate("Ok").value == Decimal(42)
    assert model.evaluate("Over").value is None
    assert model.evaluate("Wrapped").value == Decimal(42)


FUNCTION_ITEMS = (
    '<itemDefinition name="tAge"><typeRef>number</typeRef><allowedValues><text>[0..150]</text></allowedValues>'
    "</itemDefinition>"
    '<itemDefinition name="tFn"><functionItem outputTypeRef="number">'
    '<parameters name="a" typeRef="number"/></functionItem></itemDefinition>'
    '<itemDefinition name="tAgeFn"><functionItem><parameters name="a" typeRef="tAge"/>'
    '<parameters name="b" typeRef="list&lt;string&gt;"/></functionItem></itemDefinition>'
)


@pytest.mark.parametrize(
    ("type_ref", "text", "ok"),
    [
        ("tFn", "function(a: number) a", True),
        ("tFn", "function(a: Any) a", True),  # parameters are contravariant
        ("tFn", "function(a) a", True),  # an untyped parameter is Any
        ("tFn", "function(a: string) a", False),
        ("tFn", "function(a, b) a", False),
        ("tFn", "1", False),
        ("tFn", "abs", True),
        ("tAgeFn", "function(x: tAge, y: list<string>) x", True),
        ("tAgeFn", "function(x: tAge, y: list<Any>) x", True),
        ("tAgeFn", "function(x: tAge, y: string) x", False),
        ("tAgeFn", "function(x: tAge, y: list<number>) x", False),
    ],
)
def test_function_item_definitions_check_parameter_types(type_ref: str, text: str, ok: bool) -> None:
    """An item definition's functionItem: a function value conforms when each parameter type
    of the item definition conforms to the function's own (§10.3.2.9.1)."""
    model = DecisionModel.from_xml(
        definitions(FUNCTION_ITEMS + decision("D", literal(text), type_ref=type_ref)).encode()
    )
    result = model.evaluate("D")
    assert (result.value is not None) is ok
    assert result.ok is ok
    instance = DecisionModel.from_xml(
        definitions(FUNCTION_ITEMS + decision("I", literal(f"({text}) instance of {type_ref}"))).encode()
    )
    assert instance.evaluate("I").value is ok
