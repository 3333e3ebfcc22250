"""Every CMMN 1.1 construct lands in the frozen definitions with its location."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from casepilot.cmmn.definitions import (
    CaseFileItemOnPart,
    CaseFileItemStartTrigger,
    CaseTask,
    DecisionTask,
    EventListener,
    HumanTask,
    Milestone,
    PlanItemOnPart,
    PlanItemStartTrigger,
    PlanningTable,
    ProcessTask,
    Stage,
    Task,
    TimerEventListener,
    UserEventListener,
)
from casepilot.cmmn.parser import parse_bytes

Builder = Callable[..., str]

FULL = """
<planItem id="pi_a" name="A" definitionRef="ht_a">
  <itemControl id="ic_a">
    <requiredRule id="rr_a"><condition language="http://www.omg.org/spec/FEEL/20140401"><![CDATA[amount > 10]]></condition></requiredRule>
    <repetitionRule id="rep_a" contextRef="cfi_claim"><condition>${count &lt; 3}</condition></repetitionRule>
    <manualActivationRule id="mar_a"><condition>true</condition></manualActivationRule>
  </itemControl>
</planItem>
<planItem id="pi_b" name="B" definitionRef="t_b">
  <entryCriterion id="ec_b" name="after A" sentryRef="s_after_a"/>
  <exitCriterion id="xc_b" sentryRef="s_file"/>
</planItem>
<planItem id="pi_stage" definitionRef="st_inner"/>
<planItem id="pi_ms" definitionRef="ms_done"><entryCriterion id="ec_ms" sentryRef="s_exit_b"/></planItem>
<planItem id="pi_uel" definitionRef="uel_go"/>
<planItem id="pi_el" definitionRef="el_generic"/>
<planItem id="pi_timer" definitionRef="tel_wait"/>
<planItem id="pi_proc" definitionRef="pt"/>
<planItem id="pi_case" definitionRef="ct"/>
<planItem id="pi_dec" definitionRef="dt"/>
<sentry id="s_after_a" name="after A">
  <planItemOnPart id="op_a" sourceRef="pi_a"><standardEvent>complete</standardEvent></planItemOnPart>
  <ifPart id="if_a" contextRef="cfi_claim"><condition language="juel">${approved == true}</condition></ifPart>
</sentry>
<sentry id="s_file">
  <caseFileItemOnPart id="op_file" sourceRef="cfi_claim"><standardEvent>update</standardEvent></caseFileItemOnPart>
</sentry>
<sentry id="s_exit_b">
  <planItemOnPart id="op_exit_b" sourceRef="pi_b" exitCriterionRef="xc_b"><standardEvent>exit</standardEvent></planItemOnPart>
</sentry>
<sentry id="s_cpm_exit">
  <planItemOnPart id="op_uel" sourceRef="pi_uel"><standardEvent>occur</standardEvent></planItemOnPart>
</sentry>
<exitCriterion id="xc_cpm" sentryRef="s_cpm_exit"/>
<planningTable id="pt_root" applicabilityRuleRefs="ar_big">
  <discretionaryItem id="di_extra" name="Extra" definitionRef="ht_extra" applicabilityRuleRefs="ar_big" authorizedRoleRefs="r_clerk"/>
  <planningTable id="pt_nested">
    <discretionaryItem id="di_nested" definitionRef="ht_extra"/>
  </planningTable>
  <applicabilityRule id="ar_big" name="big"><condition>amount &gt; 1000</condition></applicabilityRule>
</planningTable>
<humanTask id="ht_a" name="Task A" isBlocking="true" performerRef="r_clerk">
  <documentation>Do A.</documentation>
  <inputs id="in_a" name="claim" bindingRef="cfi_claim"><bindingRefinement>claim.amount</bindingRefinement></inputs>
  <outputs id="out_a" name="result" bindingRef="cfi_claim"/>
  <planningTable id="pt_task"><discretionaryItem id="di_task" definitionRef="ht_extra"/></planningTable>
  <defaultControl><manualActivationRule><condition>false</condition></manualActivationRule></defaultControl>
</humanTask>
<task id="t_b" name="Task B" isBlocking="false"/>
<humanTask id="ht_extra" name="Extra work"/>
<stage id="st_inner" name="Inner" autoComplete="true">
  <planItem id="pi_inner" definitionRef="ht_inner"/>
  <humanTask id="ht_inner" name="Inner task"/>
</stage>
<milestone id="ms_done" name="Done"/>
<userEventListener id="uel_go" name="Go" authorizedRoleRefs="r_clerk"/>
<eventListener id="el_generic" name="Generic"/>
<timerEventListener id="tel_wait" name="Wait">
  <timerExpression>R3/PT1H</timerExpression>
  <planItemStartTrigger id="pist" sourceRef="pi_a"><standardEvent>complete</standardEvent></planItemStartTrigger>
</timerEventListener>
<processTask id="pt" name="Proc" processRef="p_pay">
  <parameterMapping id="pm1" sourceRef="in_a" targetRef="p_in"><transformation>x</transformation></parameterMapping>
</processTask>
<caseTask id="ct" name="Sub case" caseRef="c1" isBlocking="false"/>
<decisionTask id="dt" name="Decide"><decisionRefExpression>${'d_' + kind}</decisionRefExpression></decisionTask>
"""

CASE_EXTRA = """
<caseFileModel id="cfm">
  <caseFileItem id="cfi_claim" name="claim" definitionRef="cfid_claim" multiplicity="ExactlyOne">
    <children><caseFileItem id="cfi_doc" name="document" definitionRef="cfid_claim" multiplicity="ZeroOrMore"/></children>
  </caseFileItem>
</caseFileModel>
<caseRoles id="roles"><role id="r_clerk" name="clerk"/><role id="r_boss" name="boss"/></caseRoles>
<input id="cin" name="request" bindingRef="cfi_claim"/>
<output id="cout" name="decision"/>
"""

DEFS_EXTRA = """
<caseFileItemDefinition id="cfid_claim" name="Claim" definitionType="http://www.omg.org/spec/CMMN/DefinitionType/Unspecified">
  <property name="amount" type="integer"/><property name="approved"/>
</caseFileItemDefinition>
<process id="p_pay" name="Pay" implementationType="http://www.omg.org/spec/CMMN/ProcessType/Unspecified"/>
<decision id="d_risk" name="Risk"/>
<import importType="http://www.w3.org/2001/XMLSchema" location="claim.xsd" namespace="http://x/claim"/>
<textAnnotation id="ta"><text>note</text></textAnnotation>
<cmmndi:CMMNDI><cmmndi:CMMNDiagram id="dia"/></cmmndi:CMMNDI>
"""


def _full(cmmn: Builder) -> str:
    return cmmn(FULL, case_extra=CASE_EXTRA, defs_extra=DEFS_EXTRA, plan_attrs='autoComplete="true"')


def test_definitions_level(cmmn: Builder) -> None:
    text = _full(cmmn)
    defs = parse_bytes(text.encode(), file="full.cmmn")
    assert defs.id == "defs"
    assert defs.target_namespace == "http://x"
    assert defs.file == "full.cmmn"
    assert defs.content_hash == hashlib.sha256(text.encode()).hexdigest()
    assert defs.process_ids == ("p_pay",)
    assert defs.decision_ids == ("d_risk",)
    (cfid,) = defs.case_file_item_definitions
    assert cfid.property_names == ("amount", "approved")
    assert cfid.definition_type is not None and cfid.definition_type.endswith("Unspecified")
    (di,) = defs.extensions.elements
    assert di.tag == "{http://www.omg.org/spec/CMMN/20151109/CMMNDI}CMMNDI" and "dia" in di.xml
    assert defs.case("c1") is defs.case() and defs.case("Case one") is defs.case()


def test_case_file_roles_and_parameters(cmmn: Builder) -> None:
    case = parse_bytes(_full(cmmn)).case()
    (claim,) = case.case_file_items
    assert claim.name == "claim" and claim.multiplicity == "ExactlyOne"
    assert claim.children[0].id == "cfi_doc" and claim.children[0].multiplicity == "ZeroOrMore"
    assert set(case.case_file_items_by_id) == {"cfi_claim", "cfi_doc"}
    assert [(r.id, r.name) for r in case.roles] == [("r_clerk", "clerk"), ("r_boss", "boss")]
    assert case.inputs[0].binding_ref == "cfi_claim" and case.outputs[0].name == "decision"


def test_plan_model_items_and_definitions(cmmn: Builder) -> None:
    case = parse_bytes(_full(cmmn), file="f.cmmn").case()
    plan = case.plan_model
    assert plan.auto_complete is True
    assert plan.exit_criteria[0].sentry_ref == "s_cpm_exit" and plan.exit_criteria[0].kind == "exit"
    kinds = {d.id: type(d) for d in case.definitions.values()}
    assert kinds["ht_a"] is HumanTask and kinds["t_b"] is Task and kinds["st_inner"] is Stage
    assert kinds["ms_done"] is Milestone and kinds["uel_go"] is UserEventListener
    assert kinds["el_generic"] is EventListener and kinds["tel_wait"] is TimerEventListener
    assert kinds["pt"] is ProcessTask and kinds["ct"] is CaseTask and kinds["dt"] is DecisionTask
    assert case.parent_stage["pi_inner"] == "st_inner"
    inner = case.definitions["st_inner"]
    assert isinstance(inner, Stage) and inner.auto_complete is True
    a = case.plan_items["pi_a"]
    assert a.location is not None and a.location.file == "f.cmmn" and a.location.line is not None


def test_tasks(cmmn: Builder) -> None:
    case = parse_bytes(_full(cmmn)).case()
    ht = case.definitions["ht_a"]
    assert isinstance(ht, HumanTask)
    assert ht.is_blocking and ht.performer_ref == "r_clerk" and ht.documentation == "Do A."
    assert ht.inputs[0].binding_refinement is not None and ht.inputs[0].binding_refinement.body == "claim.amount"
    assert ht.outputs[0].binding_ref == "cfi_claim"
    assert ht.planning_table is not None and ht.planning_table.discretionary_items()[0].id == "di_task"
    assert ht.default_control is not None and ht.default_control.manual_activation_rule is not None
    t_b = case.definitions["t_b"]
    assert isinstance(t_b, Task) and t_b.is_blocking is False
    pt = case.definitions["pt"]
    assert isinstance(pt, ProcessTask) and pt.process_ref == "p_pay"
    assert pt.mappings[0].source_ref == "in_a" and pt.mappings[0].transformation is not None
    ct = case.definitions["ct"]
    assert isinstance(ct, CaseTask) and ct.case_ref == "c1" and not ct.is_blocking
    dt = case.definitions["dt"]
    assert isinstance(dt, DecisionTask) and dt.decision_ref is None
    assert dt.decision_ref_expression is not None and dt.decision_ref_expression.body == "${'d_' + kind}"


def test_item_control_rules_and_conditions(cmmn: Builder) -> None:
    case = parse_bytes(_full(cmmn)).case()
    control = case.plan_items["pi_a"].item_control
    assert control is not None
    assert control.required_rule is not None and control.required_rule.condition is not None
    assert control.required_rule.condition.body == "amount > 10"
    assert control.required_rule.condition.language == "http://www.omg.org/spec/FEEL/20140401"
    assert control.repetition_rule is not None and control.repetition_rule.context_ref == "cfi_claim"
    assert control.repetition_rule.condition is not None and control.repetition_rule.condition.body == "${count < 3}"
    assert control.manual_activation_rule is not None and control.manual_activation_rule.id == "mar_a"


def test_sentries_on_parts_and_if_part(cmmn: Builder) -> None:
    case = parse_bytes(_full(cmmn)).case()
    s = case.sentries["s_after_a"]
    (op,) = s.on_parts
    assert isinstance(op, PlanItemOnPart) and op.source_ref == "pi_a" and op.standard_event == "complete"
    assert s.if_part is not None and s.if_part.context_ref == "cfi_claim"
    assert s.if_part.condition is not None and s.if_part.condition.language == "juel"
    (fop,) = case.sentries["s_file"].on_parts
    assert isinstance(fop, CaseFileItemOnPart) and fop.standard_event == "update"
    (xop,) = case.sentries["s_exit_b"].on_parts
    assert isinstance(xop, PlanItemOnPart) and xop.exit_criterion_ref == "xc_b"
    b = case.plan_items["pi_b"]
    assert [c.id for c in b.entry_criteria] == ["ec_b"] and b.entry_criteria[0].name == "after A"
    assert [c.sentry_ref for c in b.exit_criteria] == ["s_file"]


def test_planning_tables(cmmn: Builder) -> None:
    case = parse_bytes(_full(cmmn)).case()
    table = case.plan_model.planning_table
    assert isinstance(table, PlanningTable)
    assert table.applicability_rule_refs == ("ar_big",)
    assert [r.id for r in table.applicability_rules] == ["ar_big"]
    assert [d.id for d in table.discretionary_items()] == ["di_extra", "di_nested"]
    di = case.discretionary_items["di_extra"]
    assert di.applicability_rule_refs == ("ar_big",) and di.authorized_role_refs == ("r_clerk",)
    assert set(case.discretionary_items) == {"di_extra", "di_nested", "di_task"}


def test_event_listeners_and_timer(cmmn: Builder) -> None:
    case = parse_bytes(_full(cmmn)).case()
    uel = case.definitions["uel_go"]
    assert isinstance(uel, UserEventListener) and uel.authorized_role_refs == ("r_clerk",)
    timer = case.definitions["tel_wait"]
    assert isinstance(timer, TimerEventListener)
    assert timer.timer_expression is not None and timer.timer_expression.body == "R3/PT1H"
    assert isinstance(timer.start_trigger, PlanItemStartTrigger)
    assert timer.start_trigger.source_ref == "pi_a" and timer.start_trigger.standard_event == "complete"


def test_case_file_item_start_trigger(cmmn: Builder) -> None:
    plan = """
<planItem id="pi_t" definitionRef="tel"/>
<timerEventListener id="tel"><timerExpression>PT5M</timerExpression>
  <caseFileItemStartTrigger id="cst" sourceRef="cfi"><standardEvent>create</standardEvent></caseFileItemStartTrigger>
</timerEventListener>"""
    case_extra = '<caseFileModel><caseFileItem id="cfi" name="doc"/></caseFileModel>'
    timer = parse_bytes(cmmn(plan, case_extra=case_extra)).case().definitions["tel"]
    assert isinstance(timer, TimerEventListener)
    assert isinstance(timer.start_trigger, CaseFileItemStartTrigger) and timer.start_trigger.standard_event == "create"


def test_extensions_are_kept(cmmn: Builder) -> None:
    plan = """
<planItem id="pi" definitionRef="ht"/>
<humanTask id="ht" name="H" flowable:assignee="${initiator}" flowable:formKey="form1">
  <extensionElements>
    <flowable:taskListener event="create" class="com.example.Listener"/>
    <design:stencilid xmlns:design="http://flowable.org/design"><![CDATA[HumanTask]]></design:stencilid>
  </extensionElements>
</humanTask>"""
    ht = parse_bytes(cmmn(plan)).case().definitions["ht"]
    assert ht.extensions.attribute("http://flowable.org/cmmn", "assignee") == "${initiator}"
    tags = [e.tag for e in ht.extensions.elements]
    assert tags == ["{http://flowable.org/cmmn}taskListener", "{http://flowable.org/design}stencilid"]
    assert ht.extensions.elements[0].attributes["class"] == "com.example.Listener"
    assert "HumanTask" in ht.extensions.elements[1].xml


def test_generated_ids_for_elements_without_id(cmmn: Builder) -> None:
    plan = '<planItem name="A" definitionRef="ht"/><planItem name="B" definitionRef="ht"/><humanTask id="ht"/>'
    case = parse_bytes(cmmn(plan)).case()
    ids = list(case.plan_items)
    assert len(ids) == 2 and len(set(ids)) == 2 and all("@" in i for i in ids)


def test_complete_on_an_event_listener_means_occur(cmmn: Builder) -> None:
    plan = """
<planItem id="pi_u" definitionRef="u"/>
<planItem id="pi_t" definitionRef="t"><entryCriterion sentryRef="s"/></planItem>
<sentry id="s"><planItemOnPart sourceRef="pi_u"><standardEvent>complete</standardEvent></planItemOnPart></sentry>
<userEventListener id="u"/><humanTask id="t"/>"""
    (part,) = parse_bytes(cmmn(plan)).case().sentries["s"].on_parts
    assert isinstance(part, PlanItemOnPart) and part.standard_event == "occur"


def test_juel_deferred_syntax_is_read_as_dollar_syntax(cmmn: Builder) -> None:
    plan = """
<planItem id="pi" definitionRef="t"><itemControl><requiredRule><condition>#{false}</condition></requiredRule></itemControl></planItem>
<task id="t"/>"""
    control = parse_bytes(cmmn(plan)).case().plan_items["pi"].item_control
    assert control is not None and control.required_rule is not None
    assert control.required_rule.condition is not None and control.required_rule.condition.body == "${false}"


def test_definitions_expression_language_is_the_default(cmmn: Builder) -> None:
    doc = cmmn('<planItem id="pi" definitionRef="t"><itemControl><requiredRule><condition>a</condition>'
               '</requiredRule></itemControl></planItem><task id="t"/>')
    doc = doc.replace('id="defs"', 'id="defs" expressionLanguage="http://www.omg.org/spec/FEEL/20140401"')
    defs = parse_bytes(doc)
    assert defs.expression_language == "http://www.omg.org/spec/FEEL/20140401"
    control = defs.case().plan_items["pi"].item_control
    assert control is not None and control.required_rule is not None and control.required_rule.condition is not None
    assert control.required_rule.condition.language == defs.expression_language
