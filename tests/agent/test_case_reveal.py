"""A CMMN case's sentry if-parts and decision tasks read the clear values behind the case file's
pseudonyms — and store none.

The case file holds ``<PERSON_1>`` for the payee and a pseudonym for the IBAN. An if-part
``payee = "John Smith"`` must hold for John Smith; a decision task deciding on the IBAN's country
prefix and on the payee must decide on the clear values, while its stored output, the history
and the case state keep only pseudonyms. Once the case's personal data is erased, neither is
evaluated on the pseudonym or on null: the decision task faults and the history says the data
cannot be revealed; a case whose if-part reads erased data fails, with the reason recorded.
SQLite and PostgreSQL; the history's hash chain verifies throughout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.errors import PersonalDataErased
from tests.agent._support import assert_sound, events, stored_text

CASE = """<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="d" targetNamespace="x">
  <case id="payout" name="Payout">
    <caseFileModel id="cfm">
      <caseFileItem id="cfi_payee" name="payee" multiplicity="ZeroOrOne"/>
      <caseFileItem id="cfi_iban" name="iban" multiplicity="ZeroOrOne"/>
      <caseFileItem id="cfi_route" name="route" multiplicity="ZeroOrOne"/>
    </caseFileModel>
    <casePlanModel id="cpm" name="Payout" autoComplete="true">
      <planItem id="pi_route" name="Route the payment" definitionRef="dt_route"/>
      <planItem id="pi_docs" name="Check documents" definitionRef="ht_docs"/>
      <planItem id="pi_review" name="Review payee" definitionRef="ht_review">
        <entryCriterion id="ec_review" sentryRef="s_review"/>
      </planItem>
      <sentry id="s_review">
        <planItemOnPart id="op_docs" sourceRef="pi_docs"><standardEvent>complete</standardEvent></planItemOnPart>
        <ifPart><condition>payee = "John Smith"</condition></ifPart>
      </sentry>
      <decisionTask id="dt_route" name="Route the payment" decisionRef="route">
        <output id="o_route" bindingRef="cfi_route"/>
      </decisionTask>
      <humanTask id="ht_docs" name="Check documents"/>
      <humanTask id="ht_review" name="Review payee"/>
    </casePlanModel>
  </case>
</definitions>"""

ROUTE = """<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="r" name="r" namespace="x">
  <decision id="route" name="route">
    <informationRequirement id="ir1"><requiredInput href="#iban"/></informationRequirement>
    <informationRequirement id="ir2"><requiredInput href="#payee"/></informationRequirement>
    <decisionTable id="table" hitPolicy="FIRST">
      <input id="i_country"><inputExpression id="e1" typeRef="string"><text>substring(iban, 1, 2)</text></inputExpression></input>
      <input id="i_payee"><inputExpression id="e2" typeRef="string"><text>payee</text></inputExpression></input>
      <output id="o_route" name="route" typeRef="string"/>
      <output id="o_note" name="note" typeRef="string"/>
      <rule id="listed">
        <inputEntry><text>"DE"</text></inputEntry><inputEntry><text>"John Smith"</text></inputEntry>
        <outputEntry><text>"domestic"</text></outputEntry><outputEntry><text>"listed payee " + payee</text></outputEntry>
      </rule>
      <rule id="domestic">
        <inputEntry><text>"DE"</text></inputEntry><inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"domestic"</text></outputEntry><outputEntry><text>"checked"</text></outputEntry>
      </rule>
      <rule id="foreign">
        <inputEntry><text>-</text></inputEntry><inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"foreign"</text></outputEntry><outputEntry><text>"checked"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <inputData id="iban" name="iban"/>
  <inputData id="payee" name="payee"/>
</definitions>"""

MANIFEST = """key: {key}
model: case.cmmn
decisions: [route.dmn]
human_tasks:
  Check documents: {{role: clerk}}
  Review payee: {{role: reviewer}}
"""

DE_IBAN = "DE89370400440532013000"
FR_IBAN = "FR1420041010050500013M02606"
CLERK = Person("carl", {"clerk"})


def _deploy(orch: Orchestrator, tmp_path: Path) -> str:
    key = f"payout-{tmp_path.name[-12:]}"
    folder = tmp_path / key
    folder.mkdir()
    for name, text in {
        "case.cmmn": CASE,
        "route.dmn": ROUTE,
        "casepilot.yaml": MANIFEST.format(key=key),
    }.items():
        (folder / name).write_text(text, encoding="utf-8")
    orch.deploy(folder)
    return key


def _states(orch: Orchestrator, case_id: str) -> dict[str, str]:
    engine = orch.runtime.load(case_id).engine
    assert engine is not None
    return {item.name: item.state for item in engine.items()}


def _started(orch: Orchestrator, case_id: str, name: str) -> bool:
    return any(
        e["name"] == name and e["transition"] == "start" for e in events(orch.store, case_id, "transition")
    )


def _decide_documents(orch: Orchestrator, case_id: str) -> None:
    [task] = [t for t in orch.pending(case_id) if t.plan_item == "Check documents"]
    orch.decide(task.id, CLERK, "done")
    orch.run(case_id)


def test_the_if_part_and_the_decision_read_the_clear_values_and_only_pseudonyms_are_stored(
    orch: Orchestrator, tmp_path: Path
) -> None:
    key = _deploy(orch, tmp_path)
    case = orch.start_case(key, {"payee": "John Smith", "iban": DE_IBAN})
    variables = orch.runtime.load(case.id).engine.variables()  # type: ignore[union-attr]
    payee, iban = variables["payee"], variables["iban"]
    assert payee.startswith("<PERSON_") and iban.startswith("<") and DE_IBAN not in iban

    assert orch.run(case.id).reason == "waiting_for_people"
    # The decision compared the clear IBAN's country and the clear name: the listed rule.
    [done] = [e for e in orch.store.history(case.id) if e.kind == "tool_call_completed"]
    assert done.payload["tool"] == "dmn:Route the payment" and done.rule_ids == ("listed",)
    route = orch.runtime.load(case.id).engine.variables()["route"]  # type: ignore[union-attr]
    # The clear name the rule copied into its note is stored as its pseudonym.
    assert route == {"route": "domestic", "note": f"listed payee {payee}"}

    _decide_documents(orch, case.id)
    # The if-part ``payee = "John Smith"`` held on the clear name: the review started.
    assert _states(orch, case.id)["Review payee"] == "active" and _started(orch, case.id, "Review payee")
    assert [t.plan_item for t in orch.pending(case.id)] == ["Review payee"]
    stored = stored_text(orch.store, case.id)
    assert "John" not in stored and "Smith" not in stored and DE_IBAN not in stored
    assert_sound(orch.store, case.id)


def test_another_payee_and_a_foreign_iban_take_the_other_answers(orch: Orchestrator, tmp_path: Path) -> None:
    key = _deploy(orch, tmp_path)
    case = orch.start_case(key, {"payee": "Ann Lee", "iban": FR_IBAN})
    orch.run(case.id)
    [done] = [e for e in orch.store.history(case.id) if e.kind == "tool_call_completed"]
    assert done.rule_ids == ("foreign",)
    route = orch.runtime.load(case.id).engine.variables()["route"]  # type: ignore[union-attr]
    assert route == {"route": "foreign", "note": "checked"}
    _decide_documents(orch, case.id)
    # The if-part does not hold for Ann Lee: the review never starts, and the case completes without it.
    assert _states(orch, case.id)["Review payee"] == "terminated"
    assert not _started(orch, case.id, "Review payee")
    assert orch.runtime.load(case.id).engine.state == "completed"  # type: ignore[union-attr]
    assert_sound(orch.store, case.id)


def test_erased_personal_data_faults_the_decision_and_fails_the_case_at_the_if_part(
    orch: Orchestrator, tmp_path: Path
) -> None:
    key = _deploy(orch, tmp_path)
    case = orch.start_case(key, {"payee": "John Smith", "iban": DE_IBAN})
    orch.erase(case.id, reason="the payee asked")

    # The decision task is not evaluated on the pseudonyms (nor on null): it faults, and says why.
    assert orch.run(case.id).reason == "waiting_for_people"
    [failed] = [
        e for e in events(orch.store, case.id, "tool_call_failed") if e["tool"] == "dmn:Route the payment"
    ]
    assert "cannot be revealed" in failed["error"] and failed["source"] == "personal_data"
    states = _states(orch, case.id)
    assert states["Route the payment"] == "failed"
    assert "route" not in orch.runtime.load(case.id).engine.variables()  # type: ignore[union-attr]

    # The review's if-part reads the erased payee once the documents are checked: it is neither
    # taken as false (the review skipped, the case completed) nor as true — the case fails.
    [task] = [t for t in orch.pending(case.id) if t.plan_item == "Check documents"]
    with pytest.raises(PersonalDataErased, match="reads payee"):
        orch.decide(task.id, CLERK, "done")
        orch.run(case.id)
    [error] = [e for e in events(orch.store, case.id, "error") if e.get("source") == "personal_data"]
    assert "cannot be revealed" in error["problem"] and error["case_failed"] is True
    assert orch.runtime.load(case.id).engine.state == "failed"  # type: ignore[union-attr]
    assert _states(orch, case.id)["Review payee"] == "available"
    assert not _started(orch, case.id, "Review payee")
    # The clerk's decision, whose completion evaluated the if-part, did not happen either.
    assert not orch.store.tasks(case_id=case.id, status="decided")
    assert_sound(orch.store, case.id)
