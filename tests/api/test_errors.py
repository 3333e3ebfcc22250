"""Bad input is a 4xx with ``{"error", "detail", "problems"}`` a user can act on — never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from casepilot.agent.orchestrator import Orchestrator
from casepilot.api import create_app
from casepilot.errors import (
    CasepilotError,
    ConcurrencyConflict,
    DecisionRejected,
    DefinitionError,
    GovernanceBlocked,
    NotFound,
)

UNKNOWN = "00000000-0000-0000-0000-000000000000"


def _error(response: Any, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "detail", "problems"}
    assert body["error"] == kind
    assert body["detail"]
    return body


@pytest.mark.parametrize(("method", "path", "payload"), [
    ("get", f"/cases/{UNKNOWN}", None),
    ("post", f"/cases/{UNKNOWN}/run", {"max_steps": 3}),
    ("get", f"/cases/{UNKNOWN}/history", None),
    ("get", f"/cases/{UNKNOWN}/verify", None),
    ("post", f"/cases/{UNKNOWN}/chat", {"actor": "ann", "message": "status?"}),
    ("post", f"/inbox/{UNKNOWN}/decision", {"actor": "ann", "roles": [], "choice": "approve"}),
])
def test_unknown_ids_are_404(client: TestClient, method: str, path: str, payload: dict[str, Any] | None) -> None:
    response = client.request(method.upper(), path, json=payload)
    body = _error(response, 404, "NotFound")
    assert UNKNOWN in body["detail"]


def test_starting_an_undeployed_definition_is_404(client: TestClient) -> None:
    body = _error(client.post("/cases", json={"definition_key": "nope"}), 404, "NotFound")
    assert "nope" in body["detail"]


@pytest.mark.parametrize(("path", "payload", "field"), [
    ("/cases", {"variables": {}}, "definition_key"),
    ("/cases", {"definition_key": "claim-triage", "variables": [1, 2]}, "variables"),
    ("/cases", {"definition_key": "claim-triage", "surprise": 1}, "surprise"),
    ("/definitions", {"files": {}}, "files"),
    ("/definitions", {"files": "casepilot.yaml"}, "files"),
    ("/definitions", {"files": {"../etc/passwd": "x"}}, "files"),
    ("/definitions", {"files": {".hidden": "x"}}, "files"),
])
def test_malformed_payloads_are_422(client: TestClient, path: str, payload: dict[str, Any], field: str) -> None:
    body = _error(client.post(path, json=payload), 422, "ValidationError")
    assert any(field in problem for problem in body["problems"])


def test_malformed_run_decision_and_chat_payloads_are_422(client: TestClient) -> None:
    _error(client.post(f"/cases/{UNKNOWN}/run", json={"max_steps": 0}), 422, "ValidationError")
    _error(client.post(f"/cases/{UNKNOWN}/run", json={"max_steps": "many"}), 422, "ValidationError")
    _error(client.post(f"/inbox/{UNKNOWN}/decision", json={"actor": "ann"}), 422, "ValidationError")
    _error(client.post(f"/cases/{UNKNOWN}/chat", json={"actor": "ann", "message": ""}), 422, "ValidationError")
    _error(client.get(f"/cases/{UNKNOWN}/history", params={"limit": 0}), 422, "ValidationError")
    not_json = client.post("/cases", content=b"{not json", headers={"content-type": "application/json"})
    _error(not_json, 400, "InvalidJSON")


def test_bundle_with_broken_cmmn_is_422_naming_the_file(client: TestClient, claim_files: dict[str, str]) -> None:
    files = dict(claim_files)
    files["claim-triage.cmmn"] = files["claim-triage.cmmn"][: len(files["claim-triage.cmmn"]) // 2]
    body = _error(client.post("/definitions", json={"files": files}), 422, "DefinitionError")
    assert body["problems"]
    assert any("claim-triage.cmmn" in problem for problem in body["problems"])
    assert client.get("/definitions").json() == []  # nothing deployed


def test_bundle_with_several_problems_lists_each(client: TestClient, claim_files: dict[str, str]) -> None:
    """A binding to a tool the registry lacks and a second one: every problem comes back at once."""
    files = dict(claim_files)
    bindings = files["bindings.yaml"]
    assert "extract_claim" in bindings and "sentiment" in bindings
    files["bindings.yaml"] = bindings.replace("extract_claim", "no_such_tool_a").replace(
        "tool: sentiment", "tool: no_such_tool_b")
    body = _error(client.post("/definitions", json={"files": files}), 422, "DefinitionError")
    joined = "\n".join(body["problems"])
    assert "no_such_tool_a" in joined
    assert "no_such_tool_b" in joined
    assert len(body["problems"]) >= 2


def test_bundle_without_manifest_or_model_is_422(client: TestClient, claim_files: dict[str, str]) -> None:
    no_manifest = {k: v for k, v in claim_files.items() if k != "casepilot.yaml"}
    body = _error(client.post("/definitions", json={"files": no_manifest}), 422, "DefinitionError")
    assert "casepilot.yaml" in body["detail"]
    no_model = {k: v for k, v in claim_files.items() if not k.endswith(".cmmn")}
    body = _error(client.post("/definitions", json={"files": no_model}), 422, "DefinitionError")
    assert "claim-triage.cmmn" in body["detail"]
    bad_yaml = {**claim_files, "casepilot.yaml": "key: [unclosed"}
    _error(client.post("/definitions", json={"files": bad_yaml}), 422, "DefinitionError")


def test_bundle_errors_name_files_not_server_paths(client: TestClient, claim_files: dict[str, str]) -> None:
    """The upload is written to a private temp folder; its path must not leak into the answer."""
    files = {**claim_files, "claim-triage.cmmn": claim_files["claim-triage.cmmn"][:400]}
    body = _error(client.post("/definitions", json={"files": files}), 422, "DefinitionError")
    assert body["detail"].startswith("claim-triage.cmmn:")
    assert all(p.startswith("claim-triage.cmmn:") for p in body["problems"])
    assert "casepilot-bundle-" not in str(body)


@pytest.mark.parametrize(("error", "status"), [
    (GovernanceBlocked("the guardrail forbids payments over EUR 10,000", rule_ids=["r1"]), 403),
    (ConcurrencyConflict("another worker updated case c1; reload and retry"), 409),
    (NotFound("no case c1"), 404),
    (DefinitionError("bad model", file="m.cmmn", line=3), 422),
    (DecisionRejected("already decided"), 409),
])
def test_typed_errors_map_to_statuses(orch: Orchestrator, error: CasepilotError, status: int) -> None:
    """Whatever endpoint raises them, casepilot's errors come back with their status and message."""
    app = create_app(orch)

    @app.get("/boom")
    def boom() -> None:
        raise error

    with TestClient(app) as client:
        body = _error(client.get("/boom"), status, type(error).__name__)
    assert body["detail"] == str(error)


def test_oversized_bodies_are_refused_before_anything_reads_them(orch: Orchestrator) -> None:
    with TestClient(create_app(orch, max_body_bytes=2_000)) as small:
        big = {"files": {"casepilot.yaml": "x" * 5_000}}
        declared = small.post("/definitions", json=big)
        assert declared.status_code == 413
        assert declared.json()["error"] == "PayloadTooLarge" and "2000 bytes" in declared.json()["detail"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams
            yield b'{"files": {"casepilot.yaml": "'
            for _ in range(10):
                yield b"y" * 500
            yield b'"}}'

        streamed = small.post("/definitions", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413
        assert orch.store.definitions() == []
        assert small.get("/definitions").status_code == 200  # small requests go through
        assert small.post("/cases", json={"definition_key": "nope"}).status_code == 404
