"""SIGTERM on a worker: the step in flight finishes (a payment that started is recorded, never
abandoned half-way), the case's lease is given back, the case goes back to the queue, and the
process exits 0; another worker then finishes the case, and no payment runs twice.

The payment is ``pay_claim``, the transfer of the claim's payment process (a BPMN service task
inside the case's process task "Pay claim"); the claims pay 950, without a claims manager."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.store import Store
from casepilot.worker import JobScheduler
from casepilot.worker.schema import ensure_queue
from tests._claims import claim
from tests.worker import _tools
from tests.worker.conftest import ROOT, Workers, libpq

CASES = 3


def _worker(workers: Workers, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "casepilot.worker", "--db", workers.url, "--tools", "tests.worker._tools:registry",
             "--lease-ttl", "30"], cwd=ROOT, env=workers.env, stdout=out, stderr=subprocess.STDOUT)


def _payments_started(store: Store, case_ids: list[str]) -> int:
    return sum(1 for case_id in case_ids for e in store.history(case_id)
               if e.kind == "tool_call_started" and e.payload.get("tool") == "pay_claim")


@pytest.mark.postgres
def test_sigterm_finishes_the_step_in_flight_and_hands_the_case_back(pg_url: str, tmp_path: Path) -> None:
    workers = Workers(pg_url, tmp_path / "unused.log", delay=3.0)  # each payment takes 3 s
    store = Store.from_url(pg_url)
    ensure_queue(store.postgres_conninfo or "")
    orch = Orchestrator(store, _tools.registry(), RulePlanner())
    orch.runtime.on_step = JobScheduler(run_on_change=True)
    try:
        orch.deploy(_tools.claims_bundle(tmp_path / "claims"))
        case_ids = [orch.start_case("claim-triage", claim("small", f"CLM-T-{i}")).id
                    for i in range(CASES)]
        first = _worker(workers, tmp_path / "first.log")
        deadline = time.monotonic() + 120
        while _payments_started(store, case_ids) == 0:
            assert first.poll() is None, (tmp_path / "first.log").read_text()
            assert time.monotonic() < deadline, "no payment started within 120 s"
            time.sleep(0.1)
        first.send_signal(signal.SIGTERM)  # a payment is in flight: it takes 3 s more
        assert first.wait(60) == 0, (tmp_path / "first.log").read_text()

        in_flight_done = [e for case_id in case_ids for e in store.history(case_id)
                          if e.kind == "tool_call_completed" and e.payload.get("tool") == "pay_claim"]
        assert in_flight_done, "the payment in flight at SIGTERM was not recorded"
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM case_leases")).scalar_one() == 0  # given back
            queued = conn.execute(text("SELECT count(*) FROM pgqueuer WHERE status = 'queued'")).scalar_one()
            assert conn.execute(text("SELECT count(*) FROM pgqueuer WHERE status = 'picked'")).scalar_one() == 0
        unfinished = [c for c in case_ids if orch.runtime.load(c).engine.state != "completed"]  # type: ignore[union-attr]
        assert queued >= len(unfinished), "a case the worker let go of is not back in the queue"

        second = _worker(workers, tmp_path / "second.log")
        deadline = time.monotonic() + 120
        while any(orch.runtime.load(c).engine.state != "completed" for c in case_ids):  # type: ignore[union-attr]
            assert second.poll() is None, (tmp_path / "second.log").read_text()
            assert time.monotonic() < deadline, "the handed-back cases did not complete"
            time.sleep(0.2)
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0
    finally:
        orch.close()
    with psycopg.connect(libpq(pg_url)) as conn:
        runs = Counter(ref for (ref,) in conn.execute("SELECT reference FROM tool_runs WHERE tool = 'pay_claim'"))
    assert runs == {f"CLM-T-{i}": 1 for i in range(CASES)}
    assert all(store.verify(c).ok for c in case_ids)
    store.close()
