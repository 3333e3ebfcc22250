"""A tool outcome that arrives after the case stopped expecting the call (another worker took it
for interrupted while it ran) is recorded — not applied, and not dropped without a trace: for the
case's own tasks and for the service tasks of its BPMN payment process."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from casepilot.agent._process_tasks import resume_due
from casepilot.agent._recovery import expire_and_recover
from casepilot.agent.orchestrator import Person
from casepilot.demo.payment_tools import BANK
from tests._claims import claim
from tests.agent._support import CLAIMS, events
from tests.agent.conftest import OrchFactory


def test_an_outcome_that_lost_the_race_is_recorded_not_applied(make_orch: OrchFactory,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The case's own non-idempotent task: ``send_rejection`` of "Reject claim" (the analyst rejected
    the claim and approved the letter at the guardrail's checkpoint)."""
    orch, store = make_orch()
    other, _ = make_orch()
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", claim("senior-review", "CLM-LATE-1"))
    analyst = Person("ann", {"senior analyst"})
    [review] = orch.run(case.id).pending
    orch.decide(review.id, analyst, "reject", "not covered")
    [checkpoint] = orch.run(case.id).pending  # the guardrail asks again before the letter goes out
    assert (checkpoint.kind, checkpoint.plan_item) == ("checkpoint", "Reject claim")
    orch.decide(checkpoint.id, analyst, "approve", "send it")
    registry = orch.runtime.registry
    real_invoke = registry.invoke
    meddled: list[str] = []
    sent: list[str] = []

    def invoke(name: str, arguments: Mapping[str, Any] | Any, **kw: Any) -> Any:
        if name == "send_rejection" and not meddled:
            # While the tool runs, another worker takes the call for interrupted (a false crash).
            loaded = other.runtime.load(case.id)
            meddled.extend(loaded.facts.started)
            assert expire_and_recover(other.runtime, loaded)
        if name == "send_rejection":
            sent.append(name)
        return real_invoke(name, arguments, **kw)

    monkeypatch.setattr(registry, "invoke", invoke)
    outcome = orch.run(case.id)

    assert len(meddled) == 1
    late = [e for e in events(store, case.id, "tool_call_completed") if e["call_id"] == meddled[0]]
    assert len(late) == 1 and late[0]["applied"] is False
    assert "recorded, not applied" in late[0]["problem"]
    assert late[0]["result"]  # what the tool returned is in the history
    # the non-idempotent call is not run again by itself: a person with the operator role is asked
    assert sent == ["send_rejection"]
    assert [(t.role, t.plan_item) for t in outcome.pending if t.prompt.startswith("Tool 'send_rejection'")] == [
        ("claims operations", "Reject claim")]
    # (the task, still active, is also proposed again, and the guardrail asks its senior analyst first)
    assert sorted(t.role or "" for t in outcome.pending) == ["claims operations", "senior analyst"]
    assert store.verify(case.id).ok
    assert store.rebuild_state(case.id) == store.case(case.id).state


def test_a_payment_whose_outcome_lost_the_race_is_recorded_not_applied_and_never_paid_again(
        make_orch: OrchFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The payment process's non-idempotent ``pay_claim``: while the transfer runs, another worker
    resumes the process as if this one had died (``resume_due``: the crash rule asks the operator
    role). The transfer's outcome is recorded, not applied; the loop's retry does not start the
    process again (which would pay a second time); the operator is asked."""
    orch, store = make_orch()
    other, _ = make_orch()
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", claim("The repair costs EUR 300. Thanks a lot!", "CLM-LATE-2"))
    registry = orch.runtime.registry
    real_invoke = registry.invoke
    meddled: list[str] = []
    paid: list[str] = []

    def invoke(name: str, arguments: Mapping[str, Any] | Any, **kw: Any) -> Any:
        if name == "pay_claim" and not meddled:
            loaded = other.runtime.load(case.id)
            meddled.extend(token for entry in loaded.facts.processes.values()
                           for token, call in entry["runner"]["calls"].items() if call["status"] == "started")
            assert resume_due(other.runtime, loaded)
        if name == "pay_claim":
            paid.append(name)
        return real_invoke(name, arguments, **kw)

    monkeypatch.setattr(registry, "invoke", invoke)
    outcome = orch.run(case.id)

    assert len(meddled) == 1
    late = [e for e in events(store, case.id, "tool_call_completed") if e["call_id"] == meddled[0]]
    assert len(late) == 1 and late[0]["applied"] is False
    assert "recorded, not applied" in late[0]["problem"]
    assert late[0]["result"]["transfer_id"].startswith("TR-")  # what the bank returned is in the history
    assert paid == ["pay_claim"]
    assert len([t for t in BANK.transfers if t.reference == "CLM-LATE-2"]) == 1
    assert [e["tool"] for e in events(store, case.id, "tool_call_started")].count("pay_claim") == 1
    assert [t.role for t in outcome.pending] == ["claims operations"]
    assert outcome.case_state == "active"
    assert store.verify(case.id).ok
    assert store.rebuild_state(case.id) == store.case(case.id).state


def test_an_idempotent_call_whose_case_moved_on_while_it_ran_is_recorded_with_its_decision_not_applied(
        make_orch: OrchFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """An idempotent call's plan, verdict and outcome are written together after it ran; if the case
    moved on meanwhile (this worker lost its lease), they are recorded, not applied, and it runs again."""
    orch, store = make_orch()
    other, _ = make_orch()
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", claim("The repair costs EUR 300. Thanks a lot!", "CLM-LATE-3"))
    registry = orch.runtime.registry
    real_invoke = registry.invoke
    calls: list[str] = []

    def invoke(name: str, arguments: Mapping[str, Any] | Any, **kw: Any) -> Any:
        calls.append(name)
        if name == "extract_claim" and calls.count(name) == 1:
            # Meanwhile a worker that does not know of this one's lease changes the case file.
            with other.runtime.step(case.id) as (step, loaded):
                assert loaded.engine is not None
                other.runtime.record_transitions(step, loaded.engine.set_variables({"policy": "P-2"}), "agent")
        return real_invoke(name, arguments, **kw)

    monkeypatch.setattr(registry, "invoke", invoke)
    outcome = orch.run(case.id)

    assert calls.count("extract_claim") == 2  # the first result was not applied: it ran again
    kinds = [(e.kind, e.payload.get("applied")) for e in store.iter_history(case.id)]
    first = next(e for e in store.iter_history(case.id) if e.kind == "tool_call_completed")
    assert first.payload["tool"] == "extract_claim" and first.payload["applied"] is False
    at = kinds.index(("tool_call_completed", False))
    assert [k for k, _ in kinds[at - 2:at]] == ["plan", "verdict"]  # its decision is on record with it
    assert outcome.reason == "completed"
    assert store.verify(case.id).ok
    assert store.rebuild_state(case.id) == store.case(case.id).state
