"""Typed fields of a human task over the JSON API (issue 18): a decision brings the values the
task declares (manifest ``human_tasks.<task>.fields``); every problem is listed in one 422 and
nothing changes; accepted values land typed in the task's result variable, text pseudonymised,
and the history records them."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from casepilot.agent.orchestrator import Orchestrator
from casepilot.demo.run import LETTERS

FIELDS = {
    "reason_code": {"type": "choice", "enum": ["documents ok", "fraud suspected", "other"]},
    "approved_amount": {"type": "number", "label": "Approved amount"},
    "instalments": {"type": "integer", "required": False},
    "paid_by": "date",
    "urgent": {"type": "boolean", "required": False},
    "note": {"type": "string", "required": False},
}


def with_fields(files: dict[str, str]) -> dict[str, str]:
    """The claim bundle with these typed fields on the senior analyst's review (instead of its own)."""
    manifest = yaml.safe_load(files["casepilot.yaml"])
    manifest["human_tasks"]["Senior analyst review"]["fields"] = FIELDS
    return {**files, "casepilot.yaml": yaml.safe_dump(manifest, sort_keys=False)}


@pytest.fixture
def review(client: TestClient, orch: Orchestrator, claim_files: dict[str, str]) -> tuple[str, str]:
    """(case id, inbox item id) of a claim waiting for the senior analyst's review."""
    assert client.post("/definitions", json={"files": with_fields(claim_files)}).status_code == 201
    case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-1"}, "CLM-T")
    orch.run(case.id)
    (task,) = orch.pending(case.id)
    return case.id, task.id


def _decide(client: TestClient, task_id: str, values: dict[str, Any], **extra: Any) -> Any:
    body = {"actor": "Ann", "roles": ["senior analyst"], "choice": "approve", "values": values, **extra}
    return client.post(f"/inbox/{task_id}/decision", json=body)


def test_an_item_tells_which_fields_it_takes(client: TestClient, orch: Orchestrator, review: tuple[str, str]) -> None:
    _, task_id = review
    declared = client.get(f"/inbox/{task_id}/fields").json()
    assert list(declared) == ["reason_code", "approved_amount", "instalments", "paid_by", "urgent", "note"]
    assert declared["reason_code"] == {"type": "choice", "required": True,
                                       "enum": ["documents ok", "fraud suspected", "other"], "label": None}
    assert declared["instalments"]["required"] is False and declared["paid_by"]["type"] == "date"
    assert client.get("/inbox/nope/fields").status_code == 404
    assert _decide(client, task_id, {"reason_code": "other", "approved_amount": 1, "paid_by": "2026-01-01"}).status_code == 200
    assert client.get(f"/inbox/{task_id}/fields").json() == {}  # decided: nothing more to bring


def test_every_problem_is_listed_and_nothing_changes(client: TestClient, orch: Orchestrator,
                                                     review: tuple[str, str]) -> None:
    case_id, task_id = review
    last = orch.store.case(case_id).last_seq
    response = _decide(client, task_id, {"reason_code": "lost", "approved_amount": "800", "instalments": 2.5,
                                         "paid_by": "31.12.2026", "urgent": "yes", "typo": 1})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "InvalidTaskValues"
    assert sorted(body["problems"]) == sorted([
        "reason_code: must be one of documents ok, fraud suspected, other",
        "approved_amount: must be a number",
        "instalments: must be a whole number",
        "paid_by: must be a date written YYYY-MM-DD",
        "urgent: must be true or false",
        "typo: not a field of this task (its fields: reason_code, approved_amount, instalments, paid_by, urgent, note)",
    ])
    missing = _decide(client, task_id, {}).json()["problems"]
    assert sorted(missing) == ["approved_amount: required (number)", "paid_by: required (date)",
                               "reason_code: required (choice)"]
    assert orch.store.task(task_id).status == "open"
    assert orch.store.case(case_id).last_seq == last  # nothing recorded


def test_values_land_typed_in_the_result_and_the_history(client: TestClient, orch: Orchestrator,
                                                         review: tuple[str, str]) -> None:
    case_id, task_id = review
    values = {"reason_code": "documents ok", "approved_amount": 812.5, "instalments": 3.0,
              "paid_by": "2026-12-31", "urgent": True, "note": "Called Maria Schneider, she confirmed the repair."}
    response = _decide(client, task_id, values, comment="fine")
    assert response.status_code == 200, response.text
    engine = orch.runtime.load(case_id).engine
    assert engine is not None
    result = engine.variables()["review"]
    assert result["decision"] == "approve" and result["comment"] == "fine"
    assert result["by"].startswith("<PERSON_")  # the decider, pseudonymised as before
    assert (result["reason_code"], result["approved_amount"], result["instalments"], result["paid_by"],
            result["urgent"]) == ("documents ok", 812.5, 3, "2026-12-31", True)
    assert type(result["instalments"]) is int
    assert "Maria Schneider" not in result["note"] and "<PERSON_" in result["note"]  # pseudonymised like a comment
    recorded = [e.payload for e in orch.store.history(case_id) if "812.5" in str(e.payload)]
    assert recorded, "the values are in the history"
    assert all("Maria Schneider" not in str(p) for p in recorded)


def test_values_where_none_are_declared_are_refused(client: TestClient, orch: Orchestrator,
                                                    claim_files: dict[str, str]) -> None:
    manifest = yaml.safe_load(claim_files["casepilot.yaml"])
    manifest["human_tasks"]["Senior analyst review"].pop("fields", None)
    plain = {**claim_files, "casepilot.yaml": yaml.safe_dump(manifest, sort_keys=False)}
    assert client.post("/definitions", json={"files": plain}).status_code == 201
    case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-1"}, "CLM-N")
    orch.run(case.id)
    (task,) = orch.pending(case.id)
    response = _decide(client, task.id, {"amount": 1})
    assert response.status_code == 422
    assert response.json()["problems"] == ["amount: this task declares no fields"]
    assert _decide(client, task.id, {}).status_code == 200  # without values: as before


def test_a_decision_without_required_values_is_refused_on_every_path(orch: Orchestrator, client: TestClient,
                                                                     review: tuple[str, str]) -> None:
    from casepilot.agent.orchestrator import Person
    from casepilot.agent.task_fields import InvalidTaskValues

    case_id, task_id = review
    with pytest.raises(InvalidTaskValues, match="3 problem"):
        orch.decide(task_id, Person("Ann", frozenset({"senior analyst"})), "approve")  # e.g. the CLI
    assert orch.store.task(task_id).status == "open"
    assert [t.id for t in orch.pending(case_id)] == [task_id]
