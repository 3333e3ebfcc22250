"""The flagship claim-triage bundle end to end with the offline RulePlanner.

Straight through: every step lands in the history as plan → verdict → tool call started →
completed → transitions, the case completes, the history verifies and replays to the
stored state. Senior review: the run waits for a person, the inbox checks roles, and a
second process (a real restart: new interpreter, new Store, new Orchestrator) resumes
the case from the durable checkpoint and completes it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from casepilot.agent.orchestrator import Person
from casepilot.demo.run import LETTERS
from casepilot.errors import DecisionRejected
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


def test_straight_through_claim_records_every_step_and_replays(make_orch: OrchFactory) -> None:
    orch, store = make_orch()
    version = orch.deploy(CLAIMS)
    case = orch.start_case(version.key, {"letter": LETTERS["straight-through"], "policy": "POL-1"}, "st-1")

    outcome = orch.run(case.id)

    assert outcome.reason == "completed"
    assert outcome.case_state == "completed"
    assert outcome.pending == ()
    assert store.case(case.id).state["engine"] is not None
    history = store.history(case.id)
    steps = _steps(history)
    chosen = [s[0].payload["label"] for s in steps]
    assert chosen == ["Extract claim details", "Score sentiment", "Approve payment"]
    assert outcome.steps == len(steps)
    for step in steps:
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
    paid = events(store, case.id, "tool_call_completed")[-1]
    assert paid["tool"] == "approve_payment"
    assert paid["result"]["payment_id"].startswith("PAY-")
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
from tests.agent._support import make_registry
store = Store.from_url(sys.argv[1])
orch = Orchestrator(store, make_registry(), RulePlanner())
out = orch.run(sys.argv[2])
print(json.dumps({"reason": out.reason, "state": out.case_state, "steps": out.steps,
                  "pending": [t.id for t in out.pending]}))
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
    case = orch.start_case(version.key, {"letter": LETTERS["senior-review"], "policy": "POL-2"}, "sr-1")

    outcome = orch.run(case.id)

    assert outcome.reason == "waiting_for_people"
    assert outcome.case_state == "active"
    [task] = outcome.pending
    assert (task.kind, task.role, task.plan_item) == ("human_task", "senior analyst", "Senior analyst review")
    assert orch.pending(case.id, role="senior analyst") == [task]
    assert not events(store, case.id, "tool_call_started") or all(
        e["tool"] != "approve_payment" for e in events(store, case.id, "tool_call_started"))

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
    paid = [e for e in events(store2, case.id, "tool_call_completed") if e["tool"] == "approve_payment"]
    assert len(paid) == 1
    decisions = [e for e in store2.history(case.id) if e.kind == "human_task_decided"]
    assert [(d.actor, d.payload["decision"]) for d in decisions] == [("person:ann", "approve")]
    assert_sound(store2, case.id)
