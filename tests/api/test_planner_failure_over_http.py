"""A run that fails on the model endpoint says why over HTTP: the outcome's ``detail`` carries
the failure (HTTP status, message, endpoint, model) recorded in the history, in ``/run`` and
in the streamed ``outcome`` event alike. The model is the local scripted OpenAI stand-in,
answering 503 until the client's retries are spent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from casepilot.agent.llm_client import LLMClient
from casepilot.agent.llm_endpoints import EndpointSettings
from casepilot.agent.llm_planner import LLMPlanner
from casepilot.agent.orchestrator import Orchestrator
from casepilot.api import create_app
from casepilot.store import Store
from casepilot.tools import ToolRegistry
from tests._claims import claim
from tests._openai_server import Reply, ScriptedOpenAI, scripted_openai
from tests.agent.test_llm_e2e import PRICES  # the claim's budget limits cost: the model needs a price


@pytest.fixture
def server() -> Iterator[ScriptedOpenAI]:
    # one attempt and two retries per run; two runs (plain and streamed)
    with scripted_openai([Reply.error(503, "the model is overloaded")] * 6) as script:
        yield script


@pytest.fixture
def client(tmp_path: Path, registry: ToolRegistry, server: ScriptedOpenAI) -> Iterator[TestClient]:
    endpoints = {"default": EndpointSettings(base_url=server.url, max_retries=2, backoff=0.0)}
    planner = LLMPlanner(model="scripted-model", client=LLMClient(endpoints, sleep=lambda s: None), prices=PRICES)
    store = Store.from_url(f"sqlite:///{tmp_path / 'api.db'}")
    orch = Orchestrator(store, registry, planner)
    with TestClient(create_app(orch)) as test_client:
        yield test_client
    orch.close()
    store.close()


def _start(client: TestClient, claim_files: dict[str, str]) -> str:
    assert client.post("/definitions", json={"files": claim_files}).status_code == 201
    response = client.post("/cases", json={"definition_key": "claim-triage",
                                           "variables": claim("small", "CLM-1")})  # paid without a person
    assert response.status_code == 201, response.text
    case_id: str = response.json()["id"]
    return case_id


def _assert_names_the_failure(outcome: dict[str, Any], server: ScriptedOpenAI) -> None:
    assert outcome["reason"] == "planner_error", outcome
    detail = outcome["detail"]
    assert detail is not None
    assert detail["failure"]["status"] == 503
    assert detail["failure"]["message"] == "the model is overloaded"
    assert detail["failure"]["endpoint"] == "default"
    assert detail["failure"]["model"] == "scripted-model"
    assert "HTTP 503" in detail["problem"]
    assert isinstance(detail["seq"], int)


def test_run_outcome_names_the_status_and_the_endpoint(client: TestClient, server: ScriptedOpenAI,
                                                       claim_files: dict[str, str]) -> None:
    case_id = _start(client, claim_files)
    response = client.post(f"/cases/{case_id}/run", json={"max_steps": 20})
    assert response.status_code == 200, response.text
    _assert_names_the_failure(response.json(), server)
    assert len(server.received) == 3  # the attempt and both retries, then the run stopped
    # the same failure is the history's planner error event
    history = client.get(f"/cases/{case_id}/history").json()["events"]
    errors = [e for e in history if e["kind"] == "error" and e["payload"].get("source") == "planner"]
    assert errors[-1]["seq"] == response.json()["detail"]["seq"]


def test_streamed_outcome_names_the_failure_too(client: TestClient, server: ScriptedOpenAI,
                                                claim_files: dict[str, str]) -> None:
    case_id = _start(client, claim_files)
    with client.stream("POST", f"/cases/{case_id}/run/stream", json={"max_steps": 20}) as response:
        text = "".join(response.iter_text())
    blocks = [b for b in text.split("\n\n") if b.startswith("event: outcome")]
    assert len(blocks) == 1
    outcome = json.loads(blocks[0].split("data: ", 1)[1])
    _assert_names_the_failure(outcome, server)


def test_an_outcome_without_failure_has_no_detail(tmp_path: Path, registry: ToolRegistry,
                                                   claim_files: dict[str, str]) -> None:
    from casepilot.agent.rule_planner import RulePlanner

    store = Store.from_url(f"sqlite:///{tmp_path / 'offline.db'}")
    orch = Orchestrator(store, registry, RulePlanner())
    with TestClient(create_app(orch)) as offline:
        case_id = _start(offline, claim_files)
        outcome = offline.post(f"/cases/{case_id}/run", json={"max_steps": 50}).json()
    orch.close()
    store.close()
    assert outcome["reason"] == "completed" and outcome["detail"] is None
