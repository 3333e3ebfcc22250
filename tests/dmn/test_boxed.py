"""Boxed expressions: context, list, relation, invocation, conditional, iterators, filter, functions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from casepilot.dmn import DecisionModel, DecisionResult

from ._dmn import decision, definitions, input_data, literal


def run(logic: str, inputs: dict[str, Any] | None = None, extra: str = "", **kw: Any) -> DecisionResult:
    xml = definitions(extra + input_data("n", "number") + decision("D", logic, inputs=["n"], **kw))
    return DecisionModel.from_xml(xml.encode()).evaluate("D", inputs or {"n": 3})


def lit_str(value: str) -> str:
    """A literal expression giving the string ``value``."""
    return literal(f'"{value}"')


def entry(name: str | None, expr: str, type_ref: str | None = None) -> str:
    tr = f' typeRef="{type_ref}"' if type_ref else ""
    var = f'<variable name="{name}"{tr}/>' if name is not None else ""
    return f"<contextEntry>{var}{expr}</contextEntry>"


def test_context_entries_see_earlier_entries_and_final_result_entry_wins() -> None:
    ctx = "<context>" + entry("a", literal("n + 1")) + entry("b", literal("a * 10")) + "</context>"
    assert run(ctx).value == {"a": Decimal(4), "b": Decimal(40)}
    with_result = "<context>" + entry("a", literal("n + 1")) + entry(None, literal("a * 2")) + "</context>"
    assert run(with_result).value == Decimal(8)


def test_context_entry_type_is_coerced() -> None:
    ctx = (
        "<context>"
        + entry("a", literal('"x"'), "number")
        + entry("b", literal("[5]"), "number")
        + "</context>"
    )
    r = run(ctx)
    assert r.value == {"a": None, "b": Decimal(5)}
    assert [m.kind for m in r.messages] == ["type-mismatch"]


def test_list_and_relation() -> None:
    assert run("<list>" + literal("1") + literal("n") + literal('"x"') + "</list>").value == [
        Decimal(1),
        Decimal(3),
        "x",
    ]
    rel = (
        '<relation><column name="k"/><column name="v"/>'
        f"<row>{lit_str('a')}{literal('1')}</row><row>{lit_str('b')}{literal('n')}</row></relation>"
    )
    assert run(rel).value == [{"k": "a", "v": Decimal(1)}, {"k": "b", "v": Decimal(3)}]


def test_conditional() -> None:
    cond = f"<conditional><if>{literal('n > 2')}</if><then>{lit_str('big')}</then><else>{lit_str('small')}</else></conditional>"
    assert run(cond, {"n": 5}).value == "big"
    assert run(cond, {"n": 1}).value == "small"
    assert run(cond, {"n": None}).value == "small"


def test_for_some_every() -> None:
    loop = (
        f'<for iteratorVariable="x"><in>{literal("[1, 2, n]")}</in><return>{literal("x * x")}</return></for>'
    )
    assert run(loop).value == [Decimal(1), Decimal(4), Decimal(9)]
    some = f'<some iteratorVariable="x"><in>{literal("[1, 2, n]")}</in><satisfies>{literal("x > 2")}</satisfies></some>'
    assert run(some).value is True
    every = f'<every iteratorVariable="x"><in>{literal("[1, 2, n]")}</in><satisfies>{literal("x > 2")}</satisfies></every>'
    assert run(every).value is False
    empty = f'<every iteratorVariable="x"><in>{literal("[]")}</in><satisfies>{literal("false")}</satisfies></every>'
    assert run(empty).value is True
    bad = (
        f'<every iteratorVariable="x"><in>{literal("[1]")}</in><satisfies>{lit_str("no")}</satisfies></every>'
    )
    r = run(bad)
    assert r.value is None
    assert not r.ok


def test_filter_keeps_matching_items_and_exposes_context_entries() -> None:
    flt = f"<filter><in>{literal('[1, 2, 3, 4]')}</in><match>{literal('item >= n')}</match></filter>"
    assert run(flt).value == [Decimal(3), Decimal(4)]
    people = (
        f"<filter><in>{literal('[{age: 10}, {age: 30}]')}</in><match>{literal('age > 18')}</match></filter>"
    )
    assert run(people).value == [{"age": Decimal(30)}]
    broken = f"<filter><in>{literal('[1, 2]')}</in><match>{lit_str('x')}</match></filter>"
    assert run(broken).value is None


def test_function_definition_in_a_context_and_boxed_invocation() -> None:
    fn = (
        '<functionDefinition><formalParameter name="a" typeRef="number"/><formalParameter name="b" typeRef="number"/>'
        + literal("a - b")
        + "</functionDefinition>"
    )
    ctx = "<context>" + entry("sub", fn) + entry(None, literal("sub(10, n)")) + "</context>"
    assert run(ctx).value == Decimal(7)
    named = "<context>" + entry("sub", fn) + entry(None, literal("sub(b: 1, a: n)")) + "</context>"
    assert run(named).value == Decimal(2)
    wrong_type = "<context>" + entry("sub", fn) + entry(None, literal('sub("x", 1)')) + "</context>"
    r = run(wrong_type)
    assert r.value is None
    assert any(m.kind == "type-mismatch" for m in r.messages)


BKM = (
    '<businessKnowledgeModel id="bkm_double" name="double"><variable name="double"/>'
    '<encapsulatedLogic><formalParameter name="x" typeRef="number"/>'
    + literal("x * 2")
    + "</encapsulatedLogic></businessKnowledgeModel>"
)


def test_boxed_invocation_of_a_bkm_with_bindings() -> None:
    inv = f'<invocation>{literal("double")}<binding><parameter name="x"/>{literal("n + 1")}</binding></invocation>'
    assert run(inv, extra=BKM, knowledge=["bkm_double"]).value == Decimal(8)
    unknown = (
        f'<invocation>{literal("double")}<binding><parameter name="y"/>{literal("1")}</binding></invocation>'
    )
    r = run(unknown, extra=BKM, knowledge=["bkm_double"])
    assert r.value is None
    assert r.messages[0].kind == "invocation-error"


def test_bkm_invoked_from_feel_and_recursively() -> None:
    fact = (
        '<businessKnowledgeModel id="bkm_fact" name="fact"><variable name="fact"/>'
        '<knowledgeRequirement><requiredKnowledge href="#bkm_fact"/></knowledgeRequirement>'
        '<encapsulatedLogic><formalParameter name="k" typeRef="number"/>'
        + literal("if k <= 1 then 1 else k * fact(k - 1)")
        + "</encapsulatedLogic></businessKnowledgeModel>"
    )
    assert run(literal("fact(n + 2)"), extra=fact, knowledge=["bkm_fact"]).value == Decimal(120)


def test_java_functions_are_reported_as_unsupported() -> None:
    fn = '<functionDefinition kind="Java">' + literal("x") + "</functionDefinition>"
    ctx = "<context>" + entry("f", fn) + "</context>"
    r = run(ctx)
    assert r.value == {"f": None}
    assert any(m.kind == "unsupported" for m in r.messages)


def test_unknown_expression_kinds_evaluate_to_null_with_a_message() -> None:
    from casepilot.dmn._parse import EXPRESSION_TAGS

    assert "literalExpression" in EXPRESSION_TAGS
    xml = definitions(decision("D", "<literalExpression><text>1</text></literalExpression>"))
    assert DecisionModel.from_xml(xml.encode()).evaluate("D").value == Decimal(1)
    no_logic = definitions('<decision id="d" name="D"><variable name="D"/></decision>')
    r = DecisionModel.from_xml(no_logic.encode()).evaluate("D")
    assert r.value is None
    assert r.messages[0].kind == "missing-logic"


def test_runaway_recursion_gives_a_result_with_messages_not_a_crash() -> None:
    loop = (
        '<businessKnowledgeModel id="bkm_loop" name="loop"><variable name="loop"/>'
        '<knowledgeRequirement><requiredKnowledge href="#bkm_loop"/></knowledgeRequirement>'
        '<encapsulatedLogic><formalParameter name="k"/>'
        + literal("loop(k + 1)")
        + "</encapsulatedLogic></businessKnowledgeModel>"
    )
    r = run(literal("loop(1)"), extra=loop, knowledge=["bkm_loop"])
    assert r.value is None
    assert not r.ok
