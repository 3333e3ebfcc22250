"""The service on PostgreSQL, built from settings as `casepilot serve --db postgresql+psycopg://…` builds it."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient

from casepilot.api import app_from_settings
from casepilot.api.settings import ApiSettings
from casepilot.store import Store
from tests._claims import claim


@pytest.mark.postgres
def test_claims_are_worked_and_decided_over_http_on_postgresql(pg_url: str, claim_files: dict[str, str]) -> None:
    with TestClient(app_from_settings(ApiSettings(database_url=pg_url))) as client:
        assert client.post("/definitions", json={"files": claim_files}).status_code == 201
        started: list[dict[str, Any]] = [
            client.post("/cases", json={"definition_key": "claim-triage", "business_key": f"PG-{i}",
                                        "variables": claim(letter, f"PG-{i}")}).json()
            for i, letter in enumerate(["small", "senior-review", "small"])  # small: paid without a manager
        ]
        answers: list[str] = []

        def run(case_id: str) -> None:
            answers.append(client.post(f"/cases/{case_id}/run").json()["reason"])

        threads = [threading.Thread(target=run, args=(c["id"],)) for c in started for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert Counter(answers) == {"completed": 4, "waiting_for_people": 2}
        (task,) = client.get("/inbox").json()
        decided = client.post(f"/inbox/{task['id']}/decision",
                              json={"actor": "ann", "roles": ["senior analyst"], "choice": "approve"})
        assert decided.status_code == 200, decided.text
        assert client.post(f"/cases/{task['case_id']}/run").json()["reason"] == "completed"

    with Store.from_url(pg_url) as store:  # what the service left behind, read afresh
        for case in started:
            history = store.history(case["id"])
            calls = Counter(e.payload["tool"] for e in history if e.kind == "tool_call_completed")
            assert calls == {"extract_claim": 1, "sentiment": 1, "validate_payment": 1, "pay_claim": 1,
                             "send_payment_confirmation": 1, "bpmn:payment": 1}, calls
            assert store.verify(case["id"]).ok


@pytest.mark.postgres
def test_values_at_the_edge_are_kept_and_nul_is_refused_on_postgresql(pg_url: str, claim_files: dict[str, str]) -> None:
    """The API's body limits are what PostgreSQL keeps as well: the largest numbers, nesting and
    characters outside the BMP start, run and read back; a NUL (which PostgreSQL refuses) is 422."""
    deep: Any = []
    for _ in range(61):
        deep = [deep]
    edge = {"big": 2**63 - 1, "small": -(2**63), "deep": deep, "emoji": "\U0001f600 ok"}
    with TestClient(app_from_settings(ApiSettings(database_url=pg_url))) as client:
        assert client.post("/definitions", json={"files": claim_files}).status_code == 201
        started = client.post("/cases", json={"definition_key": "claim-triage", "business_key": "PG-EDGE",
                                              "variables": {**claim("small", "PG-EDGE"), **edge}})
        assert started.status_code == 201, started.text
        case_id = started.json()["id"]
        assert client.post(f"/cases/{case_id}/run").json()["reason"] == "completed"
        kept = client.get(f"/cases/{case_id}").json()["variables"]
        last_page = client.get(f"/cases/{case_id}/history", params={"after_seq": 2**31 - 1})
        assert last_page.status_code == 200 and last_page.json()["events"] == []
        assert client.get(f"/cases/{case_id}/history", params={"after_seq": 2**31}).status_code == 422  # was a 500
        assert {name: kept[name] for name in edge} == edge
        cases = client.get("/cases").json()
        refused = client.post("/cases", json={"definition_key": "claim-triage", "business_key": "PG-\x00"})
        assert refused.status_code == 422 and "NUL character" in refused.json()["detail"]
        for lookup in (client.get("/cases", params={"business_key": "PG-\x00"}), client.get("/cases/PG%00"),
                       client.get("/inbox", params={"case_id": "\x00"}), client.get("/ui/cases/PG%00")):
            assert lookup.status_code == 422 and "NUL character" in lookup.text  # was PostgreSQL's DataError: 500
        assert client.get("/cases").json() == cases  # the refused start wrote nothing
