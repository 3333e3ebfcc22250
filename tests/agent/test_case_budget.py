"""A budget set for one case when it starts applies on top of its definition's budget."""

from __future__ import annotations

from pathlib import Path

from casepilot.governance.budget import BudgetLimits
from tests.agent._support import TaskSpec, calls_of, events, write_bundle
from tests.agent.conftest import OrchFactory


def test_start_case_budget_blocks_when_exceeded(make_orch: OrchFactory, tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", "budgeted", [TaskSpec("a", "Task A", "tool_a", {"ref": "ref"}, {})])
    orch, store = make_orch()
    orch.deploy(folder)
    free = orch.start_case("budgeted", {"ref": "R-1"})
    assert orch.run(free.id).reason == "completed"
    # No money may be spent on this case: a wall-time budget of zero seconds is already used up.
    capped = orch.start_case("budgeted", {"ref": "R-2"}, budget=BudgetLimits(max_wall_seconds=0.0))
    outcome = orch.run(capped.id)
    assert outcome.reason == "waiting_for_events"
    verdicts = events(store, capped.id, "verdict")
    assert verdicts and verdicts[-1]["kind"] == "block"
    assert "case budget exceeded" in verdicts[-1]["reason"]
    assert [c["ref"] for c in calls_of("tool_a")] == ["R-1"]
