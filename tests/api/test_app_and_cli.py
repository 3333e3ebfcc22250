"""The app factory, the OpenAPI document and ``casepilot serve``."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from casepilot.api import ApiSettings, app_from_settings
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


def test_serve_help() -> None:
    result = CliRunner().invoke(cli_app, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--db", "--host", "--port"):
        assert option in result.output
