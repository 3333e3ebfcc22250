"""Jobs are written by the transaction that makes them due, and each kind does its work.

In process, on a fresh PostgreSQL database per test: the queue's rows are read back from
pgqueuer's own table, and a job is worked by calling the worker's handler as the queue would.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.store import Store
from casepilot.worker import JobScheduler, jobs
from casepilot.worker.runner import Worker
from casepilot.worker.schema import ensure_queue
from tests._claims import claim
from tests.worker import _tools
from tests.worker.conftest import libpq

pytestmark = pytest.mark.postgres

STRAIGHT = "small"
"""The straight-through letter claiming 950: the payment process pays it without a person."""


@pytest.fixture
def store(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv(_tools.ENV_URL, libpq(pg_url))
    with Store.from_url(pg_url) as opened:
        assert ensure_queue(opened.postgres_conninfo or "")
        assert not ensure_queue(opened.postgres_conninfo or "")  # installed once
        yield opened


def queued(store: Store, case_id: str | None = None) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT entrypoint, dedupe_key, payload, execute_after - created AS delay, status "
                                 "FROM pgqueuer ORDER BY id")).mappings().all()
    found = [{**row, "payload": json.loads(bytes(row["payload"]))} for row in rows]
    return [r for r in found if case_id is None or r["payload"]["case_id"] == case_id]


def orchestrator(store: Store, tmp_path: Path, *, serve: bool) -> Orchestrator:
    orch = Orchestrator(store, _tools.registry(), RulePlanner())
    orch.runtime.on_step = JobScheduler(run_on_change=serve, clock=orch.runtime.clock)
    orch.deploy(_tools.claims_bundle(tmp_path / "claims"))
    return orch


def test_a_job_commits_with_its_step_or_not_at_all(store: Store, tmp_path: Path) -> None:
    orch = orchestrator(store, tmp_path, serve=False)
    try:
        case = orch.start_case("claim-triage", claim(STRAIGHT, "P-1"))
        version = store.case_version(case.id)
        with pytest.raises(RuntimeError), store.step(case.id, version) as step:
            step.append("chat_message", payload={"text": "hello"})
            step.enqueue(jobs.run_case(case.id, key="rolled-back"))
            raise RuntimeError("the step fails after staging its job")
        assert queued(store, case.id) == [] and store.case_version(case.id) == version
        for _ in range(2):  # the same job twice while it is pending: one row, and no error
            with store.step(case.id, store.case_version(case.id)) as step:
                step.append("chat_message", payload={"text": "run please"})
                step.enqueue(jobs.run_case(case.id, key="asked"))
        assert [r["dedupe_key"] for r in queued(store, case.id)] == [f"run:{case.id}:asked"]
    finally:
        orch.close()


def test_serve_queues_a_run_with_every_change_and_a_worker_runs_it(store: Store, tmp_path: Path) -> None:
    serve = orchestrator(store, tmp_path, serve=True)
    worker_orch = orchestrator(store, tmp_path, serve=False)
    try:
        case = serve.start_case("claim-triage", claim(STRAIGHT, "P-2"))
        (job,) = queued(store, case.id)
        assert job["entrypoint"] == jobs.RUN_CASE and job["payload"] == {"case_id": case.id, "max_steps": 50}
        assert Worker(worker_orch).handle(jobs.RUN_CASE, job["payload"]) == "completed"
        assert len(queued(store, case.id)) == 1  # the worker's own steps queue no further runs
        review = serve.start_case("claim-triage", claim("senior-review", "P-3"))
        assert Worker(worker_orch).handle(jobs.RUN_CASE, {"case_id": review.id}) == "waiting_for_people"
        (task,) = serve.pending(review.id)
        before = len(queued(store, review.id))
        from casepilot.agent.orchestrator import Person

        serve.decide(task.id, Person("ann", {"senior analyst"}), "approve")
        assert len(queued(store, review.id)) == before + 1  # the decision queued the resume
        assert Worker(worker_orch).handle(jobs.RUN_CASE, {"case_id": review.id}) == "completed"
    finally:
        serve.close()
        worker_orch.close()


def test_a_checkpoint_deadline_queues_its_expiry(store: Store, tmp_path: Path) -> None:
    orch = orchestrator(store, tmp_path, serve=False)
    try:
        case = orch.start_case("claim-triage", claim(STRAIGHT, "P-4"))
        deadline = orch.runtime.clock() + dt.timedelta(hours=4)
        with orch.runtime.step(case.id) as (step, _loaded):
            task = step.create_task("Pay this?", kind="checkpoint", role="team lead", options=("approve", "reject"),
                                    expires_at=deadline)
        (job,) = [r for r in queued(store, case.id) if r["entrypoint"] == jobs.EXPIRE_CHECKPOINT]
        assert job["payload"] == {"case_id": case.id, "task_id": task.id}
        assert dt.timedelta(hours=3, minutes=59) < job["delay"] <= dt.timedelta(hours=4)
    finally:
        orch.close()


TIMER_CASE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="d" targetNamespace="http://example.org/t">
  <case id="followUp" name="Follow-up">
    <casePlanModel id="cpm" name="Follow-up">
      <planItem id="pi_due" name="Payment due" definitionRef="tm_due"/>
      <planItem id="pi_remind" name="Send reminder" definitionRef="ht_remind">
        <entryCriterion id="ec_remind" sentryRef="s_due"/>
      </planItem>
      <sentry id="s_due"><planItemOnPart id="op_due" sourceRef="pi_due"><standardEvent>occur</standardEvent></planItemOnPart></sentry>
      <timerEventListener id="tm_due" name="Payment due"><timerExpression>PT1H</timerExpression></timerEventListener>
      <humanTask id="ht_remind" name="Send reminder"/>
    </casePlanModel>
  </case>
</definitions>
"""


def test_a_timer_queues_its_job_for_when_it_is_due_and_the_job_fires_it(store: Store) -> None:
    now = dt.datetime.now(dt.UTC)
    clock = {"now": now}
    orch = Orchestrator(store, _tools.registry(), RulePlanner(), clock=lambda: clock["now"])
    orch.runtime.on_step = JobScheduler(run_on_change=False, clock=lambda: clock["now"])
    try:
        orch.deploy_files({"case.cmmn": TIMER_CASE, "casepilot.yaml": "key: follow-up\nmodel: case.cmmn\n"
                           "human_tasks:\n  Send reminder: {role: clerk, options: [sent]}\n"})
        case = orch.start_case("follow-up", {})
        (job,) = queued(store, case.id)
        assert job["entrypoint"] == jobs.FIRE_TIMER
        assert dt.timedelta(minutes=59) < job["delay"] <= dt.timedelta(hours=1)
        worker = Worker(orch, clock=lambda: clock["now"])
        worker.handle(jobs.FIRE_TIMER, job["payload"])  # too early: nothing happens
        assert orch.pending(case.id) == []
        clock["now"] = now + dt.timedelta(hours=1, seconds=1)
        assert worker.handle(jobs.FIRE_TIMER, job["payload"]) == "waiting_for_people"
        (reminder,) = orch.pending(case.id)
        assert reminder.plan_item == "Send reminder" and reminder.role == "clerk"
    finally:
        orch.close()


@pytest.fixture
def flaky() -> Iterator[dict[str, int]]:
    """``_tools.extract_claim`` failing as many times as the test sets."""
    yield _tools.FLAKY
    _tools.FLAKY.update(failures=0, calls=0)


def test_a_failed_tool_is_retried_with_backoff(store: Store, tmp_path: Path, flaky: dict[str, int]) -> None:
    flaky.update(failures=2, calls=0)
    orch = orchestrator(store, tmp_path, serve=False)
    try:
        case = orch.start_case("claim-triage", claim(STRAIGHT, "P-5"))
        worker = Worker(orch)
        worker.handle(jobs.RUN_CASE, {"case_id": case.id})
        retries = [r for r in queued(store, case.id) if r["entrypoint"] == jobs.RETRY_TOOL]
        assert [(r["payload"]["attempt"], r["payload"]["tool"]) for r in retries] == [(2, "extract_claim")]
        assert dt.timedelta(seconds=4) < retries[0]["delay"] <= dt.timedelta(seconds=5)
        worker.handle(jobs.RETRY_TOOL, retries[0]["payload"])  # fails again: a longer backoff
        retries = [r for r in queued(store, case.id) if r["entrypoint"] == jobs.RETRY_TOOL]
        assert [r["payload"]["attempt"] for r in retries] == [2, 3]
        assert dt.timedelta(seconds=9) < retries[1]["delay"] <= dt.timedelta(seconds=10)
        assert worker.handle(jobs.RETRY_TOOL, retries[1]["payload"]) == "completed"
        assert flaky["calls"] == 3
        history = store.history(case.id)
        assert [e.payload["attempt"] for e in history if e.kind == "plan" and "attempt" in e.payload] == [2, 3]
    finally:
        orch.close()


def test_a_tool_that_keeps_failing_is_given_up_after_three_tries(store: Store, tmp_path: Path,
                                                                 flaky: dict[str, int]) -> None:
    flaky.update(failures=99, calls=0)
    orch = orchestrator(store, tmp_path, serve=False)
    try:
        case = orch.start_case("claim-triage", claim(STRAIGHT, "P-6"))
        worker = Worker(orch)
        worker.handle(jobs.RUN_CASE, {"case_id": case.id})
        for attempt in (2, 3):
            (retry,) = [r for r in queued(store, case.id)
                        if r["entrypoint"] == jobs.RETRY_TOOL and r["payload"]["attempt"] == attempt]
            worker.handle(jobs.RETRY_TOOL, retry["payload"])
        assert flaky["calls"] == 3
        assert sorted(r["payload"]["attempt"] for r in queued(store, case.id)
                      if r["entrypoint"] == jobs.RETRY_TOOL) == [2, 3]  # no fourth try
    finally:
        orch.close()


def test_a_run_job_for_a_suspended_case_ends_quietly_and_resuming_runs_it(store: Store, tmp_path: Path) -> None:
    from casepilot.agent.orchestrator import Person

    serve = orchestrator(store, tmp_path, serve=True)
    worker_orch = orchestrator(store, tmp_path, serve=False)
    operator = Person("olga", {"claims operations"})
    try:
        case = serve.start_case("claim-triage", claim(STRAIGHT, "P-9"))
        serve.suspend(case.id, operator, "waiting for the police report")
        assert Worker(worker_orch).handle(jobs.RUN_CASE, {"case_id": case.id}) == "suspended"
        assert all(e.kind != "tool_call_started" for e in store.history(case.id))
        before = len(queued(store, case.id))
        serve.resume(case.id, operator, "report received")
        assert len(queued(store, case.id)) == before + 1  # resuming queued the run
        assert Worker(worker_orch).handle(jobs.RUN_CASE, {"case_id": case.id}) == "completed"
    finally:
        serve.close()
        worker_orch.close()
