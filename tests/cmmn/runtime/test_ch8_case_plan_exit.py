"""CMMN 1.1 ch. 5 Sentry with the ch. 8 case instance lifecycle: an exit criterion of the case
plan model whose sentry has only an if-part terminates the case as soon as its condition holds —
at the case's creation or after any later change — on the live instance, not only on one
rebuilt from its snapshot (which re-arms every sentry on load)."""

from __future__ import annotations

from casepilot.cmmn import CaseInstance
from casepilot.cmmn.definitions import Case
from casepilot.cmmn.parser import parse_bytes

_MODEL = (
    '<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="d" targetNamespace="urn:t">'
    '<case id="c" name="C"><casePlanModel id="cpm" name="Plan"><exitCriterion sentryRef="sx"/>'
    '<sentry id="sx"><ifPart><condition>${withdrawn == true}</condition></ifPart></sentry>'
    '<planItem id="pa" definitionRef="a"/><humanTask id="a" name="A"/>'
    "</casePlanModel></case></definitions>"
)


def _case() -> Case:
    return parse_bytes(_MODEL.encode()).case()


def test_the_condition_true_at_creation_terminates_the_case_at_once() -> None:
    inst = CaseInstance.start(_case(), {"withdrawn": True})
    assert inst.state == "Terminated" and inst.state_of("A") == "Terminated"
    case_events = [(e.transition, e.cause) for e in inst.last_events if e.subject == "case"]
    assert case_events == [("create", "user"), ("terminate", "sentry:sx")]


def test_the_condition_turning_true_later_terminates_the_live_case() -> None:
    inst = CaseInstance.start(_case(), {"withdrawn": False})
    assert inst.state == "Active" and inst.state_of("A") == "Active"
    inst.set_variables({"other": 1})
    assert inst.state == "Active"
    inst.set_variables({"withdrawn": True})
    assert inst.state == "Terminated" and inst.state_of("A") == "Terminated"
