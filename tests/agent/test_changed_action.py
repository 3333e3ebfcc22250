"""An approval holds only for the action that was asked about: when the case file changes
the arguments the pending tool call would get, the decision is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from casepilot.agent.orchestrator import Person
from casepilot.errors import DecisionRejected
from tests.agent._support import TaskSpec, calls_of, write_bundle
from tests.agent.conftest import OrchFactory


def test_decision_on_a_changed_action_is_refused(make_orch: OrchFactory, tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "one", "one-check", [TaskSpec("a", "Task A", "tool_a", {"ref": "ref"}, {})],
                          guardrails=[("tool_a", "require_human", "approver")])
    orch, store = make_orch()
    orch.deploy(folder)
    case = orch.start_case("one-check", {"ref": "R-1"})
    (task,) = orch.run(case.id).pending
    assert task.kind == "checkpoint" and task.action_digest

    # Someone changes the case file the pending call reads its argument from.
    with orch.runtime.step(case.id) as (_step, loaded):
        assert loaded.engine is not None
        loaded.engine.set_variables({"ref": "R-2"})

    with pytest.raises(DecisionRejected, match="changed since it was asked about"):
        orch.decide(task.id, Person("ann", {"approver"}), "approve")
    assert store.task(task.id).status == "open"
    assert calls_of("tool_a") == []

    # The next run withdraws the stale question and asks about the action as it is now.
    (fresh_task,) = orch.run(case.id).pending
    assert store.task(task.id).status == "cancelled"
    assert fresh_task.id != task.id and fresh_task.action_digest != task.action_digest
    orch.decide(fresh_task.id, Person("ann", {"approver"}), "approve")
    assert orch.run(case.id).reason == "completed"
    assert [c["ref"] for c in calls_of("tool_a")] == ["R-2"]
