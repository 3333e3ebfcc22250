"""Decision tasks evaluate a DMN decision of the bundle; case tasks start a child case whose
completion completes the task. Both through the real orchestrator loop on SQLite."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from casepilot.agent.orchestrator import Orchestrator
from casepilot.errors import DefinitionError
from casepilot.store import Store
from casepilot.tools import ToolRegistry

CMMN = '<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="d" targetNamespace="x">{}</definitions>'

PRICING = CMMN.format("""
  <case id="pricing" name="Pricing">
    <caseFileModel id="cfm"><caseFileItem id="cfi_price" name="price" multiplicity="ZeroOrOne"/></caseFileModel>
    <casePlanModel id="cpm" name="Pricing" autoComplete="true">
      <planItem id="pi_price" name="Price the policy" definitionRef="dt_price"/>
      <planItem id="pi_review" name="Review price" definitionRef="ht_review">
        <entryCriterion id="ec" sentryRef="s"/>
      </planItem>
      <sentry id="s"><planItemOnPart id="op" sourceRef="pi_price"><standardEvent>complete</standardEvent></planItemOnPart>
        <ifPart><condition>price &gt; 100</condition></ifPart></sentry>
      <decisionTask id="dt_price" name="Price the policy" decisionRef="premium">
        <output id="o1" bindingRef="cfi_price"/>
      </decisionTask>
      <humanTask id="ht_review" name="Review price"/>
    </casePlanModel>
  </case>""")

PREMIUM = """<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="p" name="p" namespace="x">
  <decision id="premium" name="Premium">
    <informationRequirement id="ir"><requiredInput href="#age"/></informationRequirement>
    <decisionTable id="dt" hitPolicy="UNIQUE">
      <input id="i1"><inputExpression id="ie" typeRef="number"><text>age</text></inputExpression></input>
      <output id="o1" typeRef="number"/>
      <rule id="young"><inputEntry><text>&lt; 30</text></inputEntry><outputEntry><text>80</text></outputEntry></rule>
      <rule id="older"><inputEntry><text>&gt;= 30</text></inputEntry><outputEntry><text>age * 2 + 50</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <inputData id="age" name="age"/>
</definitions>"""

PARENT = CMMN.format("""
  <case id="onboarding" name="Onboarding">
    <caseFileModel id="cfm">
      <caseFileItem id="cfi_name" name="applicant" multiplicity="ZeroOrOne"/>
      <caseFileItem id="cfi_score" name="score" multiplicity="ZeroOrOne"/>
    </caseFileModel>
    <casePlanModel id="cpm" name="Onboarding" autoComplete="true">
      <planItem id="pi_check" name="Fraud check" definitionRef="ct_check"/>
      <planItem id="pi_welcome" name="Welcome" definitionRef="ht_welcome">
        <entryCriterion id="ec" sentryRef="s"/>
      </planItem>
      <sentry id="s"><planItemOnPart id="op" sourceRef="pi_check"><standardEvent>complete</standardEvent></planItemOnPart>
        <ifPart><condition>score &lt; 50</condition></ifPart></sentry>
      <caseTask id="ct_check" name="Fraud check" caseRef="fraud-check">
        <input id="in1" bindingRef="cfi_name"/>
        <output id="out1" bindingRef="cfi_score"/>
      </caseTask>
      <humanTask id="ht_welcome" name="Welcome"/>
    </casePlanModel>
  </case>""")

CHILD = CMMN.format("""
  <case id="fraud" name="Fraud check">
    <casePlanModel id="cpm" name="Fraud check" autoComplete="true">
      <planItem id="pi_score" name="Score" definitionRef="dt_score"/>
      <decisionTask id="dt_score" name="Score" decisionRef="score"/>
    </casePlanModel>
  </case>""")

SCORE = """<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="s" name="s" namespace="y">
  <decision id="score" name="score">
    <informationRequirement id="ir"><requiredInput href="#applicant"/></informationRequirement>
    <literalExpression><text>string length(applicant) * 3</text></literalExpression>
  </decision>
  <inputData id="applicant" name="applicant"/>
</definitions>"""


def bundle(root: Path, name: str, files: dict[str, str]) -> Path:
    folder = root / name
    folder.mkdir()
    for file, text in files.items():
        (folder / file).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def orch(tmp_path: Path) -> Orchestrator:
    return Orchestrator(Store.from_url(f"sqlite:///{tmp_path}/cases.db"), ToolRegistry([]), privacy=False)


def test_decision_task_evaluates_its_dmn_decision(orch: Orchestrator, tmp_path: Path) -> None:
    orch.deploy(bundle(tmp_path, "pricing", {
        "case.cmmn": PRICING, "premium.dmn": PREMIUM,
        "casepilot.yaml": "key: pricing\nmodel: case.cmmn\ndecisions: [premium.dmn]\n"
                          "human_tasks: {Review price: {role: underwriter}}\n"}))
    old = orch.start_case("pricing", {"age": 40})
    assert orch.run(old.id).reason == "waiting_for_people"
    assert orch.runtime.load(old.id).engine.variables()["price"] == Decimal(130)  # type: ignore[union-attr]
    done = [e for e in orch.store.history(old.id) if e.kind == "tool_call_completed"]
    assert done[0].payload["tool"] == "dmn:Price the policy"
    assert done[0].rule_ids == ("older",)
    young = orch.start_case("pricing", {"age": 20})
    assert orch.run(young.id).reason == "completed"


def test_decision_task_without_decision_is_refused_at_deploy(orch: Orchestrator, tmp_path: Path) -> None:
    folder = bundle(tmp_path, "broken", {
        "case.cmmn": PRICING, "casepilot.yaml": "key: pricing\nmodel: case.cmmn\n"})
    with pytest.raises(DefinitionError, match="refers to decision 'premium'"):
        orch.deploy(folder)


def test_case_task_runs_a_child_case_and_takes_its_outputs(orch: Orchestrator, tmp_path: Path) -> None:
    orch.deploy(bundle(tmp_path, "child", {
        "case.cmmn": CHILD, "score.dmn": SCORE,
        "casepilot.yaml": "key: fraud-check\nmodel: case.cmmn\ndecisions: [score.dmn]\n"}))
    orch.deploy(bundle(tmp_path, "parent", {
        "case.cmmn": PARENT, "casepilot.yaml": "key: onboarding\nmodel: case.cmmn\n"
                                               "human_tasks: {Welcome: {role: clerk}}\n"}))
    case = orch.start_case("onboarding", {"applicant": "Ann", "secret": "not passed"})
    outcome = orch.run(case.id)
    assert outcome.reason == "waiting_for_people"
    loaded = orch.runtime.load(case.id)
    assert loaded.engine is not None
    assert loaded.engine.variables()["score"] == Decimal(9)
    states = {v.name: v.state for v in loaded.engine.items()}
    assert states == {"Fraud check": "completed", "Welcome": "active"}
    started = [e.payload for e in orch.store.history(case.id) if e.kind == "tool_call_completed"]
    child_id = started[0]["result"]["child_case"]
    assert started[0]["result"]["variables"] == ["applicant"]
    child = orch.runtime.load(child_id)
    assert child.record.state["parent"] == {"case_id": case.id, "instance_id": "case.1"}
    assert child.engine is not None and child.engine.state == "completed"
    assert "secret" not in child.engine.variables()
