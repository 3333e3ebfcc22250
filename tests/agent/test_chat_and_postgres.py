"""Chat with a case (questions answered from its records; instructions governed like any
action) and the straight-through claim on a real PostgreSQL store, where the PostgreSQL
LangGraph checkpointer is chosen automatically."""

from __future__ import annotations

from pathlib import Path

import pytest
from langgraph.checkpoint.postgres import PostgresSaver

from casepilot.agent.chat import confirm
from casepilot.demo.payment_tools import BANK
from tests._claims import claim, manager_approves
from tests.agent._support import CLAIMS, TaskSpec, assert_sound, calls_of, events, write_bundle
from tests.agent.conftest import OrchFactory


def test_chat_answers_status_and_governs_instructions(make_orch: OrchFactory) -> None:
    orch, store = make_orch()
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", claim("senior-review", "CLM-CHAT-3"))
    [task] = orch.run(case.id).pending

    status = orch.chat(case.id, "person:joe", "What is the status of this claim?")

    assert f"Case {case.id}" in status
    assert "is active" in status
    assert "Senior analyst review" in status
    assert "senior analyst" in status and task.id in status
    before = len(events(store, case.id, "plan"))

    proposed = orch.chat(case.id, "person:joe", "please plan Request more documents")

    # an instruction is only a proposal: nothing happens until the person confirms it
    assert "Proposed action: Request more documents" in proposed
    assert len(events(store, case.id, "plan")) == before
    proposal = proposed.split("(proposal ")[1].split(")")[0]
    done = confirm(orch, case.id, proposal, "person:joe").text
    assert done.startswith("Done: Request more documents")
    plans = events(store, case.id, "plan")
    assert len(plans) == before + 1
    assert plans[-1]["planner"] == "chat" and plans[-1]["label"] == "Request more documents"
    assert events(store, case.id, "verdict")[-1]["kind"] == "allow"
    # the planned discretionary human task went to the claims handlers' inbox
    assert [t.plan_item for t in orch.pending(case.id, role="claims handler")] == ["Request more documents"]

    refused = orch.chat(case.id, "person:joe", "please run Pay claim")
    assert refused.startswith("I cannot do that")
    assert all(e["tool"] != "pay_claim" for e in events(store, case.id, "tool_call_started"))
    assert not [t for t in BANK.transfers if t.reference == "CLM-CHAT-3"]  # nothing paid

    said = [(e.actor, e.payload["role"]) for e in store.history(case.id) if e.kind == "chat_message"]
    assert said == [("person:joe", "user"), ("agent", "assistant")] * 4
    assert_sound(store, case.id)


def test_chat_instruction_for_a_forbidden_tool_is_blocked(make_orch: OrchFactory, tmp_path: Path) -> None:
    tasks = (
        TaskSpec("pay", "Pay out", "wire_transfer", {"iban": "ref"}, {"paid": "done"}),
        TaskSpec("archive", "Archive", "archive", {"ref": "ref"}, {"archived": "done"}, after="pay"),
    )
    folder = write_bundle(tmp_path / "chat-blocked", "chat-blocked", tasks, allowlist=["archive"])
    orch, store = make_orch()
    orch.deploy(folder)
    case = orch.start_case("chat-blocked", {"ref": "R-5"})

    proposed = orch.chat(case.id, "person:mallory", "please run Pay out right now")
    reply = confirm(orch, case.id, proposed.split("(proposal ")[1].split(")")[0], "person:mallory").text

    assert reply.startswith("Pay out was blocked")
    assert "allowlist" in reply
    assert calls_of("wire_transfer") == []
    verdict = events(store, case.id, "verdict")[-1]
    assert verdict["kind"] == "block"
    assert events(store, case.id, "plan")[-1]["rationale"] == "requested by chat"
    assert_sound(store, case.id)


@pytest.mark.postgres
def test_straight_through_claim_on_postgresql(make_orch: OrchFactory, pg_url: str) -> None:
    orch, store = make_orch(url=pg_url)
    assert store.backend == "postgresql"
    assert isinstance(orch._checkpointer, PostgresSaver)
    version = orch.deploy(CLAIMS)
    case = orch.start_case(version.key, claim("straight-through", "CLM-PG"))

    outcome = orch.run(case.id)

    assert outcome.reason == "waiting_for_people"  # the claims manager approves a payment above 1,000
    manager_approves(orch, case.id)
    assert orch.run(case.id).reason == "completed"
    assert [e["tool"] for e in events(store, case.id, "tool_call_completed")] == [
        "extract_claim", "sentiment", "validate_payment", "pay_claim", "send_payment_confirmation", "bpmn:payment"]
    assert len([t for t in BANK.transfers if t.reference == "CLM-PG"]) == 1
    assert_sound(store, case.id)
    # a second orchestrator on the same database sees the finished loop and does nothing
    orch2, store2 = make_orch(url=pg_url)
    again = orch2.run(case.id)
    assert (again.reason, again.steps) == ("completed", 0)
    assert_sound(store2, case.id)
