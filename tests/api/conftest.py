"""Fixtures of the HTTP API tests: the real app over a real orchestrator and a SQLite file in
``tmp_path``, planning offline with the RulePlanner (no network)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.api import create_app
from casepilot.demo.run import EXAMPLE, demo_registry
from casepilot.store import Store
from casepilot.tools import ToolRegistry


@pytest.fixture(scope="session")
def registry() -> ToolRegistry:
    return demo_registry()


@pytest.fixture(scope="session")
def claim_files() -> dict[str, str]:
    """The files of examples/claims as an upload would send them (top-level files only)."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(EXAMPLE.iterdir()) if p.is_file()}


@pytest.fixture
def orch(tmp_path: Path, registry: ToolRegistry) -> Iterator[Orchestrator]:
    store = Store.from_url(f"sqlite:///{tmp_path / 'api.db'}")
    orchestrator = Orchestrator(store, registry, RulePlanner())
    yield orchestrator
    orchestrator.close()
    store.close()


@pytest.fixture
def client(orch: Orchestrator) -> Iterator[TestClient]:
    with TestClient(create_app(orch)) as test_client:
        yield test_client


@pytest.fixture
def deployed(client: TestClient, claim_files: dict[str, str]) -> dict[str, object]:
    response = client.post("/definitions", json={"files": claim_files})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body
