"""An approval covers exactly the action that was shown, answers exactly the question that was
asked, and is used once.

* The action is rebuilt from the case as it is when it runs: changed since the approval,
  it is not executed (and is asked about afresh).
* Every other policy is checked again when it runs: a budget exhausted since the approval
  blocks it; a new objection opens a new checkpoint, whose approval carries the earlier one.
* The approval is consumed with the call's start: running the govern step again, or a
  crash between govern and act, never executes it a second time.
"""

from __future__ import annotations

from pathlib import Path

from casepilot.agent.nodes import LoopState, Nodes
from casepilot.agent.orchestrator import Person
from casepilot.governance.budget import BudgetLimits
from tests.agent._support import TaskSpec, assert_sound, calls_of, events, write_bundle
from tests.agent.conftest import OrchFactory

A_AND_B = (
    TaskSpec("a", "Task A", "tool_a", {"ref": "ref"}, {"a_done": "done"}),
    TaskSpec("b", "Task B", "tool_b", {"ref": "ref"}, {"b_done": "done"}),
)
APPROVER = Person("al", {"approver a"})


def _deploy(make_orch: OrchFactory, tmp_path: Path, tasks: tuple[TaskSpec, ...] = A_AND_B) -> tuple:  # type: ignore[type-arg]
    folder = write_bundle(tmp_path / "approvals", "approvals", tasks,
                          guardrails=[("tool_a", "require_human", "approver a")],
                          extra_governance={"roles": ["approver a", "team lead"]})
    orch, store = make_orch()
    orch.deploy(folder)
    return orch, store


def test_an_action_changed_after_its_approval_is_not_executed(make_orch: OrchFactory, tmp_path: Path) -> None:
    orch, store = _deploy(make_orch, tmp_path, A_AND_B[:1])
    case = orch.start_case("approvals", {"ref": "R-1"})
    [task] = orch.run(case.id).pending
    orch.decide(task.id, APPROVER, "approve")
    # After the approval, the case file the call reads its argument from changes.
    with orch.runtime.step(case.id) as (_step, loaded):
        assert loaded.engine is not None
        loaded.engine.set_variables({"ref": "R-2"})

    outcome = orch.run(case.id)

    assert calls_of("tool_a") == []
    problem = events(store, case.id, "error")[-1]
    assert problem["problem"] == "the approved action changed since it was approved; it is not executed"
    assert problem["task_id"] == task.id
    # the action as it is now is asked about afresh
    [again] = outcome.pending
    assert again.id != task.id and again.action_digest != task.action_digest
    orch.decide(again.id, APPROVER, "approve")
    assert orch.run(case.id).reason == "completed"
    assert calls_of("tool_a") == [{"ref": "R-2"}]
    assert_sound(store, case.id)


def test_a_budget_exhausted_since_the_approval_blocks_the_approved_action(make_orch: OrchFactory,
                                                                         tmp_path: Path) -> None:
    orch, store = _deploy(make_orch, tmp_path)
    # Next to no wall time: once Task B has run, every action is over budget.
    case = orch.start_case("approvals", {"ref": "R-3"}, budget=BudgetLimits(max_wall_seconds=1e-9))
    [task] = orch.run(case.id).pending
    assert calls_of("tool_b") == [{"ref": "R-3"}]
    orch.decide(task.id, APPROVER, "approve")

    outcome = orch.run(case.id)

    assert calls_of("tool_a") == []
    verdict = events(store, case.id, "verdict")[-1]
    assert verdict["kind"] == "block" and verdict["task_id"] == task.id
    assert verdict["reason"].startswith("approved by person:al, but: case budget exceeded")
    assert outcome.pending == ()
    assert all(e["tool"] != "tool_a" for e in events(store, case.id, "tool_call_started"))
    assert_sound(store, case.id)


def test_a_new_objection_opens_a_new_checkpoint_and_the_first_answer_still_holds(make_orch: OrchFactory,
                                                                                 tmp_path: Path) -> None:
    orch, store = _deploy(make_orch, tmp_path)
    limits = BudgetLimits(max_wall_seconds=1e-9, on_exceed="require_human", role="team lead")
    case = orch.start_case("approvals", {"ref": "R-4"}, budget=limits)
    [first] = orch.run(case.id).pending
    orch.decide(first.id, APPROVER, "approve")

    [second] = orch.run(case.id).pending

    assert calls_of("tool_a") == []
    assert second.role == "team lead" and second.action_digest == first.action_digest
    orch.decide(second.id, Person("tess", {"team lead"}), "approve")
    done = orch.run(case.id)
    assert calls_of("tool_a") == [{"ref": "R-4"}]
    assert done.pending == ()  # the approver's answer was not asked for again
    ran = events(store, case.id, "verdict")[-1]
    assert (ran["kind"], ran["reason"], ran["task_id"]) == ("allow", "approved by person:tess", second.id)
    assert [a["policy"] for a in ran["answered"]] == ["guardrails", "budget"]
    assert_sound(store, case.id)


def test_an_approval_is_consumed_once_even_when_govern_runs_again_or_the_worker_stops(
    make_orch: OrchFactory, tmp_path: Path
) -> None:
    orch, store = _deploy(make_orch, tmp_path, A_AND_B[:1])
    case = orch.start_case("approvals", {"ref": "R-5"})
    [task] = orch.run(case.id).pending
    orch.decide(task.id, APPROVER, "approve")
    nodes = Nodes(orch.runtime)
    state: LoopState = {"case_id": case.id, "max_steps": 5, "steps": 0, "blocked": [], "stop": None}
    state.update(nodes.observe(state))
    assert state["approved"] is not None and state["approved"]["task_id"] == task.id

    first = nodes.govern(dict(state))  # type: ignore[arg-type]
    again = nodes.govern(dict(state))  # type: ignore[arg-type]  # e.g. LangGraph re-running the node

    assert first["call_id"] is not None
    assert again.get("call_id") is None and again["verdict"] is None
    assert len(events(store, case.id, "tool_call_started")) == 1
    # The worker stops between govern and act: a new run must not execute the approval again.
    outcome = orch.run(case.id)
    assert calls_of("tool_a") == []
    [fresh] = outcome.pending
    assert fresh.id != task.id and fresh.kind == "checkpoint"  # asked afresh
    assert store.task(task.id).status == "decided"
    assert_sound(store, case.id)
