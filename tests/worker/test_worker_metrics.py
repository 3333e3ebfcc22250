"""``casepilot worker --metrics-port``: real worker processes on PostgreSQL, scraped over HTTP.

The figures must add up to what the database says happened: the loop's counters to the
histories' events, the job counters to one another, the inbox gauge to the open items — and,
with several processes, one endpoint sums them all, and a worker that is killed and replaced
takes nothing away from the sums."""

from __future__ import annotations

import os
import re
import signal
import socket
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.cli import app
from casepilot.store import Store
from casepilot.worker import JobScheduler, jobs
from casepilot.worker.schema import ensure_queue
from tests._claims import claim
from tests.worker import _tools
from tests.worker.conftest import Workers

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _port(log: Path, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while not (found := re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", log.read_text(errors="replace"))):
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.1)
    return int(found.group(1))


def _scrape(port: int) -> Samples:
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _sum(samples: Samples, name: str, **labels: str) -> float:
    """All samples of ``name`` whose labels include ``labels`` (e.g. every tool, one outcome)."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def _work_claims(pg_url: str, tmp_path: Path, letters: list[str]) -> tuple[Store, list[str]]:
    """Deploy the counting claims bundle and start one case per letter; their runs are queued."""
    store = Store.from_url(pg_url)
    ensure_queue(store.postgres_conninfo or "")
    orch = Orchestrator(store, _tools.registry(), RulePlanner())
    orch.runtime.on_step = JobScheduler(run_on_change=True)
    try:
        orch.deploy(_tools.claims_bundle(tmp_path / "claims"))
        case_ids = [orch.start_case("claim-triage", claim(letter, f"M-{i}")).id
                    for i, letter in enumerate(letters)]
    finally:
        orch.close()
    return store, case_ids


def _wait_stopped(store: Store, case_ids: list[str], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while any(jobs.runs_in_flight(store.engine, c) or store.lease_holder(c) for c in case_ids):
        assert time.monotonic() < deadline, "the workers did not work the cases"
        time.sleep(0.2)


def _assert_adds_up(samples: Samples, store: Store, case_ids: list[str]) -> None:
    """The scraped figures against the database."""
    history = [e for c in case_ids for e in store.history(c)]
    tools = Counter((str(e.payload["tool"]), e.kind.removeprefix("tool_call_")) for e in history
                    if e.kind in ("tool_call_completed", "tool_call_failed"))
    assert tools[("pay_claim", "completed")] >= 1  # the payment process's transfer
    for (tool, outcome), count in tools.items():
        assert _value(samples, "casepilot_tool_calls_total", tool=tool, outcome=outcome) == count, (tool, outcome)
    verdicts = Counter(e.kind for e in history if e.kind == "verdict")
    assert _sum(samples, "casepilot_verdicts_total") == verdicts["verdict"] > 0
    steps = _value(samples, "casepilot_steps_total")
    assert 0 < steps <= len(history)  # one committed step writes one event or more
    picked = _sum(samples, "casepilot_worker_jobs_picked_total", kind="run_case")
    ended = sum(_sum(samples, f"casepilot_worker_jobs_{outcome}_total", kind="run_case")
                for outcome in ("finished", "handed_back", "failed"))
    assert picked == ended >= len(case_ids)  # every job taken has ended, none twice
    assert _sum(samples, "casepilot_worker_jobs_failed_total") == 0
    assert _value(samples, "casepilot_worker_job_pickup_seconds_count", kind="run_case") == picked
    assert _value(samples, "casepilot_worker_job_run_seconds_count", kind="run_case") == ended
    assert _value(samples, "casepilot_worker_job_run_seconds_sum", kind="run_case") > 0
    assert _value(samples, "casepilot_worker_queue_jobs", kind="run_case", status="queued") == 0
    assert _value(samples, "casepilot_worker_queue_jobs", kind="run_case", status="picked") == 0
    open_items = len(store.tasks(status="open"))
    assert _value(samples, "casepilot_inbox_open_items") == open_items == 1  # the senior review
    assert _value(samples, "casepilot_inbox_oldest_age_seconds") > 0


@pytest.mark.postgres
def test_one_endpoint_sums_every_worker_process_and_a_replaced_worker_takes_nothing_away(
        pg_url: str, tmp_path: Path) -> None:
    store, case_ids = _work_claims(pg_url, tmp_path, ["small"] * 5 + ["senior-review"])
    workers = Workers(pg_url, tmp_path / "workers.log", "--metrics-port", "0")
    workers.start(2)
    try:
        port = _port(workers.log)
        workers.wait_ready(2)
        _wait_stopped(store, case_ids)
        before = _scrape(port)
        _assert_adds_up(before, store, case_ids)

        victim = workers.ready()[0]
        os.kill(victim, signal.SIGKILL)  # replaced at once by the supervisor; its counts stay in the sums
        deadline = time.monotonic() + 120
        while victim in workers.children() or len(workers.ready()) < 2:
            assert time.monotonic() < deadline, workers.log.read_text()[-3000:]
            time.sleep(0.2)
        after = _scrape(port)
        for key in ("casepilot_steps_total", "casepilot_worker_jobs_picked_total"):
            assert _sum(after, key) == _sum(before, key) > 0, key

        (endpoint,) = set(workers.children()) - set(workers.ready())  # the supervisor's metrics child
        os.kill(endpoint, signal.SIGKILL)  # replaced too, on the same port (the supervisor holds the socket)
        while endpoint in workers.children() or len(workers.children()) < 3:
            assert time.monotonic() < deadline, workers.log.read_text()[-3000:]
            time.sleep(0.2)
        assert _sum(_scrape(port), "casepilot_steps_total") == _sum(before, "casepilot_steps_total")
    finally:
        assert workers.stop() == 0
        store.close()
    with pytest.raises(httpx.ConnectError):  # the endpoint went with the supervisor
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)


@pytest.mark.postgres
def test_a_single_worker_process_serves_its_own_metrics(pg_url: str, tmp_path: Path) -> None:
    store, case_ids = _work_claims(pg_url, tmp_path, ["small", "senior-review"])
    workers = Workers(pg_url, tmp_path / "worker.log", "--metrics-port", "0")
    workers.start(1)
    try:
        port = _port(workers.log)
        _wait_stopped(store, case_ids)
        _assert_adds_up(_scrape(port), store, case_ids)
    finally:
        assert workers.stop() == 0
        store.close()


def test_a_metrics_port_in_use_is_one_clear_line_before_any_work(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["worker", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none",
                                          "--metrics-port", str(port)])
    assert result.exit_code != 0
    assert f"cannot serve metrics on 127.0.0.1:{port}" in result.output
