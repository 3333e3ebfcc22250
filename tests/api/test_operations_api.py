"""Operations on cases over HTTP (issue 16): the JSON API answers like the Python API — the
operator role, governance, the person as actor — and a start with missing or ill-typed
required variables is a 422 listing every problem."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from casepilot.agent.orchestrator import Orchestrator
from casepilot.demo.run import LETTERS

OPERATOR = {"actor": "otto", "roles": ["claims operations"]}


def _claim(client: TestClient) -> str:
    started = client.post("/cases", json={"definition_key": "claim-triage",
                                          "variables": {"letter": LETTERS["senior-review"], "policy": "POL-1"}})
    assert started.status_code == 201, started.text
    case_id: str = started.json()["id"]
    assert client.post(f"/cases/{case_id}/run", json={}).json()["reason"] == "waiting_for_people"
    return case_id


def test_suspend_refuses_work_until_resume_then_terminate(client: TestClient, deployed: object,
                                                          orch: Orchestrator) -> None:
    case_id = _claim(client)
    refused = client.post(f"/cases/{case_id}/suspend", json={"actor": "ann", "roles": ["senior analyst"],
                                                             "reason": "wait"})
    assert refused.status_code == 403 and refused.json()["error"] == "NotAuthorized"
    assert "claims operations" in refused.json()["detail"]

    done = client.post(f"/cases/{case_id}/suspend", json={**OPERATOR, "reason": "customer asked to wait"})
    assert done.status_code == 200 and done.json()["case_state"] == "suspended"
    run = client.post(f"/cases/{case_id}/run", json={})
    assert run.status_code == 409 and run.json()["error"] == "IllegalTransition" and "resume" in run.json()["detail"]
    again = client.post(f"/cases/{case_id}/suspend", json={**OPERATOR, "reason": "twice"})
    assert again.status_code == 409

    assert client.post(f"/cases/{case_id}/resume", json={**OPERATOR, "reason": "back"}).json()["case_state"] == "active"
    corrected = client.post(f"/cases/{case_id}/correct", json={**OPERATOR, "path": "policy", "value": "POL-2",
                                                                "reason": "typo"})
    assert corrected.status_code == 200 and corrected.json()["detail"]["new"] == "POL-2"
    assert corrected.json()["detail"]["old"] == "POL-1"
    (task,) = orch.pending(case_id)
    moved = client.post(f"/inbox/{task.id}/reassign", json={**OPERATOR, "role": "team lead"})
    assert moved.status_code == 200 and moved.json()["role"] == "team lead"
    assert client.post(f"/inbox/{task.id}/reassign", json=OPERATOR).status_code == 422  # neither role nor person
    ended = client.post(f"/cases/{case_id}/terminate", json={**OPERATOR, "reason": "duplicate"})
    assert ended.status_code == 200 and ended.json()["case_state"] == "terminated"
    assert orch.pending(case_id) == []
    actors = {e.actor for e in orch.store.history(case_id) if e.kind == "verdict" and e.payload.get("operation")}
    assert actors == {"person:otto"}


def test_retry_of_nothing_failed_is_422_with_the_failed_tasks(client: TestClient, deployed: object) -> None:
    case_id = _claim(client)
    answer = client.post(f"/cases/{case_id}/retry", json={**OPERATOR, "item": "Senior analyst review"})
    assert answer.status_code == 422 and "failed tasks: none" in answer.json()["detail"]
    assert answer.json()["error"] == "UnknownFailedTask"


def test_a_start_missing_required_variables_is_422_with_every_problem(client: TestClient,
                                                                     claim_files: dict[str, str]) -> None:
    files = dict(claim_files)
    files["casepilot.yaml"] += "\nstart:\n  required: {letter: string, policy: string, amount: number}\n"
    assert client.post("/definitions", json={"files": files}).status_code == 201
    refused = client.post("/cases", json={"definition_key": "claim-triage",
                                          "variables": {"letter": "hello", "amount": "lots"}})
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["error"] == "InvalidStartVariables"
    assert sorted(body["problems"]) == ["amount: must be a number, got string", "policy: required (string) but missing"]
    assert json.loads(client.get("/cases").text) == []
