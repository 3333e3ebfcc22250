"""Governance on small generated bundles: several human checkpoints in one case decided in
any order, and a tool outside the allowlist that is never called."""

from __future__ import annotations

from pathlib import Path

import pytest

from casepilot.agent.orchestrator import Person
from casepilot.errors import DecisionRejected
from tests.agent._support import TaskSpec, assert_sound, calls_of, events, write_bundle
from tests.agent.conftest import OrchFactory

PARALLEL = (
    TaskSpec("a", "Task A", "tool_a", {"ref": "ref"}, {"a_done": "done"}),
    TaskSpec("b", "Task B", "tool_b", {"ref": "ref"}, {"b_done": "done"}),
    TaskSpec("c", "Task C", "tool_c", {"ref": "ref"}, {"c_done": "done"}),
)
ROLES = {"tool_a": "approver a", "tool_b": "approver b", "tool_c": "approver c"}


def test_three_checkpoints_decided_in_reverse_order_each_run_once(make_orch: OrchFactory, tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "parallel", "parallel-checks", PARALLEL,
                          guardrails=[(t, "require_human", r) for t, r in ROLES.items()])
    orch, store = make_orch()
    orch.deploy(folder)
    case = orch.start_case("parallel-checks", {"ref": "R-1"})

    outcome = orch.run(case.id)

    assert outcome.reason == "waiting_for_people"
    assert calls_of("tool_a") == calls_of("tool_b") == calls_of("tool_c") == []
    by_role = {t.role: t for t in outcome.pending}
    assert set(by_role) == set(ROLES.values())
    assert all(t.kind == "checkpoint" and t.action_digest for t in outcome.pending)
    verdicts = events(store, case.id, "verdict")
    assert [v["kind"] for v in verdicts] == ["require_human"] * 3
    assert all(v["rule_ids"] for v in verdicts)
    assert events(store, case.id, "tool_call_started") == []

    # a person with another checkpoint's role cannot decide this one
    with pytest.raises(DecisionRejected, match="approver c"):
        orch.decide(by_role["approver c"].id, Person("amy", {"approver a"}), "approve")
    for role in ("approver c", "approver b", "approver a"):
        orch.decide(by_role[role].id, Person(f"p-{role[-1]}", {role}), "approve", f"ok from {role}")
        # deciding alone runs nothing: the next run does
        assert calls_total() == 0

    resumed = orch.run(case.id)

    assert resumed.reason == "completed"
    assert resumed.case_state == "completed"
    assert [len(calls_of(t)) for t in ("tool_a", "tool_b", "tool_c")] == [1, 1, 1]
    completed = [e["tool"] for e in events(store, case.id, "tool_call_completed")]
    assert sorted(completed) == ["tool_a", "tool_b", "tool_c"]
    approvals = [v for v in events(store, case.id, "verdict") if v["kind"] == "allow"]
    assert len(approvals) == 3
    assert all(v["reason"].startswith("approved by person:") for v in approvals)
    assert orch.pending(case.id) == []
    assert_sound(store, case.id)


def calls_total() -> int:
    return sum(len(calls_of(t)) for t in ("tool_a", "tool_b", "tool_c"))


def test_rejected_checkpoint_is_not_executed_and_not_offered_again(make_orch: OrchFactory, tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "one", "one-check", PARALLEL[:2],
                          guardrails=[("tool_a", "require_human", "approver a")])
    orch, store = make_orch()
    orch.deploy(folder)
    case = orch.start_case("one-check", {"ref": "R-2"})

    first = orch.run(case.id)

    assert first.reason == "waiting_for_people"
    assert calls_of("tool_b") == [{"ref": "R-2"}]
    [task] = first.pending
    orch.decide(task.id, Person("al", {"approver a"}), "reject", "not this one")
    second = orch.run(case.id)

    assert calls_of("tool_a") == []
    assert second.reason in ("waiting_for_events", "waiting_for_people")
    assert second.case_state == "active"
    assert orch.pending(case.id) == []
    assert [v["kind"] for v in events(store, case.id, "verdict")].count("require_human") == 1
    assert_sound(store, case.id)


def test_tool_outside_the_allowlist_is_blocked_and_never_called(make_orch: OrchFactory, tmp_path: Path) -> None:
    tasks = (
        TaskSpec("pay", "Pay out", "wire_transfer", {"iban": "ref"}, {"paid": "done"}),
        TaskSpec("archive", "Archive", "archive", {"ref": "ref"}, {"archived": "done"}),
    )
    folder = write_bundle(tmp_path / "blocked", "blocked-tool", tasks, allowlist=["archive"])
    orch, store = make_orch()
    orch.deploy(folder)
    case = orch.start_case("blocked-tool", {"ref": "R-3"})

    outcome = orch.run(case.id)

    assert calls_of("wire_transfer") == []
    assert calls_of("archive") == [{"ref": "R-3"}]
    verdicts = events(store, case.id, "verdict")
    blocked = [v for v in verdicts if v["kind"] == "block"]
    assert len(blocked) == 1
    assert "wire_transfer" in blocked[0]["reason"]
    assert "allowlist" in blocked[0]["policies"]
    plans = events(store, case.id, "plan")
    assert plans[0]["label"] == "Pay out"  # the planner proposed it; governance said no
    assert all(e["tool"] != "wire_transfer" for e in events(store, case.id, "tool_call_started"))
    # the blocked task stays active: the case cannot complete without a person
    assert outcome.case_state == "active"
    assert outcome.reason == "waiting_for_events"
    # a later run (a new run has no memory of the block) blocks it again, still without calling it
    orch.run(case.id)
    assert calls_of("wire_transfer") == []
    assert len([v for v in events(store, case.id, "verdict") if v["kind"] == "block"]) == 2
    assert_sound(store, case.id)
