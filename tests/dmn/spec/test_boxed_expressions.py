"""DMN 1.5 boxed expressions (§8.3.x conditional, filter, iterators, function definition,
invocation): the FEEL semantics they box, and every error path giving null with a message
(never an exception)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from casepilot.dmn import DecisionModel, DecisionResult
from casepilot.errors import DefinitionError
from tests.dmn._dmn import decision, definitions, input_data, literal


def run(logic: str, x: Any = None, extra: str = "") -> DecisionResult:
    xml = definitions(extra + input_data("x") + decision("D", logic, inputs=["x"]))
    return DecisionModel.from_xml(xml.encode()).evaluate("D", {"x": x})


THEN = literal('"then"')
ELSE = literal('"else"')


def conditional(cond: str) -> str:
    return f"<conditional><if>{literal(cond)}</if><then>{THEN}</then><else>{ELSE}</else></conditional>"


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        ("true", "then"),
        ("x > 1", "then"),
        ("false", "else"),
        ("null", "else"),
        ('"yes"', "else"),
        ("1", "else"),
    ],
)
def test_conditional_takes_then_only_for_true(cond: str, expected: str) -> None:
    assert run(conditional(cond), x=5).value == expected


@pytest.mark.parametrize(
    ("cond", "warned"), [('"yes"', True), ("1", True), ("null", False), ("false", False)]
)
def test_a_non_boolean_condition_is_reported(cond: str, warned: bool) -> None:
    """FEEL semantics take 'else' for anything but true; a value that is not even a boolean is
    most likely a modelling error, so the result says so (a warning: the value stands)."""
    result = run(conditional(cond), x=5)
    assert result.value == "else" and result.ok
    assert any("not a boolean" in m.text for m in result.messages) is warned


def test_conditional_evaluates_only_the_branch_taken() -> None:
    logic = f"<conditional><if>{literal('x = 0')}</if><then>{literal('0')}</then><else>{literal('10 / x')}</else></conditional>"
    result = run(logic, x=0)
    assert result.value == Decimal(0)
    assert result.ok


def filter_(source: str, match: str) -> str:
    return f"<filter><in>{literal(source)}</in><match>{literal(match)}</match></filter>"


@pytest.mark.parametrize(
    ("source", "match", "expected"),
    [
        ("[1, 2, 3, 4, 5]", "item >= 3", [3, 4, 5]),
        ("[1, 2, 3]", "item > 5", []),
        ("[]", "true", []),
        ("1", "item >= 1", [1]),
        ("[{a: 1}, {a: 2}]", "a > 1", [{"a": 2}]),
        ("[{a: 1}, {a: 2}]", "item.a < 2", [{"a": 1}]),
    ],
)
def test_filter_keeps_the_items_whose_match_is_true(source: str, match: str, expected: list[Any]) -> None:
    def feel(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: Decimal(n) for k, n in v.items()}
        return Decimal(v)

    assert run(filter_(source, match)).value == [feel(v) for v in expected]


@pytest.mark.parametrize(
    ("source", "match"),
    [("[1, 2]", '"not a boolean"'), ("[1, 2, 3]", 'if item <= 2 then true else "no"'), ("[1]", "null")],
)
def test_filter_with_a_non_boolean_match_is_null_with_a_message(source: str, match: str) -> None:
    result = run(filter_(source, match))
    assert result.value is None
    assert any("boolean" in m.text for m in result.errors)


def iterator(kind: str, source: str, body: str) -> str:
    tag = "return" if kind == "for" else "satisfies"
    return f'<{kind} iteratorVariable="e"><in>{literal(source)}</in><{tag}>{literal(body)}</{tag}></{kind}>'


@pytest.mark.parametrize(
    ("kind", "source", "body", "expected"),
    [
        ("for", "[1, 2, 3]", "e * 2", [Decimal(2), Decimal(4), Decimal(6)]),
        ("for", "1", "e * 2", [Decimal(2)]),
        ("for", "[]", "e", []),
        ("some", "[1, 2, 3]", "e > 2", True),
        ("some", "[1, 2, 3]", "e > 3", False),
        ("some", "[]", "e > 3", False),
        ("every", "[1, 2, 3]", "e > 0", True),
        ("every", "[1, 2, 3]", "e > 2", False),
        ("every", "[]", "false", True),
        ("every", "5", "e > 2", True),
    ],
)
def test_iterators(kind: str, source: str, body: str, expected: Any) -> None:
    result = run(iterator(kind, source, body))
    assert result.value == expected
    assert result.ok


@pytest.mark.parametrize(
    ("kind", "source", "body"),
    [
        ("some", "[1, 2]", '"x"'),
        ("every", "[1]", "e * 2"),
        ("every", "[1, 2]", 'if e = 1 then true else "x"'),
    ],
)
def test_quantifier_over_non_boolean_is_null_with_a_message(kind: str, source: str, body: str) -> None:
    result = run(iterator(kind, source, body))
    assert result.value is None
    assert any("boolean" in m.text for m in result.errors)


def test_iterating_over_null_is_null() -> None:
    assert run(iterator("for", "null", "e")).value is None


CALL_F = literal('f("s")')
CALL_F = literal('f("s")')
BROKEN = [
    # an invocation of something that is not a function
    f'<invocation>{literal("x")}<binding><parameter name="a"/>{literal("1")}</binding></invocation>',
    # a binding for a parameter the function does not have
    (
        '<context><contextEntry><variable name="f"/><functionDefinition><formalParameter name="a"/>'
        f"{literal('a')}</functionDefinition></contextEntry><contextEntry>"
        f'<invocation>{literal("f")}<binding><parameter name="b"/>{literal("1")}</binding></invocation>'
        "</contextEntry></context>"
    ),
    # a function whose typed parameter gets a value of another type
    (
        '<context><contextEntry><variable name="f"/><functionDefinition><formalParameter name="a" typeRef="number"/>'
        f"{literal('a')}</functionDefinition></contextEntry><contextEntry>{CALL_F}</contextEntry></context>"
    ),
    # a literal with a run-time error
    literal("1 / 0"),
    literal('date("not a date")'),
    literal('{a: 1}.a.b.c + "x"'),
]


@pytest.mark.parametrize("logic", BROKEN)
def test_error_paths_give_null_with_a_message(logic: str) -> None:
    result = run(logic, x=3)
    value = result.value
    if isinstance(value, dict):  # a context keeps its other entries; the failing one is null
        value = [v for v in value.values() if v is not None] or None
    assert value is None
    assert result.messages, "a null from an error must say why"


def test_a_relation_row_without_a_cell_per_column_is_refused_at_load() -> None:
    logic = f'<relation><column name="a"/><column name="b"/><row>{literal("1")}</row></relation>'
    with pytest.raises(DefinitionError, match="1 cells for 2 columns"):
        run(logic)
