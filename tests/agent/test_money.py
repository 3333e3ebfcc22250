"""Money is Decimal end to end: what a model call cost is recorded exactly, summed exactly over
every case of a definition, and compared exactly with the definition's total budget.

Two calls costing 0.7 and 0.1 spend exactly 0.8 — the total budget — so a third call is
blocked. Summed as floats they make 0.7999999999999999, and the third call slipped through.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from casepilot.agent.planning import LLMUsage, Observation, Plan
from tests.agent._support import TaskSpec, assert_sound, calls_of, events, write_bundle
from tests.agent.conftest import OrchFactory


class PricedPlanner:
    """A stand-in for a model planner whose calls cost what ``costs`` says, in that order."""

    name = "priced"
    model = "priced-model"

    def __init__(self, *costs: str) -> None:
        self.costs = list(costs)

    def plan(self, observation: Observation) -> Plan:
        usage = (LLMUsage(self.model, prompt_tokens=100, completion_tokens=10, latency_ms=1.0,
                          cost=self.costs.pop(0)),)
        option = next((o for o in observation.options if o.kind == "run_task"), None)
        if option is None:
            return Plan("wait", planner=self.name, usage=usage)
        return Plan(option.id, arguments=dict(option.default_arguments), planner=self.name, usage=usage)


THREE = (
    TaskSpec("a", "Task A", "tool_a", {"ref": "ref"}, {"a_done": "done"}),
    TaskSpec("b", "Task B", "tool_b", {"ref": "ref"}, {"b_done": "done"}, after="a"),
    TaskSpec("c", "Task C", "tool_c", {"ref": "ref"}, {"c_done": "done"}, after="b"),
)


def test_a_total_budget_spent_to_the_cent_stops_the_next_model_call(make_orch: OrchFactory, tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "priced", "priced", THREE,
                          extra_governance={"total_budget": {"max_cost": "0.8", "on_exceed": "block"}})
    orch, store = make_orch(PricedPlanner("0.7", "0.1", "0.05"))
    orch.deploy(folder)
    case = orch.start_case("priced", {"ref": "R-1"})

    outcome = orch.run(case.id)

    assert outcome.reason == "blocked_llm_call"
    assert [len(calls_of(t)) for t in ("tool_a", "tool_b", "tool_c")] == [1, 1, 0]
    assert store.llm_spend("priced")[1] == Decimal("0.8")
    assert [e["cost"] for e in events(store, case.id, "llm_call")] == ["0.7", "0.1"]
    blocked = events(store, case.id, "verdict")[-1]
    assert blocked["kind"] == "block" and "total budget" in blocked["reason"]
    assert store.case(case.id).state["agent"]["usage"]["cost"] == "0.8"
    assert_sound(store, case.id)
