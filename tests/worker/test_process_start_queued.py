"""A BPMN process started on its own behind ``casepilot serve`` with workers: the request only
creates the case (202) and queues its run — none of the process's service calls happens in the
request — and a worker starts the process, governed, and works it to its end.

The claims bundle's guardrail reads the claim's confidence and sentiment, which a payment
started on its own does not have: the payment waits for the operator role (fail closed), whose
approval lets the worker pay — once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from casepilot.agent.orchestrator import Orchestrator
from casepilot.api import app_from_settings
from casepilot.api.settings import ApiSettings
from casepilot.store import Store
from casepilot.worker.runner import WorkerSettings, worker_for
from tests._claims import PAY_TO
from tests.worker import _tools
from tests.worker.conftest import libpq

pytestmark = pytest.mark.postgres

PAYMENT = {"claim_id": "CLM-PQ-1", **PAY_TO, "claim": {"amount": 640, "currency": "EUR"}}


@pytest.fixture
def client(pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[TestClient]:
    monkeypatch.setenv(_tools.ENV_URL, libpq(pg_url))
    with TestClient(app_from_settings(ApiSettings(database_url=pg_url, registry=_tools.registry), queue=True)) as c:
        folder = _tools.claims_bundle(tmp_path / "claims")
        files = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if p.is_file()}
        assert c.post("/definitions", json={"files": files}).status_code == 201
        yield c


def _kinds(client: TestClient, location: str) -> list[str]:
    return [e["kind"] for e in client.get(f"{location}/history", params={"limit": 500}).json()["events"]]


def test_the_request_starts_nothing_and_a_worker_pays(pg_url: str, client: TestClient) -> None:
    response = client.post("/cases", json={"definition_key": "claim-triage", "process": "payment", "variables": PAYMENT})
    assert response.status_code == 202, response.text
    body, location = response.json(), response.headers["location"]
    assert (body["kind"], body["process"], body["state"]) == ("process", "payment", "active")
    assert body["processes"] == []  # not started in the request
    kinds = _kinds(client, location)
    assert "tool_call_started" not in kinds and "verdict" not in kinds, kinds

    store = Store.from_url(pg_url)
    orch = Orchestrator(store, _tools.registry(), lease_wait=2.0)
    work = worker_for(store, orch, WorkerSettings())
    thread = threading.Thread(target=lambda: asyncio.run(work.serve()), daemon=True)
    thread.start()
    try:
        approved: list[str] = []
        for _ in range(5):  # every service call waits for the operator (the guardrail's inputs are missing)
            outcome = client.post(f"{location}/run", params={"wait": 90}).json()
            if outcome["reason"] != "waiting_for_people":
                break
            [task] = outcome["pending"]
            assert task["role"] == "claims operations" and "missing its input" in task["prompt"], task
            approved.append(task["plan_item"])
            decided = client.post(f"/inbox/{task['id']}/decision", params={"wait": 90}, json={
                "actor": "olga", "roles": ["claims operations"], "choice": "approve"})
            assert decided.status_code == 200, decided.text
        assert (outcome["reason"], outcome["case_state"]) == ("completed", "completed"), outcome
        assert approved == ["validate", "pay", "confirm"] or approved == ["pay", "confirm"], approved
    finally:
        work.stopping.set()
        thread.join(60)
        orch.close()
        store.close()
    assert not thread.is_alive()
    history = client.get(f"{location}/history", params={"limit": 500}).json()["events"]
    started = [e for e in history if e["kind"] == "verdict" and str(e["payload"].get("action")).startswith("process:")]
    assert [e["actor"] for e in started] == ["agent"], "the worker's agent started the process, governed, once"
    paid = [e for e in history if e["kind"] == "tool_call_completed" and e["payload"].get("tool") == "pay_claim"]
    with psycopg.connect(libpq(pg_url)) as conn:
        transfers = conn.execute("SELECT count(*) FROM tool_runs WHERE tool = 'pay_claim' AND reference = %s",
                                 ("CLM-PQ-1",)).fetchone()
    assert len(paid) == 1 and transfers == (1,)
    assert client.get(f"{location}/verify").json()["ok"]
