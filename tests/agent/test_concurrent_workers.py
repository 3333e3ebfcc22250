"""Two writers on one case: the loser of a race re-runs its node on a fresh read instead of
failing or applying a step twice — and an idempotent call it already made (its decision and
outcome are written together, after the call) is recorded as not applied, then made again.

Orchestrators take the case's lease (``lease``), so another orchestrator's chat now waits for
the run instead of racing it; the race is made here by a writer that goes to the store
directly (as one whose lease expired would), which the version check still catches."""

from __future__ import annotations

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.planning import Observation, Plan
from casepilot.agent.rule_planner import RulePlanner
from tests._claims import claim
from tests.agent._support import CLAIMS
from tests.agent.conftest import OrchFactory


class MeddlingPlanner:
    """Plans like the RulePlanner, but first lets another writer change the case under it."""

    name = "rule"

    def __init__(self) -> None:
        self.other: Orchestrator | None = None
        self.meddled = 0

    def plan(self, observation: Observation) -> Plan:
        if self.other is not None and self.meddled < 2:
            self.meddled += 1
            with self.other.runtime.step(observation.case_id) as (step, _loaded):
                step.append("chat_message", actor="person:bob", payload={"role": "user", "text": "status?"})
        return RulePlanner().plan(observation)


def test_a_worker_that_loses_a_race_retries_on_fresh_state(make_orch: OrchFactory) -> None:
    planner = MeddlingPlanner()
    orch, store = make_orch(planner)
    other, _ = make_orch()
    planner.other = other
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", claim("The repair costs EUR 300. Thanks a lot!", "CLM-RACE-300"))
    outcome = orch.run(case.id)
    assert planner.meddled == 2
    assert outcome.reason == "completed"
    history = store.history(case.id)
    started = [e for e in history if e.kind == "tool_call_started"]
    completed = [e for e in history if e.kind == "tool_call_completed"]
    paying = ["validate_payment", "pay_claim", "send_payment_confirmation"]  # the payment process's calls
    assert [e.payload["tool"] for e in started] == ["extract_claim", "sentiment", *paying]
    applied = [e for e in completed if e.payload.get("applied") is not False]
    assert [e.payload["tool"] for e in applied] == ["extract_claim", "sentiment", *paying, "bpmn:payment"]
    late = [e for e in completed if e.payload.get("applied") is False]
    assert len(late) == 2 and all(e.payload["tool"] in ("extract_claim", "sentiment") for e in late)
    for event in late:  # each with the decision it was made on
        before = [e.kind for e in history if e.seq in (event.seq - 2, event.seq - 1)]
        assert before == ["plan", "verdict"]
    assert sum(1 for e in history if e.kind == "chat_message") == 2
    assert store.verify(case.id).ok
