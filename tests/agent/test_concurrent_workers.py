"""Two workers on one case: the loser of a race re-runs its node on a fresh read instead of
failing or applying a step twice."""

from __future__ import annotations

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.planning import Observation, Plan
from casepilot.agent.rule_planner import RulePlanner
from tests.agent._support import CLAIMS
from tests.agent.conftest import OrchFactory


class MeddlingPlanner:
    """Plans like the RulePlanner, but first lets another worker write to the case."""

    name = "rule"

    def __init__(self) -> None:
        self.other: Orchestrator | None = None
        self.meddled = 0

    def plan(self, observation: Observation) -> Plan:
        if self.other is not None and self.meddled < 2:
            self.meddled += 1
            self.other.chat(observation.case_id, "person:bob", "what is the status?")
        return RulePlanner().plan(observation)


def test_a_worker_that_loses_a_race_retries_on_fresh_state(make_orch: OrchFactory) -> None:
    planner = MeddlingPlanner()
    orch, store = make_orch(planner)
    other, _ = make_orch()
    planner.other = other
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", {"letter": "The repair costs EUR 300. Thanks a lot!", "policy": "P"})
    outcome = orch.run(case.id)
    assert planner.meddled == 2
    assert outcome.reason == "completed"
    history = store.history(case.id)
    started = [e for e in history if e.kind == "tool_call_started"]
    completed = [e for e in history if e.kind == "tool_call_completed"]
    assert [e.payload["tool"] for e in started] == ["extract_claim", "sentiment", "approve_payment"]
    assert len(completed) == len(started)
    assert sum(1 for e in history if e.kind == "chat_message") == 4
    assert store.verify(case.id).ok
