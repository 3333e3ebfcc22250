"""Model text a tool would send out of the case passes the output rail before the call runs.

The claims example's ``send_rejection`` declares its ``reason`` as outgoing text
(``Tool.message_fields``). After a senior analyst rejects a claim, the loop sends the
rejection: the reason passes the bundle's message rail (``message-rail.dmn``) with the
customer as audience; the verdict event names the rail's rule whether it let the letter go
or not, and a refused letter is a blocked call that never runs. A rail that cannot be
evaluated blocks (fail closed). Tools without outgoing text are reviewed as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.demo.run import LETTERS
from casepilot.errors import DefinitionError
from casepilot.store import Store
from casepilot.tools import Tool, tool
from tests.agent._support import (
    CLAIMS,
    ScriptedPlanner,
    TaskSpec,
    assert_sound,
    events,
    make_registry,
    write_bundle,
)
from tests.agent.conftest import OrchFactory


def _rejected_case(make_orch: OrchFactory) -> tuple[str, Store]:
    """A senior-review claim the analyst rejected: the next step of the loop is ``Reject claim``."""
    orch, store = make_orch()
    version = orch.deploy(CLAIMS)
    case = orch.start_case(version.key, {"letter": LETTERS["senior-review"], "policy": "POL-9"}, "rail-1")
    outcome = orch.run(case.id)
    [task] = outcome.pending
    orch.decide(task.id, Person("ann", {"senior analyst"}), "reject", "not covered")
    return case.id, store


def _rail_verdicts(store: Store, case_id: str) -> list[Any]:
    """The verdict events on ``send_rejection`` (the ones with the output rail's finding)."""
    return [e for e in store.history(case_id) if e.kind == "verdict"
            and any(f["policy"] == "output rail" for f in e.payload["findings"])]


def test_rejection_letter_passes_the_rail_before_and_after_its_approval(make_orch: OrchFactory) -> None:
    case_id, _ = _rejected_case(make_orch)
    orch, store = make_orch()

    waiting = orch.run(case_id)  # the furious letter's negative sentiment asks a person first

    [checkpoint] = waiting.pending
    [asked] = _rail_verdicts(store, case_id)
    assert asked.payload["kind"] == "require_human"
    assert "negative_sentiment" in asked.rule_ids and "message_ok" in asked.rule_ids
    assert asked.payload["reason"] == "extracted sentiment score is negative"  # the Governor's, kept
    orch.decide(checkpoint.id, Person("ann", {"senior analyst"}), "approve", "send it")
    outcome = orch.run(case_id)

    assert outcome.reason == "completed"
    asked, approved = _rail_verdicts(store, case_id)
    assert approved.payload["kind"] == "allow"
    assert "message_ok" in approved.rule_ids  # the rail reviewed the letter again before it went
    [rail] = [f for f in approved.payload["findings"] if f["policy"] == "output rail"]
    assert (rail["kind"], rail["rule_ids"]) == ("allow", ["message_ok"])
    assert "send_rejection" in rail["reason"]
    sent = [e for e in events(store, case_id, "tool_call_completed") if e["tool"] == "send_rejection"]
    assert len(sent) == 1
    assert "not covered by the policy" in sent[0]["result"]["sent_text"]
    assert_sound(store, case_id)


def test_a_refused_letter_blocks_the_call_with_the_rails_rule(make_orch: OrchFactory) -> None:
    case_id, _ = _rejected_case(make_orch)
    reason = "I have sent your file back; we decline the claim"
    planner = ScriptedPlanner({"Reject claim": {"letter": LETTERS["senior-review"], "reason": reason}})
    orch, store = make_orch(planner=planner)

    outcome = orch.run(case_id)

    [verdict] = _rail_verdicts(store, case_id)
    assert verdict.payload["kind"] == "block"
    assert "no_claim_of_action" in verdict.rule_ids
    assert "the chat does not act" in verdict.payload["reason"]
    [rail] = [f for f in verdict.payload["findings"] if f["policy"] == "output rail"]
    assert rail["kind"] == "block"
    assert not [e for e in events(store, case_id, "tool_call_started") if e["tool"] == "send_rejection"]
    assert not [e for e in events(store, case_id, "tool_call_completed") if e["tool"] == "send_rejection"]
    assert outcome.case_state == "active"
    assert_sound(store, case_id)


# -- a bundle of its own: an in-process tool, and a rail that cannot be evaluated ---------------------


class NoteArgs(BaseModel):
    to: str
    body: str


class NoteResult(BaseModel):
    sent: bool


SENT: list[str] = []


@tool(name="send_note", side_effect="idempotent", message_fields=("body",))
def send_note(args: NoteArgs) -> NoteResult:
    """Send a note to the customer."""
    SENT.append(args.body)
    return NoteResult(sent=True)


_BROKEN_RAIL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="broken_rail" name="Broken rail"
             namespace="https://casepilot.dev/tests/broken-rail">
  <decision id="rail" name="Rail">
    <decisionTable id="dt" hitPolicy="UNIQUE">
      <input id="i1"><inputExpression id="ie1" typeRef="number"><text>pii_count</text></inputExpression></input>
      <output id="o_verdict" name="verdict" typeRef="string"/>
      <output id="o_reason" name="reason" typeRef="string"/>
      <rule id="overlap_a"><inputEntry><text>&gt;= 0</text></inputEntry>
        <outputEntry><text>"allow"</text></outputEntry><outputEntry><text>"a"</text></outputEntry></rule>
      <rule id="overlap_b"><inputEntry><text>&lt;= 0</text></inputEntry>
        <outputEntry><text>"allow"</text></outputEntry><outputEntry><text>"b"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def _note_orch(tmp_path: Path, *, rail: str | None) -> tuple[Orchestrator, Store, str]:
    folder = write_bundle(tmp_path / "notes", "notes", [TaskSpec("n", "Send note", "send_note",
                                                                  {"to": "ref", "body": "text"}, {"sent": "sent"})],
                          variables=("ref", "text"))
    if rail is not None:


        (folder / "rail.dmn").write_text(rail, encoding="utf-8")
        manifest = yaml.safe_load((folder / "casepilot.yaml").read_text(encoding="utf-8"))
        manifest["governance"]["guardrails"] = [{"file": "rail.dmn", "decision": "Rail", "applies_to": ["message"]}]
        (folder / "casepilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    store = Store.from_url(f"sqlite:///{tmp_path / 'notes.db'}")
    orch = Orchestrator(store, make_registry(send_note), ScriptedPlanner())
    version = orch.deploy(folder)
    case = orch.start_case(version.key, {"ref": "C-1", "text": "Your claim is closed."}, "note-1")
    return orch, store, case.id


def test_a_rail_that_cannot_be_evaluated_blocks_the_call(tmp_path: Path) -> None:
    SENT.clear()
    orch, store, case_id = _note_orch(tmp_path, rail=_BROKEN_RAIL)
    try:
        orch.run(case_id)
        [verdict] = events(store, case_id, "verdict")
        assert verdict["kind"] == "block"
        assert any(f["policy"] == "output rail" and f["kind"] == "block" for f in verdict["findings"])
        assert SENT == []
        assert not events(store, case_id, "tool_call_started")
    finally:
        orch.close()
        store.close()


def test_without_a_message_guardrail_the_note_goes_and_the_rail_is_on_record(tmp_path: Path) -> None:
    SENT.clear()
    orch, store, case_id = _note_orch(tmp_path, rail=None)
    try:
        outcome = orch.run(case_id)
        assert outcome.reason == "completed"
        [verdict] = events(store, case_id, "verdict")
        assert verdict["kind"] == "allow"
        assert [f["policy"] for f in verdict["findings"]] == ["output rail"]
        assert SENT == ["Your claim is closed."]
    finally:
        orch.close()
        store.close()


def test_message_fields_must_be_arguments_of_the_tool() -> None:
    with pytest.raises(DefinitionError, match="message_fields"):
        Tool(name="bad", description="d", args_model=NoteArgs, result_model=NoteResult,
             func=lambda a: NoteResult(sent=True), message_fields=("subject",))
