"""Vendor extensions: behaviour-changing ones are refused by name, the rest kept and ignored."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from casepilot.cmmn._parse_vendor import VENDOR_CONSTRUCTS, vendor_construct
from casepilot.cmmn.definitions import EXTENSIONS
from casepilot.cmmn.parser import parse_bytes
from casepilot.errors import DefinitionError

Builder = Callable[..., str]


def _refusal(doc: str) -> list[str]:
    with pytest.raises(DefinitionError) as err:
        parse_bytes(doc, file="v.cmmn")
    constructs = [vendor_construct(p.message) for p in err.value.problems]
    assert all(c in VENDOR_CONSTRUCTS for c in constructs), [p.message for p in err.value.problems]
    return [c for c in constructs if c is not None]


REFUSED = [
    ('<planItem id="p" definitionRef="t"/><task id="t" flowable:type="java" flowable:class="com.x.D"/>',
     ["flowable:type", "flowable:class"]),
    ('<planItem id="p" definitionRef="t"/><task id="t" flowable:expression="${bean.run()}"/>', ["flowable:expression"]),
    ('<planItem id="p" definitionRef="t"/><task id="t" flowable:delegateExpression="${d}"/>', ["flowable:delegateExpression"]),
    ('<planItem id="p" definitionRef="t"/><task id="t" flowable:type="external-worker" flowable:topic="x"/>',
     ["flowable:type", "flowable:topic"]),
    ('<planItem id="p" definitionRef="e"/><eventListener id="e" flowable:eventType="order"/>', ["flowable:eventType"]),
    ('<planItem id="p" definitionRef="u"/><userEventListener id="u" flowable:availableCondition="${x}"/>',
     ["flowable:availableCondition"]),
    ('<planItem id="p" definitionRef="t"><itemControl><extensionElements><flowable:completionNeutralRule/>'
     '</extensionElements></itemControl></planItem><task id="t"/>', ["flowable:completionNeutralRule"]),
    ('<planItem id="p" definitionRef="t"><itemControl><extensionElements>'
     '<flowable:parentCompletionRule type="ignore"/></extensionElements></itemControl></planItem><task id="t"/>',
     ["flowable:parentCompletionRule"]),
    ('<planItem id="p" definitionRef="t"><itemControl><repetitionRule flowable:maxInstanceCount="1"/></itemControl>'
     '</planItem><task id="t"/>', ["flowable:maxInstanceCount"]),
    ('<planItem id="p" definitionRef="t"><itemControl><repetitionRule flowable:collectionVariable="xs"/></itemControl>'
     '</planItem><task id="t"/>', ["flowable:collectionVariable"]),
    ('<planItem id="p" definitionRef="t"><entryCriterion sentryRef="s"/></planItem><task id="t"/>'
     '<sentry id="s" flowable:triggerMode="onEvent"><ifPart><condition>true</condition></ifPart></sentry>',
     ["flowable:triggerMode"]),
    ('<planItem id="p" definitionRef="t"><exitCriterion sentryRef="s" flowable:exitType="activeInstances"/></planItem>'
     '<task id="t"/><sentry id="s"><ifPart><condition>true</condition></ifPart></sentry>', ["flowable:exitType"]),
    ('<planItem id="p" definitionRef="c"/><caseTask id="c" caseRef="x"><extensionElements><flowable:in source="a" '
     'target="b"/></extensionElements></caseTask>', ["flowable:in"]),
    ('<planItem id="p" definitionRef="t"><entryCriterion sentryRef="s"/></planItem><task id="t"/><sentry id="s">'
     '<extensionElements><camunda:variableOnPart variableName="x"><camunda:variableEvent>create</camunda:variableEvent>'
     '</camunda:variableOnPart></extensionElements></sentry>', ["camunda:variableOnPart"]),
    ('<planItem id="p" definitionRef="pt"/><processTask id="pt" processRef="x"><extensionElements>'
     '<camunda:out variables="all"/></extensionElements></processTask>', ["camunda:out"]),
    ('<planItem id="p" definitionRef="t"><itemControl><requiredRule><condition>${vars:getOrDefault(\'a\', false)}'
     '</condition></requiredRule></itemControl></planItem><task id="t"/>',
     ["Flowable expression function (vars:/variables:/cmmn:)"]),
    ('<planItem id="p" definitionRef="t"><itemControl><requiredRule><condition>${caseInstance.getVariable(\'a\')}'
     '</condition></requiredRule></itemControl></planItem><task id="t"/>', ["JUEL method call (engine objects and beans)"]),
    ('<planItem id="p" definitionRef="t"><itemControl><requiredRule><condition>${planItemInstances.active().count() == 1}'
     '</condition></requiredRule></itemControl></planItem><task id="t"/>', ["Flowable planItemInstances() expression"]),
    ('<planItem id="p" definitionRef="tm"/><timerEventListener id="tm"><timerExpression>0 0/5 * * * ?</timerExpression>'
     '</timerEventListener>', ["Quartz cron timer expression"]),
    ('<planItem id="p" definitionRef="f"/><planFragment id="f"><planItem id="q" definitionRef="t"/></planFragment>'
     '<task id="t"/>', ["planFragment used as a plan item (Flowable)"]),
]


@pytest.mark.parametrize(("plan", "expected"), REFUSED)
def test_behaviour_changing_extensions_are_refused_by_name(cmmn: Builder, plan: str, expected: list[str]) -> None:
    assert _refusal(cmmn(plan)) == expected


@pytest.mark.parametrize(("plan", "expected"), REFUSED)
def test_lenient_mode_keeps_them_as_extensions(cmmn: Builder, plan: str, expected: list[str]) -> None:
    defs = parse_bytes(cmmn(plan), strict_extensions=False)
    assert defs.case().plan_items["p"].definition_ref in defs.case().definitions


def test_refusal_message_says_what_to_do(cmmn: Builder) -> None:
    with pytest.raises(DefinitionError) as err:
        parse_bytes(cmmn('<planItem id="p" definitionRef="t"/>\n<task id="t" flowable:class="com.x.D"/>'), file="v.cmmn")
    (p,) = err.value.problems
    assert p.message.startswith('unsupported vendor extension flowable:class="com.x.D" on task')
    assert "bind a casepilot tool" in p.message
    assert p.file == "v.cmmn" and p.line == 7 and p.element == "task id='t'"


def test_harmless_extensions_are_kept_and_ignored(cmmn: Builder) -> None:
    plan = """
<planItem id="p" definitionRef="ht" flowable:includeInStageOverview="false"/>
<humanTask id="ht" flowable:assignee="${initiator}" flowable:candidateGroups="clerks" flowable:async="true" camunda:formKey="f">
  <extensionElements>
    <flowable:planItemLifecycleListener sourceState="active" targetState="completed" class="x.Y"/>
    <camunda:caseExecutionListener event="start" class="x.Z"/>
    <flowable:task-candidates-type><![CDATA[all]]></flowable:task-candidates-type>
  </extensionElements>
</humanTask>
<planItem id="r" definitionRef="t"><itemControl><repetitionRule flowable:counterVariable="n" flowable:maxInstanceCount="unlimited">
  <condition>${n &lt; 3}</condition></repetitionRule></itemControl></planItem>
<task id="t"/>"""
    case = parse_bytes(cmmn(plan, plan_attrs='flowable:formFieldValidation="true"')).case()
    ht = case.definitions["ht"]
    assert ht.extensions.attribute("http://flowable.org/cmmn", "candidateGroups") == "clerks"
    assert len(ht.extensions.elements) == 3


def test_flowable_sentry_ref_alias_is_understood(cmmn: Builder) -> None:
    plan = """<planItem id="p" definitionRef="t"><entryCriterion id="ec" flowable:sentryRef="s"/></planItem><task id="t"/>
<sentry id="s"><ifPart><condition>true</condition></ifPart></sentry>"""
    item = parse_bytes(cmmn(plan)).case().plan_items["p"]
    assert item.entry_criteria[0].sentry_ref == "s"
    assert "{http://flowable.org/cmmn}sentryRef" in EXTENSIONS


def test_default_valued_flowable_attributes_restate_cmmn(cmmn: Builder) -> None:
    plan = """<planItem id="p" definitionRef="t"><exitCriterion sentryRef="s" flowable:exitType="default" flowable:exitEventType="exit"/></planItem>
<task id="t"/><sentry id="s" flowable:triggerMode="default"><ifPart><condition>true</condition></ifPart></sentry>"""
    parse_bytes(cmmn(plan))


def test_every_vendor_construct_is_documented_as_refused() -> None:
    assert "flowable:class" in VENDOR_CONSTRUCTS and "camunda:variableOnPart" in VENDOR_CONSTRUCTS
    assert vendor_construct("unsupported vendor extension flowable:type=\"java\" on task: …") == "flowable:type"
    assert vendor_construct("definitionRef 'x' names nothing") is None
