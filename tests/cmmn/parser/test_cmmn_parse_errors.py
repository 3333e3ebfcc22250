"""Invalid models are refused at load time with every problem, each naming element, file and line."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from casepilot.cmmn import validate as validate_module
from casepilot.cmmn.parser import parse_bytes
from casepilot.errors import DefinitionError, ExpressionSyntaxError

Builder = Callable[..., str]


def _problems(doc: str) -> list[DefinitionError]:
    with pytest.raises(DefinitionError) as err:
        parse_bytes(doc.encode(), file="bad.cmmn")
    assert err.value.problems, "a refusal always lists its problems"
    for p in err.value.problems:
        assert p.file == "bad.cmmn"
        assert p.line is not None and p.line > 0
        assert p.element
    return err.value.problems


def _line_of(doc: str, needle: str) -> int:
    return doc[: doc.index(needle)].count("\n") + 1


def test_dangling_definition_ref(cmmn: Builder) -> None:
    doc = cmmn('<planItem id="pi" definitionRef="nowhere"/>')
    (p,) = _problems(doc)
    assert "definitionRef 'nowhere'" in p.message
    assert p.element == "planItem id='pi'"
    assert p.line == _line_of(doc, 'id="pi"')


def test_dangling_sentry_ref(cmmn: Builder) -> None:
    doc = cmmn('<planItem id="pi" definitionRef="t">\n<entryCriterion id="ec" sentryRef="ghost"/></planItem><task id="t"/>')
    (p,) = _problems(doc)
    assert "sentryRef 'ghost'" in p.message and p.element == "entryCriterion id='ec'"
    assert p.line == _line_of(doc, 'id="ec"')


def test_dangling_source_refs(cmmn: Builder) -> None:
    plan = """<planItem id="pi" definitionRef="t"><entryCriterion sentryRef="s"/></planItem><task id="t"/>
<sentry id="s">
  <planItemOnPart id="op1" sourceRef="missing_item"><standardEvent>complete</standardEvent></planItemOnPart>
  <caseFileItemOnPart id="op2" sourceRef="missing_file"><standardEvent>create</standardEvent></caseFileItemOnPart>
</sentry>"""
    msgs = {p.element: p.message for p in _problems(cmmn(plan))}
    assert "sourceRef 'missing_item'" in msgs["planItemOnPart id='op1'"]
    assert "'missing_file' names no case file item" in msgs["caseFileItemOnPart id='op2'"]


def test_every_problem_is_reported_together(cmmn: Builder) -> None:
    plan = """<planItem id="a" definitionRef="x1"/><planItem id="b" definitionRef="x2"/>
<planItem id="c" definitionRef="t"><exitCriterion sentryRef="nope"/></planItem><task id="t"/>"""
    with pytest.raises(DefinitionError) as err:
        parse_bytes(cmmn(plan), file="bad.cmmn")
    assert len(err.value.problems) == 3
    text = str(err.value)
    assert "3 problems" in text and "x1" in text and "x2" in text and "nope" in text


def test_duplicate_ids(cmmn: Builder) -> None:
    doc = cmmn('<planItem id="dup" definitionRef="dup"/>\n<task id="dup"/>')
    (p,) = _problems(doc)
    assert "duplicate id 'dup'" in p.message and "first defined at line" in p.message


def test_standard_event_not_valid_for_the_source(cmmn: Builder) -> None:
    plan = """<planItem id="h" definitionRef="ht"/><planItem id="m" definitionRef="ms"><entryCriterion sentryRef="s"/></planItem>
<sentry id="s"><planItemOnPart id="op" sourceRef="h"><standardEvent>occur</standardEvent></planItemOnPart></sentry>
<humanTask id="ht"/><milestone id="ms"/>"""
    (p,) = _problems(cmmn(plan))
    assert "standardEvent 'occur' cannot happen to 'h', a humanTask" in p.message


def test_start_on_a_milestone_is_invalid(cmmn: Builder) -> None:
    plan = """<planItem id="m" definitionRef="ms"/><planItem id="t" definitionRef="tt"><entryCriterion sentryRef="s"/></planItem>
<sentry id="s"><planItemOnPart id="op" sourceRef="m"><standardEvent>start</standardEvent></planItemOnPart></sentry>
<milestone id="ms"/><task id="tt"/>"""
    (p,) = _problems(cmmn(plan))
    assert "'start' cannot happen to 'm', a milestone" in p.message


def test_unknown_standard_event(cmmn: Builder) -> None:
    plan = """<planItem id="t" definitionRef="tt"><entryCriterion sentryRef="s"/></planItem>
<sentry id="s"><planItemOnPart id="op" sourceRef="t"><standardEvent>finish</standardEvent></planItemOnPart></sentry><task id="tt"/>"""
    (p,) = _problems(cmmn(plan))
    assert "'finish' is not a standard event of a plan item" in p.message


def test_exit_criterion_ref_must_be_an_exit_criterion_of_the_source(cmmn: Builder) -> None:
    plan = """<planItem id="a" definitionRef="t"><exitCriterion id="xa" sentryRef="s0"/></planItem>
<planItem id="b" definitionRef="t"><exitCriterion id="xb" sentryRef="s0"/><entryCriterion sentryRef="s1"/></planItem>
<sentry id="s0"><ifPart><condition>true</condition></ifPart></sentry>
<sentry id="s1"><planItemOnPart id="op" sourceRef="a" exitCriterionRef="xb"><standardEvent>exit</standardEvent></planItemOnPart></sentry>
<task id="t"/>"""
    (p,) = _problems(cmmn(plan))
    assert "exitCriterionRef 'xb' is not an exit criterion of 'a'" in p.message


def test_exit_criterion_ref_needs_the_exit_event(cmmn: Builder) -> None:
    plan = """<planItem id="a" definitionRef="t"><exitCriterion id="xa" sentryRef="s0"/></planItem>
<planItem id="b" definitionRef="t"><entryCriterion sentryRef="s1"/></planItem>
<sentry id="s0"><ifPart><condition>true</condition></ifPart></sentry>
<sentry id="s1"><planItemOnPart id="op" sourceRef="a" exitCriterionRef="xa"><standardEvent>complete</standardEvent></planItemOnPart></sentry>
<task id="t"/>"""
    (p,) = _problems(cmmn(plan))
    assert "needs standardEvent 'exit'" in p.message


def test_criterion_sentry_must_be_in_the_items_stage(cmmn: Builder) -> None:
    plan = """<planItem id="st" definitionRef="stage1"/>
<sentry id="outer"><ifPart><condition>true</condition></ifPart></sentry>
<stage id="stage1"><planItem id="inner" definitionRef="t"><entryCriterion id="ec" sentryRef="outer"/></planItem><task id="t"/></stage>"""
    (p,) = _problems(cmmn(plan))
    assert "sentry 'outer' is in stage 'cpm', not in the stage 'stage1'" in p.message


def test_stage_containing_itself(cmmn: Builder) -> None:
    plan = """<planItem id="p1" definitionRef="s1"/>
<stage id="s1"><planItem id="p2" definitionRef="s2"/></stage>
<stage id="s2"><planItem id="p3" definitionRef="s1"/></stage>"""
    (p,) = _problems(cmmn(plan))
    assert "stage contains itself" in p.message


def test_unknown_roles_rules_and_case_file_references(cmmn: Builder) -> None:
    plan = """<planItem id="p" definitionRef="ht"/>
<planningTable id="ptab"><discretionaryItem id="d" definitionRef="ht" applicabilityRuleRefs="nor" authorizedRoleRefs="nobody"/></planningTable>
<humanTask id="ht" performerRef="ghost"/>"""
    case_extra = '<caseFileModel><caseFileItem id="cfi" definitionRef="nodef"/></caseFileModel>'
    messages = " | ".join(p.message for p in _problems(cmmn(plan, case_extra=case_extra)))
    assert "role 'ghost'" in messages and "role 'nobody'" in messages
    assert "applicabilityRuleRef 'nor'" in messages
    assert "definitionRef 'nodef' names no caseFileItemDefinition" in messages


def test_unsupported_element(cmmn: Builder) -> None:
    (p,) = _problems(cmmn('<planItem id="p" definitionRef="t"/><task id="t"><mystery/></task>'))
    assert "unsupported element <mystery> inside <task>" in p.message


def test_bad_boolean_and_multiplicity(cmmn: Builder) -> None:
    plan = '<planItem id="p" definitionRef="t"/><task id="t" isBlocking="yes"/>'
    case_extra = '<caseFileModel><caseFileItem id="cfi" multiplicity="Many"/></caseFileModel>'
    messages = " | ".join(p.message for p in _problems(cmmn(plan, case_extra=case_extra)))
    assert "isBlocking='yes' is not a boolean" in messages and "multiplicity 'Many'" in messages


def test_missing_standard_event_and_definition_ref(cmmn: Builder) -> None:
    plan = """<planItem id="p"/><planItem id="q" definitionRef="t"><entryCriterion sentryRef="s"/></planItem>
<sentry id="s"><planItemOnPart id="op" sourceRef="q"/></sentry><task id="t"/>"""
    messages = " | ".join(p.message for p in _problems(cmmn(plan)))
    assert "missing required attribute 'definitionRef'" in messages and "missing <standardEvent>" in messages


def test_case_without_plan_model_is_refused() -> None:
    doc = '<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL"><case id="c"/></definitions>'
    (p,) = _problems(doc)
    assert "case without a <casePlanModel>" in p.message


@pytest.mark.parametrize("timer", ["PT1H", "P1DT2H", "2025-01-31T09:00:00Z", "R3/PT1H", "R/PT20S",
                                   "R2/2025-01-01T00:00:00Z/P1D", "${dueDate}"])
def test_valid_timer_expressions(cmmn: Builder, timer: str) -> None:
    plan = f'<planItem id="p" definitionRef="tm"/><timerEventListener id="tm"><timerExpression>{timer}</timerExpression></timerEventListener>'
    parse_bytes(cmmn(plan))


@pytest.mark.parametrize("timer", ["1 hour", "PT", "R3/soon", "2025-13-45T99:00"])
def test_invalid_timer_expressions(cmmn: Builder, timer: str) -> None:
    plan = f'<planItem id="p" definitionRef="tm"/><timerEventListener id="tm">\n<timerExpression>{timer}</timerExpression></timerEventListener>'
    (p,) = _problems(cmmn(plan))
    assert "ISO-8601" in p.message and p.element == "timerEventListener id='tm'"


def _rule_doc(cmmn: Builder, condition: str) -> str:
    return cmmn(f'<planItem id="p" definitionRef="t">\n<itemControl><requiredRule id="rr">\n<condition>{condition}</condition>'
                '</requiredRule></itemControl></planItem><task id="t"/>')


def test_condition_that_does_not_compile_is_refused(cmmn: Builder, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_compile(text: str) -> object:
        if "))" in text:
            raise ExpressionSyntaxError("unexpected ')'", expression=text, line=1, column=5)
        return object()

    monkeypatch.setattr(validate_module, "_compiler", lambda: fake_compile)
    parse_bytes(_rule_doc(cmmn, "a > 1"))
    doc = _rule_doc(cmmn, "a > 1))")
    (p,) = _problems(doc)
    assert "does not compile" in p.message and "unexpected ')'" in p.message
    assert p.line == _line_of(doc, "<condition>")


def test_real_feel_compiler_rejects_broken_feel(cmmn: Builder) -> None:
    (p,) = _problems(_rule_doc(cmmn, "amount &gt; &gt; 3"))
    assert "does not compile" in p.message


def test_script_condition_language_is_refused(cmmn: Builder) -> None:
    doc = cmmn('<planItem id="p" definitionRef="t"><itemControl><requiredRule>'
               '<condition language="javascript">x == 1</condition></requiredRule></itemControl></planItem><task id="t"/>')
    (p,) = _problems(doc)
    assert p.message.startswith("unsupported vendor extension script condition language 'javascript'")


def test_process_and_decision_refs_must_match_declared_ones(cmmn: Builder) -> None:
    plan = '<planItem id="a" definitionRef="pt"/><planItem id="b" definitionRef="dt"/>' \
           '<processTask id="pt" processRef="p_other"/><decisionTask id="dt" decisionRef="d_other"/>'
    defs_extra = '<process id="p_pay"/><decision id="d_risk"/>'
    messages = " | ".join(p.message for p in _problems(cmmn(plan, defs_extra=defs_extra)))
    assert "processRef 'p_other' names none of the declared processes (p_pay)" in messages
    assert "decisionRef 'd_other' names none of the declared decisions (d_risk)" in messages
    undeclared = '<planItem id="a" definitionRef="pt"/><processTask id="pt" processRef="deployedKey"/>'
    assert parse_bytes(cmmn(undeclared)).process_ids == ()


def test_entry_criteria_on_an_event_listener_are_refused(cmmn: Builder) -> None:
    """CMMN 1.1 ch. 8 event listener and milestone lifecycle: an event listener is Available from its creation and only occurs; an entry
    criterion on it would be silently ignored, so a model that relies on one is refused."""
    doc = cmmn(
        '<planItem id="pa" definitionRef="t"/><task id="t"/>\n'
        '<planItem id="pl" definitionRef="ue">\n<entryCriterion id="ec" sentryRef="s"/></planItem>'
        '<userEventListener id="ue"/>'
        '<sentry id="s"><planItemOnPart sourceRef="pa"><standardEvent>complete</standardEvent></planItemOnPart></sentry>'
    )
    (p,) = _problems(doc)
    assert p.element == "planItem id='pl'"
    assert "event listener has no entry criteria" in p.message and "event listener and milestone lifecycle" in p.message
    assert p.line == _line_of(doc, 'id="ec"')
