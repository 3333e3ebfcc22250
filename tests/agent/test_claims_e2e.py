"""The flagship claim-triage bundle end to end with the offline RulePlanner.

Straight through: every step lands in the history as plan → verdict → tool call started →
completed → transitions — the payment step ("Pay claim", a process task) as plan → verdict and
then the payment process's own calls, each verdict → started → completed; the payment of
1,250.50 waits for a claims manager (payment-approval.dmn), whose approval pays it once and
completes the case; the history verifies and replays to the stored state. Senior review: the
run waits for a person, the inbox checks roles, and a second process (a real restart: new
interpreter, new Store, new Orchestrator) resumes the case from the durable checkpoint and
completes it, paying the claim once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest

from casepilot.agent.orchestrator import Person
from casepilot.demo.payment_tools import BANK
from casepilot.errors import DecisionRejected
from tests._claims import claim, manager_approves
from tests.agent._support import CLAIMS, REPO, assert_sound, events
from tests.agent.conftest import OrchFactory

STEP_KINDS = ("plan", "verdict", "tool_call_started", "tool_call_completed")


def _steps(history: list[Any]) -> list[list[Any]]:
    """The history cut into agent steps: each starts at a ``plan`` event (state snapshots dropped)."""
    steps: list[list[Any]] = []
    for event in history:
        if event.kind in ("state", "state_delta"):
            continue
        if event.kind == "plan":
            steps.append([])
        if steps:
            steps[-1].append(event)
    return steps


def _process_calls(events_: list[Any]) -> list[tuple[str, str]]:
    """(tool, element) of every call the payment process made, each checked to be verdict (allow)
    → started → completed with one call id, in this order."""
    calls = []
    for i, event in enumerate(events_):
        if event.kind != "tool_call_started":
            continue
        verdict, completed = events_[i - 1], next(e for e in events_[i + 1:] if e.kind.startswith("tool_call_"))
        assert (verdict.kind, verdict.payload["verdict"]["kind"], verdict.payload["tool"]) == (
            "verdict", "allow", event.payload["tool"])
        assert (event.payload["token"], event.payload["element"]) == (verdict.payload["token"], verdict.payload["element"])
        assert completed.kind == "tool_call_completed"
        assert completed.payload["call_id"] == event.payload["call_id"]
        assert completed.payload["tool"] == event.payload["tool"]
        calls.append((str(event.payload["tool"]), str(event.payload["element"])))
    return calls


def test_straight_through_claim_records_every_step_and_replays(make_orch: OrchFactory) -> None:
    orch, store = make_orch()
    version = orch.deploy(CLAIMS)
    case = orch.start_case(version.key, claim("straight-through", "CLM-E2E-1"), "st-1")

    outcome = orch.run(case.id)

    # no senior analyst: the only person is the payment's claims manager (1,250.50 > 1,000)
    assert outcome.reason == "waiting_for_people"
    assert outcome.case_state == "active"
    assert [(t.role, t.plan_item) for t in outcome.pending] == [("claims manager", "approve")]
    assert store.case(case.id).state["engine"] is not None
    history = store.history(case.id)
    steps = _steps(history)
    chosen = [s[0].payload["label"] for s in steps]
    assert chosen == ["Extract claim details", "Score sentiment", "Pay claim"]
    assert outcome.steps == len(steps)
    *tool_steps, pay_step = steps
    for step in tool_steps:
        plan, verdict, started, completed, *after = step
        assert [plan.kind, verdict.kind, started.kind, completed.kind] == list(STEP_KINDS)
        assert len(plan.payload["observation_digest"]) == 64
        assert plan.payload["chose"] in plan.payload["options"]
        assert plan.payload["planner"] == "rule"
        assert verdict.payload["kind"] == "allow"
        assert verdict.payload["action"] == plan.payload["chose"]
        assert started.payload["action_digest"] == verdict.payload["action_digest"]
        assert completed.payload["call_id"] == started.payload["call_id"]
        assert completed.payload["tool"] == started.payload["tool"]
        assert after and all(e.kind == "transition" for e in after)
        # the task the step acted on is completed by this step's transitions
        assert any(e.payload.get("name") == plan.payload["label"] and e.payload.get("to_state") == "Completed"
                   for e in after)
    plan, verdict, *process = pay_step
    assert (plan.kind, plan.payload["planner"], verdict.kind) == ("plan", "rule", "verdict")
    assert (verdict.payload["kind"], verdict.payload["action"]) == ("allow", plan.payload["chose"])
    assert _process_calls(process) == [("validate_payment", "validate")]  # nothing paid before the approval
    assert [e for e in process if e.kind == "human_task_created"]

    manager_approves(orch, case.id)
    resumed = orch.run(case.id)

    assert (resumed.reason, resumed.case_state, resumed.pending) == ("completed", "completed", ())
    history = store.history(case.id)
    after_approval = [e for e in history if e.seq > pay_step[-1].seq]
    assert _process_calls(after_approval) == [("pay_claim", "pay"), ("send_payment_confirmation", "confirm")]
    assert any(e.payload.get("name") == "Pay claim" and e.payload.get("to_state") == "Completed" for e in after_approval)
    paid = [e for e in events(store, case.id, "tool_call_completed") if e["tool"] == "pay_claim"]
    assert len(paid) == 1
    assert paid[0]["result"]["transfer_id"].startswith("TR-")
    assert [(t.transfer_id, t.amount) for t in BANK.transfers if t.reference == "CLM-E2E-1"] == [
        (paid[0]["result"]["transfer_id"], Decimal("1250.50"))]  # the bank moved the money once
    assert history[-1].kind in ("state", "state_delta")  # every step ends recording the state
    assert_sound(store, case.id)
    # nothing left for the loop: running again is a no-op that reports the final state
    again = orch.run(case.id)
    assert (again.reason, again.steps) == ("completed", 0)
    assert len(store.history(case.id)) == len(history)


_PHASE_TWO = """
import json, sys
from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.store import Store
from casepilot.demo.payment_tools import BANK
from tests.agent._support import make_registry
store = Store.from_url(sys.argv[1])
orch = Orchestrator(store, make_registry(), RulePlanner())
out = orch.run(sys.argv[2])
print(json.dumps({"reason": out.reason, "state": out.case_state, "steps": out.steps,
                  "pending": [t.id for t in out.pending],
                  "transfers": [[t.transfer_id, str(t.amount)] for t in BANK.transfers]}))
orch.close()
store.close()
"""


def run_in_new_process(code: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter (the repository on its path); its last stdout line is JSON."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=full_env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_senior_review_waits_checks_roles_and_resumes_in_another_process(make_orch: OrchFactory,
                                                                         db_url: str) -> None:
    orch, store = make_orch()
    version = orch.deploy(CLAIMS)
    case = orch.start_case(version.key, claim("senior-review", "CLM-E2E-2"), "sr-1")

    outcome = orch.run(case.id)

    assert outcome.reason == "waiting_for_people"
    assert outcome.case_state == "active"
    [task] = outcome.pending
    assert (task.kind, task.role, task.plan_item) == ("human_task", "senior analyst", "Senior analyst review")
    assert orch.pending(case.id, role="senior analyst") == [task]
    assert not events(store, case.id, "tool_call_started") or all(
        e["tool"] != "pay_claim" for e in events(store, case.id, "tool_call_started"))

    with pytest.raises(DecisionRejected, match="senior analyst"):
        orch.decide(task.id, Person("bob", {"claims handler"}), "approve", "looks fine")
    with pytest.raises(DecisionRejected, match="not an option"):
        orch.decide(task.id, Person("ann", {"senior analyst"}), "pay double", None)
    assert store.task(task.id).status == "open"

    decided = orch.decide(task.id, Person("ann", {"senior analyst"}), "approve", "documents verified")
    assert decided.status == "decided"
    assert decided.decided_by == "person:ann"
    with pytest.raises(DecisionRejected, match="not open"):
        orch.decide(task.id, Person("ann", {"senior analyst"}), "reject", None)
    orch.close()
    store.close()

    result = run_in_new_process(_PHASE_TWO, db_url, case.id)

    assert result["reason"] == "completed"
    assert result["state"] == "completed"
    assert result["pending"] == []
    _orch2, store2 = make_orch()
    final = store2.case(case.id)
    assert final.state["engine"]["variables"]["review"]["decision"] == "approve"
    paid = [e for e in events(store2, case.id, "tool_call_completed") if e["tool"] == "pay_claim"]
    assert len(paid) == 1
    # 800 needs no claims manager; the second process's bank made exactly that one transfer
    assert result["transfers"] == [[paid[0]["result"]["transfer_id"], "800.00"]]  # money is held in cents
    decisions = [e for e in store2.history(case.id) if e.kind == "human_task_decided"]
    assert [(d.actor, d.payload["decision"]) for d in decisions] == [("person:ann", "approve")]
    assert_sound(store2, case.id)
