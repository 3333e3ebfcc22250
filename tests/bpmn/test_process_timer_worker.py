"""A BPMN process's timer fires under ``casepilot worker`` (PostgreSQL).

The payment process waits on an intermediate timer between the clerk's confirmation and the
payment. When the clerk decides (in the service, whose steps stage jobs: ``JobScheduler``),
the step that leaves the process waiting on its timer also stages a ``fire_timer`` job for when
it is due, in the same transaction. A real worker (``python -m casepilot.worker``, started as a
user would) takes the job when it is due, and the case's run advances the process past its
timer: the payment is made and the case completes — its history verifies. Once as a process
started on its own, once inside a CMMN case's process task.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.rule_planner import RulePlanner
from casepilot.store import Store
from casepilot.worker import JobScheduler, jobs
from casepilot.worker.schema import ensure_queue
from tests.agent._support import REPO, assert_sound, events
from tests.bpmn._process_bundle import CLERK, decide_with, process_registry, write_process_bundle

pytestmark = pytest.mark.postgres

WAIT = 2
"""Seconds the process's timer waits (a real worker, on the real clock)."""


class Worker:
    """``python -m casepilot.worker`` on the database, started when the test says (stopped by SIGTERM after)."""

    def __init__(self, url: str, log: Path) -> None:
        self.url, self.log = url, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "casepilot.worker", "--db", self.url,
                 "--tools", "tests.bpmn._process_bundle:process_registry"],
                cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=out, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def worker(fresh_pg_url: str, tmp_path: Path) -> Iterator[Worker]:
    started = Worker(fresh_pg_url, tmp_path / "worker.log")
    yield started
    started.stop()  # only the worker this test started


def _timer_jobs(store: Store, case_id: str) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT entrypoint, payload, execute_after - created AS delay FROM pgqueuer "
                                 "ORDER BY id")).mappings().all()
    found = [{**row, "payload": json.loads(bytes(row["payload"]))} for row in rows]
    return [r for r in found if r["payload"]["case_id"] == case_id and r["entrypoint"] == jobs.FIRE_TIMER]


def _bundle(tmp_path: Path, key: str) -> Path:
    folder = write_process_bundle(tmp_path / key, key, timer=True)
    bpmn = folder / "pay.bpmn"
    bpmn.write_text(bpmn.read_text(encoding="utf-8").replace('"PT1H"', f'"PT{WAIT}S"'), encoding="utf-8")
    return folder


@pytest.mark.parametrize("started", ["on its own", "by a process task"])
def test_a_process_timer_gets_its_job_and_a_worker_fires_it(fresh_pg_url: str, tmp_path: Path, worker: Worker,
                                                            started: str) -> None:
    with Store.from_url(fresh_pg_url) as store:
        assert store.postgres_conninfo is not None
        ensure_queue(store.postgres_conninfo)
        service = Orchestrator(store, process_registry(), RulePlanner())
        service.runtime.on_step = JobScheduler(run_on_change=False, clock=service.runtime.clock)
        try:
            key = "pay-timer"
            service.deploy(_bundle(tmp_path, key))
            if started == "on its own":
                case = service.start_case(key, {"payee": "Ann Lee", "amount": 40}, process="pay_small")
            else:
                case = service.start_case(key, {"payee": "Ann Lee", "amount": 40})
                service.run(case.id)
            [item] = service.pending(case.id)
            assert _timer_jobs(store, case.id) == []
            decide_with(service, item.id, Person("ann", {CLERK}), {"ok": True})

            [timer] = _timer_jobs(store, case.id)  # staged by the step that left the process on its timer
            assert timer["delay"] <= dt.timedelta(seconds=WAIT)
            loaded = service.runtime.load(case.id)
            [entry] = loaded.facts.processes.values()
            assert timer["payload"]["due"] == entry["next_timer"]
            assert [e for e in events(store, case.id, "tool_call_started") if e.get("engine") == "bpmn"] == []

            worker.start()
            deadline = time.monotonic() + 180
            while service.runtime.load(case.id).engine.state != "completed":  # type: ignore[union-attr]
                assert worker.alive() and time.monotonic() < deadline, worker.log.read_text(errors="replace")[-3000:]
                time.sleep(0.25)
        finally:
            service.close()
        waited = [e for e in events(store, case.id, "transition") if e.get("engine") == "bpmn" and e["element"] == "wait"]
        assert len(waited) == 1
        paid = [e for e in events(store, case.id, "tool_call_completed") if e.get("engine") == "bpmn"]
        assert [(e["element"], e["tool"]) for e in paid] == [("pay", "pay_out")]
        fired = [e for e in store.history(case.id) if e.payload.get("element") == "wait"]
        assert fired[0].at >= dt.datetime.fromisoformat(timer["payload"]["due"])  # not before it was due
        assert_sound(store, case.id)
