"""``casepilot serve --in-process`` carries out a chat proposal that was confirmed for workers.

A proposal confirmed where workers work the cases is only recorded (``AgentFacts.chat_requests``:
the option, the person, their roles) with the case's run queued. If the next thing that works the
case is not a worker but a service working cases in the request (``serve --in-process`` on the same
PostgreSQL database), its ``POST /cases/{id}/run`` — and ``/run/stream`` — must carry the request
out first, once, governed and recorded as the confirming person with their recorded roles, and
answer it; a second run must not do it again.

Two real apps over one PostgreSQL database, both through FastAPI's TestClient: one in queue mode
(the confirmation), one in process (the run). No worker runs, so nothing else carries it out.
The claim is the demo's senior-review letter, waiting for a senior analyst; the offline chat
proposes "Request more documents", a discretionary human task the claims operations role plans.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.api import create_app
from casepilot.api.app import queued_orchestrator
from casepilot.demo.run import LETTERS, demo_registry
from casepilot.store import Store
from tests._postgres import require_postgres, throwaway_database

pytestmark = pytest.mark.postgres

OLGA = {"actor": "olga", "roles": ["claims operations"]}
LABEL = "Request more documents"


@pytest.fixture
def apps(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, TestClient, Store]]:
    """(queued app, in-process app, a store to inspect), over one throwaway PostgreSQL database."""
    for name in ("CASEPILOT_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)  # the offline chat: no model
    server = require_postgres()  # a missing server fails the test, never skips it
    with throwaway_database(server, "casepilot_chat_inproc") as name:
        url = server.sqlalchemy_url(name)
        stores = [Store.from_url(url) for _ in range(3)]
        queued = queued_orchestrator(Orchestrator(stores[0], demo_registry(), RulePlanner()))
        in_process = Orchestrator(stores[1], demo_registry(), RulePlanner())
        try:
            with TestClient(create_app(queued, queue=True)) as q, TestClient(create_app(in_process)) as i:
                yield q, i, stores[2]
        finally:
            queued.close()
            in_process.close()
            for store in stores:
                store.close()


def _waiting_claim(client: TestClient, claim_files: dict[str, str], reference: str) -> str:
    """Deploy (once) and start the senior-review claim in process; run it to the senior analyst."""
    if client.get("/definitions").json() == []:
        assert client.post("/definitions", json={"files": claim_files}).status_code == 201
    started = client.post("/cases", json={"definition_key": "claim-triage", "business_key": reference,
                                          "variables": {"letter": LETTERS["senior-review"], "policy": "POL-3"}})
    assert started.status_code == 201, started.text
    case_id = str(started.json()["id"])
    assert client.post(f"/cases/{case_id}/run", json={}).json()["reason"] == "waiting_for_people"
    return case_id


def _confirm_queued(client: TestClient, store: Store, case_id: str) -> str:
    """Ask for the proposal and confirm it on the queued app: recorded, not carried out."""
    asked = client.post(f"/cases/{case_id}/chat", json={**OLGA, "message": f"please plan {LABEL}"})
    assert asked.status_code == 200, asked.text
    proposal = asked.json()["proposal"]
    assert proposal is not None and proposal["label"] == LABEL, asked.json()
    confirmed = client.post(f"/cases/{case_id}/chat/proposals/{proposal['id']}/confirm", json=OLGA)
    assert confirmed.status_code == 202, confirmed.text
    assert confirmed.json()["outcome"] == "queued"
    [request] = store.case(case_id).state["agent"]["chat_requests"]
    assert (request["actor"], request["roles"]) == ("person:olga", ["claims operations"])
    assert _chat_plans(store, case_id) == []
    return str(proposal["id"])


def _chat_plans(store: Store, case_id: str) -> list[Any]:
    return [e for e in store.history(case_id) if e.kind == "plan" and e.payload.get("planner") == "chat"]


def _carried_out_once(store: Store, case_id: str, proposal: str) -> None:
    """Carried out once, as olga with her recorded roles, answered once, the request gone."""
    [plan] = _chat_plans(store, case_id)
    assert (plan.actor, plan.payload["label"]) == ("person:olga", LABEL)
    history = store.history(case_id)
    [verdict] = [e for e in history if e.kind == "verdict" and e.actor == "person:olga"]
    assert verdict.seq > plan.seq and verdict.payload["kind"] == "allow", verdict.payload
    answers = [e for e in history if e.kind == "chat_message" and e.payload.get("confirmed") == proposal]
    assert [a.payload["text"] for a in answers] == [f"Done: {LABEL} ({verdict.payload['reason']})."]
    planned = [e for e in history if e.kind == "transition" and e.payload.get("name") == LABEL
               and e.payload.get("transition") == "create"]
    assert len(planned) == 1 and planned[0].actor == "person:olga", [(e.actor, e.payload) for e in planned]
    assert [t.plan_item for t in store.tasks(case_id=case_id, status="open")
            if t.role == "claims handler"] == [LABEL]
    assert store.case(case_id).state["agent"].get("chat_requests", []) == []
    assert store.verify(case_id).ok


def test_post_run_in_process_carries_out_a_queued_confirmation_once(
    apps: tuple[TestClient, TestClient, Store], claim_files: dict[str, str]
) -> None:
    queued, in_process, store = apps
    case_id = _waiting_claim(in_process, claim_files, "CLM-INPROC-1")
    proposal = _confirm_queued(queued, store, case_id)

    ran = in_process.post(f"/cases/{case_id}/run", json={})
    assert ran.status_code == 200, ran.text
    assert ran.json()["reason"] == "waiting_for_people"
    _carried_out_once(store, case_id, proposal)

    again = in_process.post(f"/cases/{case_id}/run", json={})
    assert again.status_code == 200, again.text
    _carried_out_once(store, case_id, proposal)  # not a second time


def test_the_streaming_run_in_process_carries_it_out_too(
    apps: tuple[TestClient, TestClient, Store], claim_files: dict[str, str]
) -> None:
    queued, in_process, store = apps
    case_id = _waiting_claim(in_process, claim_files, "CLM-INPROC-2")
    proposal = _confirm_queued(queued, store, case_id)

    streamed = in_process.post(f"/cases/{case_id}/run/stream", json={})
    assert streamed.status_code == 200, streamed.text
    assert "event: outcome" in streamed.text and "event: error" not in streamed.text, streamed.text
    _carried_out_once(store, case_id, proposal)
