"""A process's decision taken where the workers work the cases (PostgreSQL): recorded, never run on.

Two orchestrators share one database, as ``casepilot serve`` with workers and ``casepilot worker``
do: the *service*'s steps queue a run with every change (``JobScheduler(run_on_change=True)``),
the *worker*'s stage only timers and retries (``worker_for``), and the worker works a case as its
job does (``run``). Whatever a person decides in the service — the clerk's user task, a
checkpoint approved or rejected — the service records the decision (the item closed, the history
event, the process's state marked ``run_on``) and queues the case's run in the same transaction;
no call of the process is governed or made there. The worker's run carries the decision out,
once; a decision that leads straight to another wait (a timer) leaves nothing for the worker to
write, and the mark is cleared all the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.rule_planner import RulePlanner
from casepilot.store import Store
from casepilot.worker import JobScheduler, jobs
from casepilot.worker.schema import ensure_queue
from tests.agent._support import assert_sound, calls_of, events
from tests.bpmn._process_bundle import CLERK, SUPERVISOR, decide_with, process_registry, write_process_bundle

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("fresh_calls")]

CLERK_ANN = Person("ann", {CLERK})
SUPERVISOR_SAM = Person("sam", {SUPERVISOR})
Pair = tuple[Orchestrator, Orchestrator, Store]
_STATE = ("state", "state_delta")
"""The store's own records of the case state a step wrote."""


@pytest.fixture
def now() -> list[dt.datetime]:
    return [dt.datetime.now(dt.UTC)]


@pytest.fixture
def pair(fresh_pg_url: str, now: list[dt.datetime]) -> Iterator[Pair]:
    """(service, worker, store) on one database, sharing one clock the test moves."""
    clock: Callable[[], dt.datetime] = lambda: now[0]  # noqa: E731
    with Store.from_url(fresh_pg_url) as store:
        assert store.postgres_conninfo is not None
        ensure_queue(store.postgres_conninfo)
        service = Orchestrator(store, process_registry(), RulePlanner(), clock=clock)
        service.runtime.on_step = JobScheduler(run_on_change=True, clock=clock)
        worker = Orchestrator(store, process_registry(), RulePlanner(), clock=clock)
        worker.runtime.on_step = JobScheduler(run_on_change=False, clock=clock)
        try:
            yield service, worker, store
        finally:
            service.close()
            worker.close()


def _case(pair: Pair, tmp_path: Path, *, from_letter: bool = False, timer: bool = False) -> str:
    service, worker, _store = pair
    service.deploy(write_process_bundle(tmp_path / "pay", "pay", from_letter=from_letter, timer=timer))
    variables = (
        {"letter": "Dear insurer, Pay to: Mallory Fox. Thanks", "amount": 90}
        if from_letter
        else {"payee": "Ann Lee", "amount": 90}
    )
    case_id = service.start_case("pay", variables).id
    assert worker.run(case_id).reason == "waiting_for_people"  # the job the start queued
    return case_id


def _recorded_not_run(store: Store, service: Orchestrator, case_id: str, item_id: str, by: str) -> None:
    """The decision is in the history and the store, its process marked to run on, a run queued — and
    nothing of the process happened after it."""
    history = store.history(case_id)
    [decided] = [e for e in history if e.kind == "human_task_decided" and e.payload["task_id"] == item_id]
    assert decided.actor == f"person:{by}" and store.task(item_id).status == "decided"
    after = {e.kind for e in history if e.seq > decided.seq}
    assert after <= {"transition", "human_task_created", *_STATE}, after  # no verdict, no call, no error
    [entry] = service.runtime.load(case_id).facts.processes.values()
    assert entry["run_on"] is True
    with (
        store.engine.connect() as conn
    ):  # the run the decision's own step queued (keyed by the version it wrote)
        queued = (
            conn.execute(
                text("SELECT entrypoint FROM pgqueuer WHERE dedupe_key = :key"),
                {"key": f"run:{case_id}:v{store.case_version(case_id)}"},
            )
            .scalars()
            .all()
        )
    assert queued == [jobs.RUN_CASE]
    assert calls_of("pay_out") == []


def test_the_clerks_decision_is_recorded_in_the_service_and_the_worker_pays_once(
    pair: Pair, tmp_path: Path
) -> None:
    service, worker, store = pair
    case_id = _case(pair, tmp_path)
    [item] = service.pending(case_id)
    decide_with(service, item.id, CLERK_ANN, {"ok": True})
    _recorded_not_run(store, service, case_id, item.id, "ann")

    assert worker.run(case_id).case_state == "completed"
    assert calls_of("pay_out") == [{"payee": "Ann Lee", "amount": 90.0}]
    assert worker.runtime.load(case_id).facts.processes == {}
    assert worker.run(case_id).case_state == "completed" and len(calls_of("pay_out")) == 1
    assert_sound(store, case_id)


def test_a_decision_that_leads_to_a_timer_leaves_the_worker_nothing_to_write_and_the_mark_is_cleared(
    pair: Pair, tmp_path: Path, now: list[dt.datetime]
) -> None:
    service, worker, store = pair
    case_id = _case(pair, tmp_path, timer=True)
    [item] = service.pending(case_id)
    decide_with(service, item.id, CLERK_ANN, {"ok": True})
    _recorded_not_run(store, service, case_id, item.id, "ann")
    seq = store.case(case_id).last_seq

    assert worker.run(case_id).reason == "waiting_for_events"
    [entry] = worker.runtime.load(case_id).facts.processes.values()
    assert "run_on" not in entry and entry["next_timer"] is not None
    assert {e.kind for e in store.history(case_id) if e.seq > seq} <= set(
        _STATE
    )  # the mark cleared, nothing else
    seq = store.case(case_id).last_seq
    assert worker.run(case_id).reason == "waiting_for_events"
    assert {e.kind for e in store.history(case_id) if e.seq > seq} <= set(_STATE)  # not resumed again
    assert calls_of("pay_out") == []

    now[0] += dt.timedelta(hours=1, minutes=1)
    assert worker.run(case_id).case_state == "completed"
    assert calls_of("pay_out") == [{"payee": "Ann Lee", "amount": 90.0}]
    assert_sound(store, case_id)


@pytest.mark.parametrize("choice", ["approve", "reject"])
def test_a_checkpoint_decided_in_the_service_is_carried_out_by_the_worker(
    pair: Pair, tmp_path: Path, choice: str
) -> None:
    """The payee came from the letter (untrusted): the payment waits for the supervisor's approval."""
    service, worker, store = pair
    case_id = _case(pair, tmp_path, from_letter=True)
    [item] = service.pending(case_id)
    decide_with(service, item.id, CLERK_ANN, {"ok": True})
    assert worker.run(case_id).reason == "waiting_for_people"
    [checkpoint] = service.pending(case_id)
    assert (checkpoint.kind, checkpoint.role) == ("checkpoint", SUPERVISOR)

    service.decide(checkpoint.id, SUPERVISOR_SAM, choice, "checked the payee by phone")
    _recorded_not_run(store, service, case_id, checkpoint.id, "sam")
    [entry] = service.runtime.load(case_id).facts.processes.values()
    [call] = entry["runner"]["calls"].values()
    assert call["status"] == ("approved" if choice == "approve" else "refused")

    outcome = worker.run(case_id)
    loaded = worker.runtime.load(case_id)
    assert loaded.facts.processes == {}
    if choice == "approve":
        assert outcome.case_state == "completed"
        assert calls_of("pay_out") == [{"payee": "Mallory Fox", "amount": 90.0}]
        [started] = [
            e
            for e in store.history(case_id)
            if e.kind == "tool_call_started" and e.payload.get("tool") == "pay_out"
        ]
        assert not started.actor.startswith("person:")  # the worker's run made the call
    else:
        assert calls_of("pay_out") == []
        view = next(v for v in loaded.engine.items() if v.name == "Pay")  # type: ignore[union-attr]
        assert view.state == "failed"
        [failed] = [
            e for e in events(store, case_id, "tool_call_failed") if e.get("tool") == "bpmn:pay_small"
        ]
        assert "rejected" in failed["error"]
    assert_sound(store, case_id)
