"""A worker killed (SIGKILL) inside a BPMN service task of a case's process task.

The clerk's decision on the process's user task is what lets ``pay_out`` (non-idempotent) run,
so the worker process makes that decision and is killed while ``pay_out`` waits inside the
call. The stored state records the call as started and never finished: the next run of the
case resumes the process by the crash rule of case tasks — ``pay_out`` is not run again on its
own, it becomes a checkpoint for the bundle's operator role; approved, it runs once more and
the process and the case complete. The history verifies throughout.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.rule_planner import RulePlanner
from casepilot.store import Store
from tests.agent._support import assert_sound, calls_of, events
from tests.bpmn._process_bundle import (
    OPERATOR,
    kill_the_clerk_inside_pay_out,
    process_registry,
    write_process_bundle,
)


def _orch(url: str) -> tuple[Orchestrator, Store]:
    store = Store.from_url(url)
    return Orchestrator(store, process_registry(), RulePlanner()), store


def test_a_worker_killed_inside_a_non_idempotent_service_task_hands_it_to_the_operator(
        tmp_path: Path, url: str, spawned: list[subprocess.Popen[bytes]]) -> None:
    orch, store = _orch(url)
    orch.deploy(write_process_bundle(tmp_path / "bundle", "pay-crash"))
    case = orch.start_case("pay-crash", {"payee": "Ann Lee", "amount": 40})
    assert orch.run(case.id).reason == "waiting_for_people"
    [item] = orch.pending(case.id)
    orch.close()
    store.close()

    gate = tmp_path / "gate"
    kill_the_clerk_inside_pay_out(url, item.id, gate, spawned)

    orch, store = _orch(url)
    try:
        started = [e for e in events(store, case.id, "tool_call_started") if e.get("engine") == "bpmn"]
        assert [(e["element"], e["tool"]) for e in started] == [("pay", "pay_out")]
        assert [e for e in events(store, case.id, "tool_call_completed") if e.get("engine") == "bpmn"] == []
        assert_sound(store, case.id)

        outcome = orch.run(case.id)

        assert calls_of("pay_out") == []  # not run again on its own
        assert (gate / "entered.pay_out").read_text().count("\n") == 1
        assert outcome.reason == "waiting_for_people"
        [checkpoint] = orch.pending(case.id)
        assert (checkpoint.kind, checkpoint.role) == ("checkpoint", OPERATOR)
        assert checkpoint.id.endswith(":recovery") and "pay_out" in checkpoint.prompt
        problems = [e["problem"] for e in events(store, case.id, "error") if e.get("engine") == "bpmn"]
        assert any("handed to a person" in p for p in problems)
        assert_sound(store, case.id)

        orch.decide(checkpoint.id, Person("olga", {OPERATOR}), "approve", "the bank has no such transfer")
        assert len(calls_of("pay_out")) == 1
        assert orch.run(case.id).case_state == "completed"
        loaded = orch.runtime.load(case.id)
        assert loaded.facts.processes == {} and loaded.engine is not None
        assert "receipt" in loaded.engine.variables()
        assert_sound(store, case.id)
    finally:
        orch.close()
        store.close()
