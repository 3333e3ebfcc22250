"""The app factory, the OpenAPI document and ``casepilot serve``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from casepilot.agent.orchestrator import Orchestrator
from casepilot.api import ApiSettings, app_from_settings, create_app
from casepilot.api._body import JsonRoute
from casepilot.cli import app as cli_app


def test_app_from_settings_owns_its_store(tmp_path: Path, claim_files: dict[str, str]) -> None:
    """Two apps built from settings are independent: no state is shared through module globals."""
    first = app_from_settings(ApiSettings(database_url=f"sqlite:///{tmp_path / 'a.db'}"))
    second = app_from_settings(ApiSettings(database_url=f"sqlite:///{tmp_path / 'b.db'}"))
    with TestClient(first) as a, TestClient(second) as b:
        assert a.post("/definitions", json={"files": claim_files}).status_code == 201
        assert [d["key"] for d in a.get("/definitions").json()] == ["claim-triage"]
        assert b.get("/definitions").json() == []
    assert (tmp_path / "a.db").exists()


def test_openapi_documents_the_endpoints(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/definitions", "/cases", "/cases/{case_id}", "/cases/{case_id}/run",
                 "/cases/{case_id}/history", "/cases/{case_id}/verify", "/cases/{case_id}/chat",
                 "/inbox", "/inbox/{task_id}/decision"):
        assert path in paths, path
    decision = paths["/inbox/{task_id}/decision"]["post"]
    assert {"200", "403", "404", "409", "422"} <= set(decision["responses"])
    assert {"StartCaseIn", "CaseSummary", "RunOutcomeOut", "DecisionIn", "ErrorBody"} <= set(
        schema["components"]["schemas"])


def test_every_operation_declares_its_errors_with_the_body_it_sends(client: TestClient) -> None:
    """Clients and schema checkers read the statuses from the document: each error a route can
    answer is there, with ``ErrorBody`` — not FastAPI's default 422 body, which is never sent."""
    schema = client.get("/openapi.json").json()
    assert not {"HTTPValidationError", "ValidationError"} & set(schema["components"]["schemas"])
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            needed = {"401", "422", "503"} | ({"400", "413"} if "requestBody" in operation else set())
            assert needed <= set(responses), (method, path, needed - set(responses))
            for status, response in responses.items():
                if status[0] in "45":
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


def test_every_api_route_checks_its_body_before_anything_reads_it(orch: Orchestrator) -> None:
    """A route added without ``JsonRoute`` would take lone surrogates and 65-bit integers again."""
    routes = [context.original_route for context in iter_route_contexts(create_app(orch).routes)]
    api = [route for route in routes if isinstance(route, APIRoute) and route.include_in_schema]
    assert len(api) >= 15
    assert [route.path for route in api if not isinstance(route, JsonRoute)] == []


@pytest.mark.parametrize(("variables", "kept"), [
    ({"x": 2**63 - 1, "y": -(2**63), "z": [1.5, None, True, {"a": "text"}]}, True),
    ({"x": 2**63}, False),
    ({"x": -(2**63) - 1}, False),
    ({"x": 1e19}, False),
    ({"x": ["a\x00b"]}, False),
    ({"a\x00": 1}, False),
])
def test_the_published_schema_accepts_what_the_service_keeps(
        client: TestClient, deployed: dict[str, Any], variables: dict[str, Any], kept: bool) -> None:
    """The request schemas state the body rules (64-bit numbers, no NUL), so a schema-valid body is kept."""
    document = client.get("/openapi.json").json()
    validator = Draft202012Validator({"$ref": "#/components/schemas/StartCaseIn", **document})
    body = {"definition_key": "claim-triage", "variables": variables}
    assert validator.is_valid(body) is kept
    assert client.post("/cases", json=body).status_code == (201 if kept else 422)


def test_serve_help() -> None:
    result = CliRunner().invoke(cli_app, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--db", "--host", "--port"):
        assert option in result.output
