"""The command line on a PostgreSQL database that workers serve works no case itself: like
``casepilot serve`` with workers, ``decide``, ``start``, ``act``, ``chat --confirm`` and the
operations record the change and queue the case's run in the same transaction, and say so;
``--in-process`` works the case in the shell as before. And an orchestrator made by
``queued_orchestrator`` starts no process in the caller, ``queued=True`` or not.

The CLI runs in the test process (``CliRunner``), so a transfer counted with the test's process
id (``tool_runs``) would have been made by the shell.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner, Result

from casepilot.agent.orchestrator import Orchestrator
from casepilot.api.app import queued_orchestrator
from casepilot.cli import app
from casepilot.store import Store
from casepilot.worker import jobs
from casepilot.worker.schema import ensure_queue
from tests._claims import PAY_TO, claim
from tests.worker import _decide_tools, _storm, _tools
from tests.worker.conftest import libpq

pytestmark = pytest.mark.postgres

runner = CliRunner()
PAYMENT = {"claim_id": "CLM-CLIQ-P", **PAY_TO, "claim": {"amount": 640, "currency": "EUR"}}


def _cli(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _flat(result: Result) -> str:
    return " ".join(result.output.split())


@pytest.fixture
def served(pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Store]:
    """The database as workers serve it (their queue installed), the counting claims bundle deployed from the shell."""
    monkeypatch.setenv(_tools.ENV_URL, libpq(pg_url))
    for name in ("CASEPILOT_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with psycopg.connect(libpq(pg_url), autocommit=True) as conn:
        conn.execute(_decide_tools.TABLE)  # the workers' registry counts every tool execution there
    with Store.from_url(pg_url) as store:
        ensure_queue(store.postgres_conninfo or "")
        folder = _storm.claims_bundle(tmp_path / "claims", _decide_tools.SPEC)
        deployed = _cli("deploy", str(folder), "--db", pg_url)
        assert deployed.exit_code == 0, deployed.output
        yield store


def _decide_as_the_manager(pg_url: str, task_id: str, *options: str) -> Result:
    """``casepilot decide`` from the shell: Max, claims manager, approves the payment."""
    return _cli(
        "decide", task_id, "--choice", "complete", "--as", "max", "--role", "claims manager",
        "--value", "approved=yes", "--db", pg_url, *options,
    )


def _start_claim(pg_url: str, kind: str, reference: str) -> str:
    """Start the claim of the demo's ``kind`` letter from the shell (queued for the workers): its case id."""
    started = _cli("start", "claim-triage", "--vars", json.dumps(claim(kind, reference)), "--db", pg_url)
    assert started.exit_code == 0, started.output
    assert "queued: a worker works the case" in _flat(started)
    return started.output.split()[0]


def _workers(pg_url: str, tmp_path: Path) -> _storm.StormWorkers:
    """Two workers with the counting claims tools, started."""
    workers = _storm.storm_workers(pg_url, tmp_path, _decide_tools.SPEC)
    workers.start(2)
    return workers


def _at_the_manager(store: Store, pg_url: str, tmp_path: Path, reference: str) -> tuple[str, str]:
    """Start the 1,250.50 claim from the shell; workers bring it to the claims manager's approval."""
    case_id = _start_claim(pg_url, "straight-through", reference)
    workers = _workers(pg_url, tmp_path)
    try:
        _storm.settle(store, workers)
    finally:
        assert workers.stop() == 0
    tasks = store.tasks(case_id=case_id, status="open")
    assert len(tasks) == 1, (
        [(e.kind, str(e.payload)[:150]) for e in store.history(case_id)][-8:],
        workers.log.read_text(errors="replace")[-2000:],
    )
    [task] = tasks
    assert (task.role, task.plan_item) == ("claims manager", "approve")
    return case_id, task.id


def test_decide_from_the_shell_records_and_queues_and_a_worker_pays(
    served: Store, pg_url: str, tmp_path: Path
) -> None:
    case_id, task_id = _at_the_manager(served, pg_url, tmp_path, "CLM-CLIQ-1")
    decided = _decide_as_the_manager(pg_url, task_id)
    assert decided.exit_code == 0, decided.output
    assert f"queued: a worker works case {case_id} on with the decision" in _flat(decided)
    assert _storm.transfers(pg_url, "CLM-CLIQ-1") == []  # recorded, not run on, in the shell
    assert jobs.runs_in_flight(served.engine, case_id) == 1
    processes = served.case(case_id).state["agent"]["processes"]
    assert [entry.get("run_on") for entry in processes.values()] == [True]

    workers = _workers(pg_url, tmp_path)
    try:
        _storm.settle(served, workers)
    finally:
        workers.stop()
    payers = _storm.transfers(pg_url, "CLM-CLIQ-1")
    assert len(payers) == 1 and payers[0] != os.getpid()
    shown = _cli("show", case_id, "--db", pg_url)
    assert shown.exit_code == 0 and "completed" in _flat(shown), shown.output
    assert served.verify(case_id).ok


def test_in_process_decides_and_pays_in_the_shell(served: Store, pg_url: str, tmp_path: Path) -> None:
    _case_id, task_id = _at_the_manager(served, pg_url, tmp_path, "CLM-CLIQ-2")
    decided = _decide_as_the_manager(pg_url, task_id, "--in-process")
    assert decided.exit_code == 0, decided.output
    assert "queued" not in decided.output
    assert _storm.transfers(pg_url, "CLM-CLIQ-2") == [os.getpid()]  # the escape hatch: worked here, as before


def test_a_queued_orchestrator_starts_no_process_in_the_caller(served: Store, pg_url: str) -> None:
    orch = queued_orchestrator(Orchestrator(served, _decide_tools.registry()))
    try:
        case = orch.start_case("claim-triage", PAYMENT, process="payment")  # queued=True not given
        loaded = orch.runtime.load(case.id)
        assert loaded.facts.processes == {} and loaded.facts.process == "payment"
        kinds = [e.kind for e in served.history(case.id)]
        assert "tool_call_started" not in kinds and "verdict" not in kinds, kinds
        assert jobs.runs_in_flight(served.engine, case.id) == 1
    finally:
        orch.close()


def test_start_of_a_process_from_the_shell_is_queued(served: Store, pg_url: str) -> None:
    started = _cli(
        "start", "claim-triage", "--process", "payment", "--vars", json.dumps(PAYMENT), "--db", pg_url
    )
    assert started.exit_code == 0, started.output
    case_id = started.output.split()[0]
    assert "queued: a worker works the case and starts its process" in _flat(started)
    assert served.case(case_id).state["agent"]["processes"] == {}
    assert jobs.runs_in_flight(served.engine, case_id) == 1


def test_chat_confirm_from_the_shell_is_carried_out_by_a_worker(
    served: Store, pg_url: str, tmp_path: Path
) -> None:
    case_id = _start_claim(pg_url, "senior-review", "CLM-CLIQ-C")
    workers = _workers(pg_url, tmp_path)
    try:
        _storm.settle(served, workers)
        as_olga = ("--as", "olga", "--role", "claims operations", "--db", pg_url)
        asked = _cli("chat", case_id, "please plan Request more documents", *as_olga)
        assert asked.exit_code == 0 and "Proposed action: Request more documents" in _flat(asked), (
            asked.output
        )
        proposal = _flat(asked).split("(proposal ")[1].split(")")[0]
        _storm.settle(served, workers)
        workers.stop()
        confirmed = _cli("chat", case_id, "--confirm", proposal, *as_olga)
        assert confirmed.exit_code == 0, confirmed.output
        assert _flat(confirmed).startswith("Confirmed: Request more documents.")
        assert f"queued: a worker carries out {proposal}" in _flat(confirmed)
        assert not [
            e for e in served.history(case_id) if e.kind == "plan" and e.payload.get("planner") == "chat"
        ]
        workers.start(2)
        _storm.settle(served, workers)
    finally:
        workers.stop()
    [plan] = [e for e in served.history(case_id) if e.kind == "plan" and e.payload.get("planner") == "chat"]
    assert (plan.actor, plan.payload["label"]) == ("person:olga", "Request more documents")
    answers = [
        e
        for e in served.history(case_id)
        if e.kind == "chat_message" and e.payload.get("confirmed") == proposal
    ]
    assert [a.payload["outcome"] for a in answers] == ["allow"]


def test_run_from_the_shell_queues_the_run_and_waits_for_it(
    served: Store, pg_url: str, tmp_path: Path
) -> None:
    case_id = _start_claim(pg_url, "senior-review", "CLM-CLIQ-R")
    workers = _workers(pg_url, tmp_path)
    try:
        ran = _cli("run", case_id, "--db", pg_url, "--wait", "120")
    finally:
        workers.stop()
    assert ran.exit_code == 0, ran.output
    flat = _flat(ran)
    assert f"queued: a worker runs case {case_id}" in flat
    assert "stopped: case is active; 1 open inbox items" in flat, ran.output
    assert [t.role for t in served.tasks(case_id=case_id, status="open")] == ["senior analyst"]
