"""A bundle's BPMN process started on its own (``Orchestrator.start_case(key, …, process=…)``).

The process (``tests/bpmn/_process_bundle.py``): a DMN business-rule task, a user task for the
payments clerk, the non-idempotent service task ``pay_out``. Started on its own, it is a case
of its own: it runs to the clerk at once, the clerk's decision (with the form's values) lets
it pay, and the case completes with the process's variables in its case file — every BPMN
step in the case's hash-chained history, on SQLite and PostgreSQL. A worker killed inside
``pay_out`` leaves a call the next run hands to the operator role (the case-task rule).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from casepilot.agent._process_cases import process_views
from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.rule_planner import RulePlanner
from casepilot.errors import DecisionRejected, NotFound
from casepilot.store import Store
from tests.agent._support import assert_sound, calls_of, events
from tests.bpmn._process_bundle import (
    CLERK,
    OPERATOR,
    decide_with,
    kill_the_clerk_inside_pay_out,
    process_orchestrator,
    process_registry,
    write_process_bundle,
)

pytestmark = pytest.mark.usefixtures("fresh_calls")

CLERK_ANN = Person("ann", {CLERK})


@pytest.fixture
def orch(url: str) -> Iterator[Orchestrator]:
    with process_orchestrator(url) as orchestrator:
        yield orchestrator


def _deploy(orch: Orchestrator, tmp_path: Path, name: str) -> str:
    key = f"{name}-{tmp_path.name[-12:]}"
    orch.deploy(write_process_bundle(tmp_path / key, key))
    return key


def test_a_process_started_on_its_own_runs_to_the_clerk_and_completes_as_a_case(
        orch: Orchestrator, tmp_path: Path) -> None:
    key = _deploy(orch, tmp_path, "alone")
    case = orch.start_case(key, {"payee": "Ann Lee", "amount": 250}, "CLAIM-7", actor="person:ann", process="pay_small")

    assert (case.definition_key, case.business_key) == (key, "CLAIM-7")
    [item] = orch.pending(case.id)  # the process ran to its user task when it started
    assert (item.kind, item.role, item.plan_item) == ("human_task", CLERK, "confirm")
    loaded = orch.runtime.load(case.id)
    assert loaded.facts.process == "pay_small"
    [view] = process_views(loaded)
    assert (view.process_id, view.status, view.active) == ("pay_small", "waiting", ("confirm",))
    assert set(view.completed) == {"start", "level"}
    assert view.variables["approval"] == "auto" and "Ann" not in str(view.variables)  # pseudonymised
    assert [e["element"] for e in events(orch.store, case.id, "transition") if e.get("engine") == "bpmn"] == [
        "start", "level"]
    assert calls_of("pay_out") == []
    outcome = orch.run(case.id)  # nothing to do but wait for the clerk
    assert (outcome.reason, outcome.case_state) == ("waiting_for_people", "active")
    assert_sound(orch.store, case.id)

    with pytest.raises(DecisionRejected):  # the clerk's role is needed
        decide_with(orch, item.id, Person("sam", {"payments supervisor"}), {"ok": True})
    decide_with(orch, item.id, CLERK_ANN, {"ok": True})

    assert calls_of("pay_out") == [{"payee": "Ann Lee", "amount": 250.0}]
    assert orch.run(case.id).case_state == "completed"
    loaded = orch.runtime.load(case.id)
    assert loaded.engine is not None and loaded.engine.state == "completed"
    variables = loaded.engine.variables()  # every variable the process ended with, pseudonymised
    assert {"payee", "amount", "approval", "ok", "receipt"} <= set(variables) and "Ann" not in str(variables)
    [ended] = process_views(loaded)
    assert ended.status == "completed" and ended.active == () and {"pay", "paid"} <= set(ended.completed)
    [verdict] = [e for e in events(orch.store, case.id, "verdict") if e.get("engine") == "bpmn"]
    assert (verdict["element"], verdict["verdict"]["kind"]) == ("pay", "allow")
    assert orch.pending(case.id) == []
    assert_sound(orch.store, case.id)


def test_a_refusing_clerk_ends_the_process_without_paying(orch: Orchestrator, tmp_path: Path) -> None:
    key = _deploy(orch, tmp_path, "refuse")
    case = orch.start_case(key, {"payee": "Ann Lee", "amount": 5000}, process="pay_small")
    [item] = orch.pending(case.id)
    decide_with(orch, item.id, CLERK_ANN, {"ok": False})
    assert calls_of("pay_out") == []
    loaded = orch.runtime.load(case.id)
    assert loaded.engine is not None and loaded.engine.state == "completed"
    assert loaded.engine.variables()["approval"] == "manager" and "receipt" not in loaded.engine.variables()
    assert "refused" in process_views(loaded)[0].completed
    assert_sound(orch.store, case.id)


def test_an_unknown_process_is_refused_naming_the_ones_there_are(orch: Orchestrator, tmp_path: Path) -> None:
    key = _deploy(orch, tmp_path, "unknown")
    before = len(orch.store.cases(definition_key=key))
    with pytest.raises(NotFound, match=r"no BPMN process 'pay_big'; its processes: pay_small"):
        orch.start_case(key, {"amount": 1}, process="pay_big")
    assert len(orch.store.cases(definition_key=key)) == before  # no case was created


def test_a_bundle_without_processes_says_where_to_declare_them(orch: Orchestrator, tmp_path: Path) -> None:
    from tests.agent._support import TaskSpec, write_bundle

    key = f"plain-{tmp_path.name[-12:]}"
    orch.deploy(write_bundle(tmp_path / "plain", key, [TaskSpec("fetch", "Fetch", "fetch_document", {"ref": "ref"}, {})]))
    with pytest.raises(NotFound, match=r"has no BPMN processes to start .*`processes:`"):
        orch.start_case(key, {}, process="pay_small")


def test_the_bundles_guardrails_govern_the_process_calls(orch: Orchestrator, tmp_path: Path) -> None:
    key = f"guarded-{tmp_path.name[-12:]}"
    folder = write_process_bundle(tmp_path / key, key)
    manifest = yaml.safe_load((folder / "casepilot.yaml").read_text(encoding="utf-8"))
    manifest["governance"]["allowlist"] = {"tools": ["read_letter"]}  # no payments from this bundle
    (folder / "casepilot.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    orch.deploy(folder)
    case = orch.start_case(key, {"payee": "Ann Lee", "amount": 40}, process="pay_small")
    [item] = orch.pending(case.id)
    decide_with(orch, item.id, CLERK_ANN, {"ok": True})
    assert calls_of("pay_out") == []
    [verdict] = [e for e in events(orch.store, case.id, "verdict") if e.get("engine") == "bpmn"]
    assert (verdict["element"], verdict["verdict"]["kind"]) == ("pay", "block")
    loaded = orch.runtime.load(case.id)
    [view] = process_views(loaded)
    assert view.status == "failed"
    assert loaded.engine is not None and loaded.engine.state == "failed"  # the case fails with its process
    assert [v.state for v in loaded.engine.items() if v.kind == "processTask"] == ["failed"]
    assert_sound(orch.store, case.id)


def test_a_worker_killed_inside_the_payment_hands_it_to_the_operator(
        tmp_path: Path, url: str, spawned: list[subprocess.Popen[bytes]]) -> None:
    store = Store.from_url(url)
    orch = Orchestrator(store, process_registry(), RulePlanner())
    key = _deploy(orch, tmp_path, "crash")
    case = orch.start_case(key, {"payee": "Ann Lee", "amount": 40}, process="pay_small")
    [item] = orch.pending(case.id)
    orch.close()
    store.close()

    kill_the_clerk_inside_pay_out(url, item.id, tmp_path / "gate", spawned)

    store = Store.from_url(url)
    orch = Orchestrator(store, process_registry(), RulePlanner())
    try:
        assert_sound(store, case.id)
        outcome = orch.run(case.id)
        assert calls_of("pay_out") == []  # not run again on its own
        assert outcome.reason == "waiting_for_people"
        [checkpoint] = orch.pending(case.id)
        assert (checkpoint.kind, checkpoint.role) == ("checkpoint", OPERATOR) and "pay_out" in checkpoint.prompt
        orch.decide(checkpoint.id, Person("olga", {OPERATOR}), "approve", "the bank has no such transfer")
        assert len(calls_of("pay_out")) == 1
        assert orch.run(case.id).case_state == "completed"
        assert_sound(store, case.id)
    finally:
        orch.close()
        store.close()


def test_a_process_case_created_but_never_started_is_started_by_its_next_run(
        orch: Orchestrator, tmp_path: Path) -> None:
    key = _deploy(orch, tmp_path, "unstarted")
    # What a worker that died between creating the case and starting its process leaves behind.
    case_id = orch.runtime.create_case(key, {"payee": "Ann Lee", "amount": 30}, process="pay_small")
    assert orch.pending(case_id) == [] and orch.runtime.load(case_id).facts.processes == {}
    assert orch.run(case_id).reason == "waiting_for_people"
    [item] = orch.pending(case_id)
    assert (item.role, item.plan_item) == (CLERK, "confirm")
    [started] = [e for e in events(orch.store, case_id, "verdict") if e.get("engine") != "bpmn"]
    assert (started["action"], started["kind"]) == ("process:case.1", "allow")  # the agent started it, governed
    assert_sound(orch.store, case_id)


def test_a_retried_process_task_starts_its_process_anew(orch: Orchestrator, tmp_path: Path) -> None:
    key = f"retry-{tmp_path.name[-12:]}"
    orch.deploy(write_process_bundle(tmp_path / key, key, from_letter=True, paid_milestone=True))
    case = orch.start_case(key, {"letter": "Pay to: Mallory Fox.", "amount": 90})
    orch.run(case.id)
    [item] = orch.pending(case.id)
    decide_with(orch, item.id, CLERK_ANN, {"ok": True})
    [checkpoint] = orch.pending(case.id)  # the payee came from the letter
    orch.decide(checkpoint.id, Person("sam", {"payments supervisor"}), "reject")
    loaded = orch.runtime.load(case.id)
    assert loaded.engine is not None and loaded.engine.state == "active"  # the milestone still waits
    assert [v.state for v in loaded.engine.items() if v.name == "Pay"] == ["failed"]
    assert [v.status for v in process_views(loaded)] == ["failed"]

    orch.retry(case.id, "Pay", Person("olga", {OPERATOR}), "the supervisor checked the payee")
    assert orch.run(case.id).reason == "waiting_for_people"
    [again] = orch.pending(case.id)  # the process started again: the clerk confirms again
    assert (again.role, again.plan_item) == (CLERK, "confirm") and again.id != item.id
    [view] = process_views(orch.runtime.load(case.id))
    assert (view.status, view.active) == ("waiting", ("confirm",))
    assert calls_of("pay_out") == []
    assert_sound(orch.store, case.id)
