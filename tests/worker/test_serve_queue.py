"""``casepilot serve`` on PostgreSQL with workers: requests answer at once (202 and the case's URL),
``?wait=`` answers with the outcome once the case has stopped; a worker (here in a thread of
the test process) does the work."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from casepilot.agent.orchestrator import Orchestrator
from casepilot.api import app_from_settings, queued
from casepilot.api.settings import ApiSettings
from casepilot.store import Store
from casepilot.worker.runner import WorkerSettings, worker_for
from tests._claims import claim
from tests.worker import _tools
from tests.worker.conftest import libpq

pytestmark = pytest.mark.postgres

SENIOR = {"actor": "ann", "roles": ["senior analyst"]}


@pytest.fixture
def client(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv(_tools.ENV_URL, libpq(pg_url))
    with TestClient(app_from_settings(ApiSettings(database_url=pg_url, registry=_tools.registry), queue=True)) as c:
        yield c


@pytest.fixture
def worker(pg_url: str, client: TestClient) -> Iterator[None]:
    """One worker, in a thread, on the same database (started after the app installed the queue)."""
    store = Store.from_url(pg_url)
    orch = Orchestrator(store, _tools.registry(), lease_wait=2.0)
    work = worker_for(store, orch, WorkerSettings())
    thread = threading.Thread(target=lambda: asyncio.run(work.serve()), daemon=True)
    thread.start()
    yield
    work.stopping.set()
    thread.join(60)
    orch.close()
    store.close()
    assert not thread.is_alive()


def _claims(client: TestClient, tmp_path: Path) -> None:
    folder = _tools.claims_bundle(tmp_path / "claims")
    files = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if p.is_file()}
    assert client.post("/definitions", json={"files": files}).status_code == 201


def _start(client: TestClient, letter: str, ref: str, wait: float = 0) -> tuple[int, dict[str, object], str]:
    """Start a claim (``letter``: ``"small"``, paid without a person, or a demo letter's label)."""
    response = client.post("/cases", params={"wait": wait} if wait else None, json={
        "definition_key": "claim-triage", "variables": claim(letter, ref)})
    return response.status_code, response.json(), response.headers.get("location", "")


def test_start_answers_202_at_once_and_the_worker_runs_the_case(client: TestClient, tmp_path: Path) -> None:
    _claims(client, tmp_path)
    status, body, location = _start(client, "small", "Q-1")
    assert (status, location, body["state"]) == (202, f"/cases/{body['id']}", "active")  # no worker yet: still queued
    run = client.post(f"{location}/run")
    assert run.status_code == 202 and run.json()["reason"] == "queued" and run.headers["location"] == location


def test_wait_answers_with_the_outcome(client: TestClient, worker: None, tmp_path: Path) -> None:
    _claims(client, tmp_path)
    status, body, location = _start(client, "small", "Q-2", wait=60)
    assert (status, body["state"]) == (201, "completed"), body
    status, body, location = _start(client, "senior-review", "Q-3", wait=60)
    assert status == 201 and body["state"] == "active"
    open_tasks = body["open_tasks"]
    assert isinstance(open_tasks, list)
    (task,) = open_tasks
    assert task["role"] == "senior analyst"
    decided = client.post(f"/inbox/{task['id']}/decision", params={"wait": 60}, json={**SENIOR, "choice": "approve"})
    assert decided.status_code == 200 and decided.headers["location"] == location
    assert client.get(location).json()["state"] == "completed"
    again = client.post(f"{location}/run", params={"wait": 60})
    assert again.status_code == 200 and again.json()["reason"] == "completed", again.text


def test_without_wait_the_answer_comes_before_the_work(client: TestClient, worker: None, tmp_path: Path) -> None:
    _claims(client, tmp_path)
    status, _body, location = _start(client, "small", "Q-4")
    assert status == 202
    deadline = time.monotonic() + 60
    while client.get(location).json()["state"] != "completed":
        assert time.monotonic() < deadline, "the worker did not complete the case"
        time.sleep(0.1)


def test_a_queued_answer_gives_the_case_state_as_it_is(client: TestClient, pg_url: str, tmp_path: Path) -> None:
    """No worker: a run asked for a case already completed answers ``queued`` with ``completed``."""
    _claims(client, tmp_path)
    _status, body, location = _start(client, "small", "Q-5")
    with Store.from_url(pg_url) as store:
        orch = Orchestrator(store, _tools.registry(), lease_wait=2.0)
        try:
            assert orch.run(str(body["id"])).case_state == "completed"
        finally:
            orch.close()
    run = client.post(f"{location}/run")
    assert run.status_code == 202 and run.json()["reason"] == "queued"
    assert run.json()["case_state"] == "completed"


def test_when_enough_requests_wait_another_answers_at_once(client: TestClient, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A waiting request holds a server thread: beyond ``MAX_WAITERS`` a request does not wait (no worker
    runs here, so a request that waits polls the queue until its ``?wait=`` is over)."""
    _claims(client, tmp_path)
    polls: list[str] = []
    real = queued._stopped

    def counted(orch: Orchestrator, case_id: str, jobs: object) -> bool:
        polls.append(case_id)
        return real(orch, case_id, jobs)

    monkeypatch.setattr(queued, "_stopped", counted)
    taken = [queued._WAITERS.acquire(blocking=False) for _ in range(queued.MAX_WAITERS)]
    try:
        assert all(taken)
        status, _body, _location = _start(client, "small", "Q-6", wait=60)
        assert status == 202 and polls == []  # answered at once: it never looked
    finally:
        for _ in taken:
            queued._WAITERS.release()
    status, body, _location = _start(client, "small", "Q-7", wait=0.5)
    assert status == 202 and len(polls) >= 2 and set(polls) == {body["id"]}  # a free slot: it waited, polling
