"""Listing a case's options outside a step when an applicability rule reads erased personal data.

The case offers people a discretionary task "Escalate" whose applicability rule reads the payee
(``payee = "John Smith"``) and a user event "Put on hold" that reads nothing. Before the case's
personal data is erased, "Escalate" is offered (the rule read the clear name). After ``casepilot
erase`` every read-only listing — ``Orchestrator.person_actions``, the chat's possible actions,
``GET /cases/{id}/actions``, the case page, ``casepilot actions`` — fails closed and consistently:
"Escalate" is never offered, the listing does not fail (no 500, no traceback), it says why ("personal
data erased"), the event is still offered, and nothing is recorded (a GET writes no history). The
next step — the agent's run, or a person asking to plan "Escalate" — fails the case and records the
error (``source: personal_data``), like a step whose sentry or rule reads erased data. SQLite and PostgreSQL; the hash chain verifies.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from casepilot.agent.chat_grounding import ground
from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.people import listed_actions
from casepilot.api import create_app
from casepilot.cli import app as cli_app
from casepilot.errors import PersonalDataErased
from tests.agent._support import assert_sound, events

CASE = """<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="d" targetNamespace="x">
  <case id="payout" name="Payout">
    <caseFileModel id="cfm">
      <caseFileItem id="cfi_payee" name="payee" multiplicity="ZeroOrOne"/>
    </caseFileModel>
    <casePlanModel id="cpm" name="Payout" autoComplete="false">
      <planItem id="pi_docs" name="Check documents" definitionRef="ht_docs"/>
      <planItem id="pi_hold" name="Put on hold" definitionRef="uel_hold"/>
      <planningTable id="pt">
        <discretionaryItem id="di_escalate" name="Escalate" definitionRef="ht_escalate"
                           applicabilityRuleRefs="ar_listed" authorizedRoleRefs="r_reviewer"/>
        <applicabilityRule id="ar_listed" name="listed payee"><condition>payee = "John Smith"</condition></applicabilityRule>
      </planningTable>
      <humanTask id="ht_docs" name="Check documents"/>
      <humanTask id="ht_escalate" name="Escalate"/>
      <userEventListener id="uel_hold" name="Put on hold" authorizedRoleRefs="r_reviewer"/>
    </casePlanModel>
    <caseRoles><role id="r_reviewer" name="reviewer"/></caseRoles>
  </case>
</definitions>"""

MANIFEST = """key: {key}
model: case.cmmn
human_tasks:
  Check documents: {{role: clerk}}
  Escalate: {{role: reviewer}}
governance:
  operator_role: operator
"""

REVIEWER = Person("rita", {"reviewer"})
ESCALATE = "plan:di_escalate:case"


def _waiting(orch: Orchestrator, tmp_path: Path, payee: str = "John Smith") -> str:
    """Deploy the bundle and start a case, run until it waits for the clerk."""
    key = f"payout-{tmp_path.name[-12:]}"
    folder = tmp_path / key
    if not folder.exists():
        folder.mkdir()
        (folder / "case.cmmn").write_text(CASE, encoding="utf-8")
        (folder / "casepilot.yaml").write_text(MANIFEST.format(key=key), encoding="utf-8")
        orch.deploy(folder)
    case = orch.start_case(key, {"payee": payee})
    assert orch.run(case.id).reason == "waiting_for_people"
    return case.id


def _ids(orch: Orchestrator, case_id: str) -> list[str]:
    return [a.id for a in orch.person_actions(case_id)]


def _unchanged(orch: Orchestrator, case_id: str, last_seq: int) -> None:
    """Nothing recorded, the case not failed."""
    assert orch.store.case(case_id).last_seq == last_seq
    assert orch.runtime.load(case_id).engine.state == "active"  # type: ignore[union-attr]
    assert not [e for e in events(orch.store, case_id, "error") if e.get("source") == "personal_data"]


def _failed_with_reason(orch: Orchestrator, case_id: str) -> None:
    [error] = [e for e in events(orch.store, case_id, "error") if e.get("source") == "personal_data"]
    assert "cannot be revealed" in error["problem"] and error["case_failed"] is True
    assert orch.runtime.load(case_id).engine.state == "failed"  # type: ignore[union-attr]
    assert_sound(orch.store, case_id)


def test_the_rule_reads_the_clear_name_before_the_erasure(orch: Orchestrator, tmp_path: Path) -> None:
    listed = _waiting(orch, tmp_path)
    other = _waiting(orch, tmp_path, payee="Ann Lee")
    assert _ids(orch, listed) == ["occur:case.2", ESCALATE]
    assert _ids(orch, other) == ["occur:case.2"]  # the rule does not hold for Ann Lee
    assert listed_actions(orch.runtime.load(listed).engine)[1] == []


def test_read_only_listings_leave_the_item_out_say_why_and_record_nothing(
    orch: Orchestrator, tmp_path: Path, url: str
) -> None:
    case_id = _waiting(orch, tmp_path)
    orch.erase(case_id, reason="the payee asked")
    last_seq = orch.store.case(case_id).last_seq

    # The orchestrator's listing: the event still, never "Escalate".
    assert _ids(orch, case_id) == ["occur:case.2"]
    possible, [gone] = listed_actions(orch.runtime.load(case_id).engine)
    assert [a.id for a in possible] == ["occur:case.2"]
    assert (gone.id, gone.label) == (ESCALATE, "Escalate")
    assert gone.reason.startswith("personal data erased") and "reads payee" in gone.reason
    # The chat's possible actions (the agent's menu outside a step): left out, and why.
    options, [chat_gone] = orch.runtime.listed_options(orch.runtime.load(case_id))
    assert ESCALATE not in {o.id for o in options} and chat_gone.id == ESCALATE
    _unchanged(orch, case_id, last_seq)

    with TestClient(create_app(orch)) as client:
        listed = client.get(f"/cases/{case_id}/actions")
        assert listed.status_code == 200, listed.text
        assert [(a["id"], a["available"]) for a in listed.json()] == [("occur:case.2", True), (ESCALATE, False)]
        unavailable = listed.json()[1]
        assert unavailable["roles"] == ["reviewer"] and unavailable["reason"].startswith("personal data erased")
        page = client.get(f"/ui/cases/{case_id}")
        assert page.status_code == 200, page.text
        assert f'data-unavailable="{ESCALATE}"' in page.text and "personal data erased" in page.text
        assert f'data-action="{ESCALATE}"' not in page.text and 'data-action="occur:case.2"' in page.text
    grounding = ground(orch, orch.runtime.load(case_id), "what can be done?")  # what a chat answer stands on
    assert ESCALATE not in {o.id for o in grounding.options}
    assert [a["label"] for a in grounding.payload["unavailable_actions"]] == ["Escalate"]
    listed_seq = orch.store.case(case_id).last_seq
    assert listed_seq == last_seq

    shown = CliRunner().invoke(cli_app, ["actions", case_id, "--db", url])
    assert shown.exit_code == 0, (shown.output, shown.exception)
    assert "occur:case.2" in shown.output and "not available: Escalate" in shown.output
    assert "personal data erased" in shown.output and "Traceback" not in shown.output
    assert orch.store.case(case_id).last_seq == listed_seq
    assert orch.runtime.load(case_id).engine.state == "active"  # type: ignore[union-attr]

    # The agent's next run evaluates the rule: the case fails, the history says why, the run stops.
    outcome = orch.run(case_id)
    assert (outcome.reason, outcome.case_state) == ("failed", "failed")
    _failed_with_reason(orch, case_id)


def test_asking_to_plan_the_unavailable_item_fails_the_case_and_is_refused(
    orch: Orchestrator, tmp_path: Path
) -> None:
    case_id = _waiting(orch, tmp_path)
    orch.erase(case_id, reason="the payee asked")
    with pytest.raises(PersonalDataErased, match="reads payee"):
        orch.perform(case_id, ESCALATE, REVIEWER)
    _failed_with_reason(orch, case_id)
    assert [t.plan_item for t in orch.pending(case_id)] != ["Escalate"]
    assert not [e for e in events(orch.store, case_id, "transition") if e.get("name") == "Escalate"
                and e.get("transition") == "create"]


def test_an_action_that_needs_no_erased_data_is_still_taken(orch: Orchestrator, tmp_path: Path) -> None:
    case_id = _waiting(orch, tmp_path)
    orch.erase(case_id, reason="the payee asked")
    orch.perform(case_id, "occur:case.2", REVIEWER)
    assert [e for e in events(orch.store, case_id, "transition") if e.get("name") == "Put on hold"]
    assert orch.runtime.load(case_id).engine.state == "active"  # type: ignore[union-attr]


def test_a_chat_message_with_personal_data_on_an_erased_case_is_refused_with_409(
    orch: Orchestrator, tmp_path: Path
) -> None:
    case_id = _waiting(orch, tmp_path)
    orch.erase(case_id, reason="the payee asked")
    last_seq = orch.store.case(case_id).last_seq
    with TestClient(create_app(orch)) as client:
        refused = client.post(f"/cases/{case_id}/chat",
                              json={"actor": "rita", "message": "Please pay Jane Doe at jane.doe@example.com"})
        assert refused.status_code == 409, refused.text  # the request must change, not be retried: not 503
        detail = refused.json()["detail"]
        assert "was erased" in detail and "leave the personal data out" in detail
        assert orch.store.case(case_id).last_seq == last_seq  # nothing of the message was stored
        plain = client.post(f"/cases/{case_id}/chat", json={"actor": "rita", "message": "what can be done now?"})
        assert plain.status_code == 200, plain.text
