"""Crash storm: 4 worker processes on one PostgreSQL database, 200 claim cases, a random worker
SIGKILLed every 1–3 s and a new one started in its place (issue 15).

What must hold however the kills fall: every case ends completed or waiting for a person with a
role; every history verifies; no payment was booked twice for a case — counted where the money
moves (``_tools.tool_runs``), not in casepilot's own history; and no step was lost: every booked
payment is in its case's history, and every completed case booked exactly one. The storm and
the checks are ``_storm``'s, shared with ``bench/crash_bench.py`` (1,000 cases, slow tools).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.store import Store
from casepilot.worker import JobScheduler
from casepilot.worker.schema import ensure_queue
from tests.worker import _storm, _tools
from tests.worker.conftest import Workers

CASES = 200
WORKERS = 4
STORM_SECONDS = 900.0
"""The storm goes on until every case has settled, or this long (then the test fails)."""
STALL_SECONDS = 120.0
"""…or until no step was committed on any case for this long: the storm made no progress (a
loaded machine only makes the storm longer; a case that stopped moving fails the test)."""


@pytest.mark.postgres
def test_crash_storm(pg_url: str, tmp_path: Path) -> None:
    rng = random.Random(15)
    workers = Workers(pg_url, tmp_path / "workers.log", *_storm.WORKER_OPTIONS, delay=0.05)
    store = Store.from_url(pg_url)
    ensure_queue(store.postgres_conninfo or "")
    orch = Orchestrator(store, _tools.registry(), RulePlanner())
    orch.runtime.on_step = JobScheduler(run_on_change=True)  # as `casepilot serve` on PostgreSQL
    try:
        orch.deploy(_tools.claims_bundle(tmp_path / "claims"))
        # Every case is queued before the first worker starts, so that the storm meets them all.
        case_ids = _storm.start_cases(orch, CASES)
        workers.start(WORKERS)
        workers.wait_ready(WORKERS)
        storm = _storm.storm(workers, store, rng, timeout=STORM_SECONDS, stall=STALL_SECONDS)
    finally:
        code = workers.stop()  # SIGTERM: the workers finish or hand back their cases and exit
        orch.close()
    assert storm.settled, (f"the cases did not settle: {storm.seconds:.0f} s of storm, at most {STORM_SECONDS:g} s "
                           f"and no step for {STALL_SECONDS:g} s allowed")
    assert storm.kills >= 5, "the storm was too short to prove anything"
    assert code == 0, (tmp_path / "workers.log").read_text()[-3000:]

    report = _storm.check(store, orch, pg_url, case_ids)
    store.close()
    assert not report.double, f"non-idempotent tools ran more than once for a case: {report.double}"
    assert not report.problems, "\n".join(report.problems)
    assert report.verified == CASES
    print(f"\ncrash storm: {storm.kills} workers killed; outcomes {dict(report.outcomes)}")
    assert report.outcomes["completed"] >= CASES // 2
