"""A worker SIGKILLed at a chosen point of a claim's payment process (``payment.bpmn``), deterministically.

The crash storm (``test_crash_storm``) kills at random; here one worker process dies exactly
once at each point that matters (``_kill_tools``), the supervisor starts another, and the
queue hands the dead worker's job to a live one once its heartbeat is stale. What must follow:

* between two calls' batches, or inside the idempotent confirmation: the case completes, the
  claim paid once — the dead worker's job is what runs the case again (nothing else wakes it);
* inside the transfer, before or after the money moved: the case waits for the operator role's
  "run it again?" checkpoint; approved when the money did not move, the claim is paid once (and
  should the call fail again with its effect unknown, the operator is asked again, on a new item);
  rejected when it did, the process fails — it is never paid a second time (the payment's
  error boundary, wait and pay again, is for a transfer that failed without effect).

The operator decides here as ``casepilot serve`` with workers does (the steps queue runs:
``JobScheduler(run_on_change=True)``): the decision is recorded and a worker runs the payment on —
the transfer is never made by the deciding process (this one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.rule_planner import RulePlanner
from casepilot.store import Store
from casepilot.worker import JobScheduler
from casepilot.worker.schema import ensure_queue
from tests._claims import claim
from tests.worker import _kill_tools, _storm, _tools
from tests.worker.conftest import libpq

OPERATOR = Person("olga", {"claims operations"})
REFERENCE = "CLM-KILL-0001"


@dataclass
class Killed:
    """The claim case after the kill, with the deciding orchestrator, its store, the test's folder and
    the workers (still running: they take what the operator's decisions queue)."""

    orch: Orchestrator
    store: Store
    case_id: str
    folder: Path
    workers: _storm.StormWorkers

    def decide(self, choice: str, reason: str) -> str:
        """The operator answers the open "run it again?" checkpoint; wait until the workers have run the
        case on. The checkpoint's id."""
        checkpoint = _recovery_checkpoint(self.store, self.case_id)
        self.orch.decide(checkpoint, OPERATOR, choice, reason)
        _storm.settle(self.store, self.workers)
        return checkpoint


@pytest.fixture
def killed(pg_url: str, tmp_path: Path, request: pytest.FixtureRequest,
           monkeypatch: pytest.MonkeyPatch) -> Killed:
    """The claim case worked by two worker processes, the first to reach ``request.param`` dying there (once:
    the marker file says it did). ``<point>+fail``: moreover the first transfer a worker tries after the
    kill fails before the money moves, with its effect unknown (``_kill_tools.ENV_FAIL``)."""
    # Should this process (the deciding one) ever pay, the payment would count too.
    monkeypatch.setenv(_tools.ENV_URL, libpq(pg_url))
    marker = tmp_path / "killed"
    point, _, fail = str(request.param).partition("+")
    env = {_kill_tools.ENV_POINT: point, _kill_tools.ENV_MARKER: str(marker)}
    if fail:
        env[_kill_tools.ENV_FAIL] = str(tmp_path / "failed")
    workers = _storm.storm_workers(pg_url, tmp_path, _kill_tools.SPEC, env=env)
    store = Store.from_url(pg_url)
    ensure_queue(store.postgres_conninfo or "")
    orch = Orchestrator(store, _kill_tools.registry(), RulePlanner())
    orch.runtime.on_step = JobScheduler(run_on_change=True)  # as `casepilot serve` on PostgreSQL
    orch.deploy(_storm.claims_bundle(tmp_path / "claims", _kill_tools.SPEC))
    case_id = orch.start_case("claim-triage", claim("small", REFERENCE)).id
    workers.start(2)  # a supervisor (one process would be the worker itself) that replaces the dead one
    request.addfinalizer(store.close)
    request.addfinalizer(orch.close)
    request.addfinalizer(workers.stop)
    _storm.settle(store, workers)
    assert marker.exists(), f"no worker died at {point}"
    return Killed(orch, store, case_id, tmp_path, workers)


def _payments(pg_url: str) -> int:
    """Transfers made for the claim — every one by a worker process, never by this (the deciding) one."""
    with psycopg.connect(libpq(pg_url)) as conn:
        payers = [pid for (pid,) in conn.execute("SELECT pid FROM tool_runs WHERE tool = %s AND reference = %s",
                                                 (_storm.PAYMENT, REFERENCE))]
    assert os.getpid() not in payers
    return len(payers)


def _recovery_checkpoint(store: Store, case_id: str) -> str:
    [task] = store.tasks(case_id=case_id, status="open")
    assert (task.kind, task.role) == ("checkpoint", "claims operations") and "Run it again?" in task.prompt
    return task.id


def _paid_once_and_completed(killed: Killed, pg_url: str) -> None:
    store, case_id = killed.store, killed.case_id
    loaded = killed.orch.runtime.load(case_id)
    assert loaded.engine is not None and loaded.engine.state == "completed"
    assert store.tasks(case_id=case_id, status="open") == []
    completed = [e for e in store.history(case_id) if e.kind == "tool_call_completed"]
    assert [e.payload["tool"] for e in completed].count(_storm.PAYMENT) == 1
    assert [e.payload["tool"] for e in completed].count("send_payment_confirmation") == 1
    assert _payments(pg_url) == 1
    assert store.verify(case_id).ok


@pytest.mark.postgres
@pytest.mark.parametrize("killed", ["validate_payment:batch", "pay_claim:batch", "send_payment_confirmation:before"],
                         indirect=True)
def test_a_worker_killed_where_nothing_may_have_run_twice_leaves_a_case_that_completes(
        killed: Killed, pg_url: str) -> None:
    _paid_once_and_completed(killed, pg_url)


@pytest.mark.postgres
@pytest.mark.parametrize("killed", ["pay_claim:before"], indirect=True)
def test_a_transfer_that_never_happened_is_made_once_the_operator_says_run_it_again(
        killed: Killed, pg_url: str) -> None:
    assert _payments(pg_url) == 0
    killed.decide("approve", "the bank has no such transfer")
    _paid_once_and_completed(killed, pg_url)


@pytest.mark.postgres
@pytest.mark.parametrize("killed", ["pay_claim:after"], indirect=True)
def test_a_transfer_that_happened_is_never_made_again_when_the_operator_says_no(
        killed: Killed, pg_url: str) -> None:
    store, case_id = killed.store, killed.case_id
    assert _payments(pg_url) == 1
    killed.decide("reject", "the bank booked it")
    assert _payments(pg_url) == 1
    # ... nor will it be: the payment's error boundary (wait a minute, pay again) was not taken.
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pgqueuer")).scalar_one() == 0
    assert killed.orch.runtime.load(case_id).facts.processes == {}
    [failed] = [e for e in store.history(case_id) if e.kind == "tool_call_failed"
                and e.payload.get("tool") == "bpmn:payment"]
    assert "chose not to run 'pay_claim' of step 'pay' again" in failed.payload["error"]
    assert store.tasks(case_id=case_id, status="open") == []
    assert store.verify(case_id).ok


@pytest.mark.postgres
@pytest.mark.parametrize("killed", ["pay_claim:before+fail"], indirect=True)
def test_a_transfer_run_again_that_fails_with_its_effect_unknown_asks_the_operator_again(
        killed: Killed, pg_url: str) -> None:
    first = killed.decide("approve", "the bank has no such transfer")  # the approved call fails once
    assert (killed.folder / "failed").exists(), "the approved transfer was not tried again"
    second = _recovery_checkpoint(killed.store, killed.case_id)
    assert second != first and _payments(pg_url) == 0
    assert killed.decide("approve", "still nothing at the bank") == second
    _paid_once_and_completed(killed, pg_url)
