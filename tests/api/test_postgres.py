"""The service on PostgreSQL, built from settings as `casepilot serve --db postgresql+psycopg://…` builds it."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from casepilot.api import app_from_settings
from casepilot.api.settings import ApiSettings
from casepilot.demo.run import LETTERS
from casepilot.store import Store
from tests._postgres import require_postgres, throwaway_database


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    server = require_postgres()  # a missing server fails the test, never skips it
    with throwaway_database(server, "casepilot_api") as name:
        yield server.sqlalchemy_url(name)


@pytest.mark.postgres
def test_claims_are_worked_and_decided_over_http_on_postgresql(pg_url: str, claim_files: dict[str, str]) -> None:
    with TestClient(app_from_settings(ApiSettings(database_url=pg_url))) as client:
        assert client.post("/definitions", json={"files": claim_files}).status_code == 201
        started: list[dict[str, Any]] = [
            client.post("/cases", json={"definition_key": "claim-triage", "business_key": f"PG-{i}",
                                        "variables": {"letter": LETTERS[letter], "policy": "POL-PG"}}).json()
            for i, letter in enumerate(["straight-through", "senior-review", "straight-through"])
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
            assert calls == {"extract_claim": 1, "sentiment": 1, "approve_payment": 1}, calls
            assert store.verify(case["id"]).ok
