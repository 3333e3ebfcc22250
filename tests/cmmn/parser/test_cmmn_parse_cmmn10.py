"""CMMN 1.0 documents are read and mapped onto the CMMN 1.1 definitions."""

from __future__ import annotations

from collections.abc import Callable

from casepilot.cmmn.definitions import PlanItemOnPart, TimerEventListener, UserEventListener
from casepilot.cmmn.parser import parse_bytes

Builder = Callable[..., str]
CMMN10 = "http://www.omg.org/spec/CMMN/20131201/MODEL"


def test_cmmn10_criteria_refs_events_roles_and_body(cmmn: Builder) -> None:
    plan = """
<planItem id="A" definitionRef="ht"/>
<planItem id="B" definitionRef="ht" entryCriteriaRefs="S1" exitCriteriaRefs="S2"/>
<planItem id="U" definitionRef="ue"/>
<planItem id="T" definitionRef="te"/>
<planItem id="C" definitionRef="ht" entryCriteriaRefs="S3"/>
<sentry id="S1"><planItemOnPart sourceRef="A"><standardEvent>complete</standardEvent></planItemOnPart>
  <ifPart><condition><body><![CDATA[${x > 1}]]></body></condition></ifPart></sentry>
<sentry id="S2"><planItemOnPart sourceRef="U"><standardEvent>occur</standardEvent></planItemOnPart></sentry>
<sentry id="S3"><planItemOnPart sourceRef="B" sentryRef="S2"><standardEvent>exit</standardEvent></planItemOnPart></sentry>
<humanTask id="ht"/>
<userEvent id="ue" name="Go"/>
<timerEvent id="te"><timerExpression><body>PT1H</body></timerExpression></timerEvent>"""
    case_extra = '<caseRoles id="r1" name="clerk"/><caseRoles id="r2" name="boss"/>'
    defs = parse_bytes(cmmn(plan, ns=CMMN10, case_extra=case_extra, plan_attrs='exitCriteriaRefs="S2"'))
    case = defs.case()
    b = case.plan_items["B"]
    assert [c.sentry_ref for c in b.entry_criteria] == ["S1"] and [c.sentry_ref for c in b.exit_criteria] == ["S2"]
    assert case.plan_model.exit_criteria[0].sentry_ref == "S2"
    assert isinstance(case.definitions["ue"], UserEventListener)
    timer = case.definitions["te"]
    assert isinstance(timer, TimerEventListener) and timer.timer_expression is not None
    assert timer.timer_expression.body == "PT1H"
    if_part = case.sentries["S1"].if_part
    assert if_part is not None and if_part.condition is not None and if_part.condition.body == "${x > 1}"
    (part,) = case.sentries["S3"].on_parts
    assert isinstance(part, PlanItemOnPart)
    assert part.exit_criterion_ref == b.exit_criteria[0].id
    assert [(r.id, r.name) for r in case.roles] == [("r1", "clerk"), ("r2", "boss")]
