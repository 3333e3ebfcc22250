"""Reassigning a BPMN process's inbox item: the new item stands for the same step of the process.

The runner knows its items by its own ids (a user task's token, a checkpoint's id); a
reassignment closes the item and opens another, so the runner state records the new item as
an alias of its step (``bpmn.runner.alias_item``). Whoever the new item is for decides it —
a user task with its form's values, a checkpoint with approve or reject — and the process runs
on; the old item's role no longer can. On SQLite and PostgreSQL, and across a reload.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.rule_planner import RulePlanner
from casepilot.errors import DecisionRejected
from casepilot.store import Store
from tests.agent._support import assert_sound, calls_of, events
from tests.bpmn._process_bundle import (
    CLERK,
    OPERATOR,
    SUPERVISOR,
    decide_with,
    process_registry,
    write_process_bundle,
)

pytestmark = pytest.mark.usefixtures("fresh_calls")

OLGA = Person("olga", {OPERATOR})


def _orch(url: str) -> Orchestrator:
    return Orchestrator(Store.from_url(url), process_registry(), RulePlanner())


def _close(orch: Orchestrator) -> None:
    orch.close()
    orch.store.close()


def test_a_reassigned_user_task_is_decided_by_the_new_role_and_the_process_runs_on(url: str, tmp_path: Path) -> None:
    orch = _orch(url)
    key = f"re-user-{tmp_path.name[-12:]}"
    orch.deploy(write_process_bundle(tmp_path / key, key))
    case = orch.start_case(key, {"payee": "Ann Lee", "amount": 250}, process="pay_small")
    [item] = orch.pending(case.id)
    moved = orch.reassign(item.id, OLGA, role=SUPERVISOR, reason="the clerks are on holiday")
    moved = orch.reassign(moved.id, OLGA, role=SUPERVISOR, person="sam", reason="Sam has it")  # and once more
    assert orch.store.task(item.id).status == "cancelled"
    assert [(t.id, t.role, t.plan_item, t.options) for t in orch.pending(case.id)] == [
        (moved.id, SUPERVISOR, "confirm", ("complete",))]
    _close(orch)

    orch = _orch(url)  # the alias is stored with the process
    try:
        with pytest.raises(DecisionRejected):  # the clerk's item it was is not the clerk's any more
            decide_with(orch, moved.id, Person("ann", {CLERK}), {"ok": True})
        with pytest.raises(DecisionRejected, match="assigned to sam"):
            decide_with(orch, moved.id, Person("sue", {SUPERVISOR}), {"ok": True})
        decide_with(orch, moved.id, Person("sam", {SUPERVISOR}), {"ok": True})
        assert calls_of("pay_out") == [{"payee": "Ann Lee", "amount": 250.0}]
        assert orch.run(case.id).case_state == "completed"
        steps = [e["element"] for e in events(orch.store, case.id, "transition") if e.get("engine") == "bpmn"]
        assert steps.count("confirm") == 1 and steps[-1] == "paid"
        assert orch.store.task(moved.id).status == "decided"
        assert orch.runtime.load(case.id).facts.processes == {}
        assert_sound(orch.store, case.id)
    finally:
        _close(orch)


def test_a_reassigned_checkpoint_is_approved_by_the_new_role(url: str, tmp_path: Path) -> None:
    orch = _orch(url)
    try:
        key = f"re-check-{tmp_path.name[-12:]}"
        orch.deploy(write_process_bundle(tmp_path / key, key, from_letter=True))
        case = orch.start_case(key, {"letter": "Dear insurer, Pay to: Mallory Fox. Thanks", "amount": 90})
        orch.run(case.id)
        [item] = orch.pending(case.id)
        decide_with(orch, item.id, Person("ann", {CLERK}), {"ok": True})
        [checkpoint] = orch.pending(case.id)  # the payee came from a letter: the supervisor first
        assert (checkpoint.kind, checkpoint.role) == ("checkpoint", SUPERVISOR)
        moved = orch.reassign(checkpoint.id, OLGA, role=OPERATOR, reason="the supervisor is away")
        assert (moved.kind, moved.role, moved.options) == ("checkpoint", OPERATOR, ("approve", "reject"))
        with pytest.raises(DecisionRejected):
            orch.decide(moved.id, Person("sam", {SUPERVISOR}), "approve")
        orch.decide(moved.id, OLGA, "approve", "checked the payee by phone")
        assert calls_of("pay_out") == [{"payee": "Mallory Fox", "amount": 90.0}]
        assert orch.run(case.id).case_state == "completed"
        assert_sound(orch.store, case.id)
    finally:
        _close(orch)
