"""Deciding a payment process's item behind ``casepilot serve`` with workers: the server records the
decision and queues the case's run in one transaction; a worker process runs the process on and
makes the payment — never the server.

The app is served by uvicorn in the test process, so the server's process id is the test's; the
workers are real ``casepilot worker`` processes. Every tool execution is counted with the id of
the process that made it (``_decide_tools``), and ``pay_claim`` (the transfer) also by claim in
``tool_runs``. The claim of the demo's straight-through letter is 1,250.50: above 1,000 the
payment process waits for a claims manager's approval (a user task with the form field
``approved``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from casepilot.store import Store
from casepilot.worker import jobs
from tests._claims import MANAGER, claim
from tests.worker import _decide_tools, _kill_tools, _storm
from tests.worker.conftest import libpq

pytestmark = pytest.mark.postgres

AS_MANAGER = {"actor": MANAGER.name, "roles": sorted(MANAGER.roles)}
APPROVED = {**AS_MANAGER, "choice": "complete", "values": {"approved": True}}


def _invocations(pg_url: str) -> list[tuple[str, int]]:
    """Every tool execution so far: (tool, process id)."""
    with psycopg.connect(libpq(pg_url)) as conn:
        return [
            (str(tool), int(pid))
            for tool, pid in conn.execute("SELECT tool, pid FROM tool_invocations ORDER BY id")
        ]


def _start_until_the_manager(base: str, reference: str) -> tuple[str, dict[str, Any]]:
    """Start the 1,250.50 claim and wait until a worker has brought it to the claims manager's approval."""
    response = httpx.post(
        f"{base}/cases",
        params={"wait": 180},
        timeout=200,
        json={"definition_key": "claim-triage", "variables": claim("straight-through", reference)},
    )
    assert response.status_code == 201, response.text  # stopped within the wait: waiting for a person
    body = response.json()
    [task] = body["open_tasks"]
    assert (task["role"], task["plan_item"]) == ("claims manager", "approve"), task
    return str(body["id"]), task


def _paid_once_by_a_worker(store: Store, case_id: str, reference: str, pg_url: str) -> None:
    history = store.history(case_id)
    completed = [
        e for e in history if e.kind == "tool_call_completed" and e.payload.get("tool") == "pay_claim"
    ]
    assert len(completed) == 1
    payers = _storm.transfers(pg_url, reference)
    assert len(payers) == 1 and payers[0] != os.getpid()  # one transfer, made by a worker process
    assert [t for t, pid in _invocations(pg_url) if pid == os.getpid()] == []  # the server ran no tool at all
    assert store.verify(case_id).ok


def _state(base: str, case_id: str) -> str:
    return str(httpx.get(f"{base}/cases/{case_id}", timeout=30).json()["state"])


def test_the_manager_approves_over_http_and_a_worker_pays_once(
    base: str, store: Store, pg_url: str, tmp_path: Path
) -> None:
    workers = _storm.storm_workers(pg_url, tmp_path, _decide_tools.SPEC)
    workers.start(2)
    try:
        workers.wait_ready(2)
        case_id, task = _start_until_the_manager(base, "CLM-DQ-1")
    finally:
        assert workers.stop() == 0
    # No worker runs now: what the decision does, the server does.
    decided = httpx.post(f"{base}/inbox/{task['id']}/decision", json=APPROVED, timeout=60)
    assert decided.status_code == 202, decided.text
    assert decided.headers["location"] == f"/cases/{case_id}"
    body = decided.json()  # the item as decided: the same shape as before
    assert (body["id"], body["status"], body["decision"]) == (task["id"], "decided", "complete")
    assert body["decided_by"] == f"person:{MANAGER.name}"

    # Recorded, with the run that will carry it out queued in the same transaction — and nothing run.
    history = store.history(case_id)
    [decision] = [
        e for e in history if e.kind == "human_task_decided" and e.payload.get("task_id") == task["id"]
    ]
    assert decision.actor == f"person:{MANAGER.name}"
    assert [e for e in history if e.seq > decision.seq and e.kind in ("tool_call_started", "verdict")] == []
    assert _storm.transfers(pg_url, "CLM-DQ-1") == []
    assert jobs.runs_in_flight(store.engine, case_id) == 1
    processes = store.case(case_id).state["agent"]["processes"]
    assert [entry.get("run_on") for entry in processes.values()] == [True]
    assert _state(base, case_id) == "active"

    workers.start(1)
    try:
        _storm.settle(store, workers)
    finally:
        workers.stop()
    assert _state(base, case_id) == "completed"
    _paid_once_by_a_worker(store, case_id, "CLM-DQ-1", pg_url)
    payer = _storm.transfers(pg_url, "CLM-DQ-1")[0]
    assert payer in {pid for _tool, pid in _invocations(pg_url)} and payer != os.getpid()
    after = [e for e in store.history(case_id) if e.seq > decision.seq]
    assert [e.actor for e in after if e.kind == "tool_call_started"] != []
    assert all(not e.actor.startswith("person:") for e in after)  # the worker's run, not the person's call


def test_wait_answers_once_a_worker_has_paid(base: str, store: Store, pg_url: str, tmp_path: Path) -> None:
    workers = _storm.storm_workers(pg_url, tmp_path, _decide_tools.SPEC)
    workers.start(2)
    try:
        workers.wait_ready(2)
        case_id, task = _start_until_the_manager(base, "CLM-DQ-2")
        decided = httpx.post(
            f"{base}/inbox/{task['id']}/decision", params={"wait": 180}, json=APPROVED, timeout=200
        )
        assert decided.status_code == 200, decided.text  # the case stopped within the wait
        assert decided.headers["location"] == f"/cases/{case_id}"
        assert decided.json()["status"] == "decided"
        assert _state(base, case_id) == "completed"  # the outcome is there when the answer comes
        _paid_once_by_a_worker(store, case_id, "CLM-DQ-2", pg_url)
    finally:
        workers.stop()


def test_a_worker_killed_right_after_the_decision_leaves_the_payment_to_another_once(
    base: str, store: Store, pg_url: str, tmp_path: Path
) -> None:
    """The first worker to take the run the decision queued dies before the process runs on (SIGKILL:
    no lease given back, no job handed back); the queue gives the job to another worker once the
    dead one's heartbeat is stale, and that one pays — once, with no "run it again?" question, since
    nothing had started."""
    marker = tmp_path / "killed"
    workers = _storm.storm_workers(
        pg_url,
        tmp_path,
        _decide_tools.SPEC,
        env={_kill_tools.ENV_POINT: _decide_tools.RUN_ON, _kill_tools.ENV_MARKER: str(marker)},
    )
    workers.start(2)
    try:
        workers.wait_ready(2)
        case_id, task = _start_until_the_manager(base, "CLM-DQ-3")
        decided = httpx.post(f"{base}/inbox/{task['id']}/decision", json=APPROVED, timeout=60)
        assert decided.status_code == 202, decided.text
        _storm.settle(store, workers)
    finally:
        workers.stop()
    assert marker.exists(), "no worker died after the decision"
    assert _state(base, case_id) == "completed"
    _paid_once_by_a_worker(store, case_id, "CLM-DQ-3", pg_url)
    assert store.tasks(case_id=case_id, status="open") == []
    assert not any(
        e.kind == "human_task_created" and "Run it again?" in str(e.payload) for e in store.history(case_id)
    )
