"""Behind a sign-on proxy the proxy's headers say who acts; without one, requests must say it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from casepilot.agent.orchestrator import Orchestrator
from casepilot.api import create_app
from casepilot.api.identity import TrustedHeaders
from casepilot.cli import app as cli_app
from casepilot.demo.run import EXAMPLE, LETTERS

ANN = {"X-Forwarded-User": "ann", "X-Forwarded-Groups": "senior analyst, team lead"}
OPS = {"X-Forwarded-User": "otto", "X-Forwarded-Groups": "claims operations"}


@pytest.fixture
def waiting(orch: Orchestrator) -> tuple[str, str]:
    """A claim waiting for a senior analyst: (case id, task id)."""
    orch.deploy(EXAMPLE)
    case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-1"})
    orch.run(case.id)
    (task,) = orch.pending()
    return case.id, task.id


@pytest.fixture
def proxied(orch: Orchestrator) -> Iterator[TestClient]:
    with TestClient(create_app(orch, identity=TrustedHeaders())) as client:
        yield client


def _decided_by(orch: Orchestrator, case_id: str) -> list[str]:
    return [e.actor for e in orch.store.history(case_id) if e.kind == "human_task_decided"]


def test_the_proxy_headers_say_who_decides(proxied: TestClient, orch: Orchestrator, waiting: tuple[str, str]) -> None:
    case_id, task_id = waiting
    response = proxied.post(f"/inbox/{task_id}/decision", json={"choice": "approve"}, headers=ANN)
    assert response.status_code == 200, response.text
    assert _decided_by(orch, case_id) == ["person:ann"]


@pytest.mark.parametrize(("body", "headers", "status", "error"), [
    ({"choice": "approve"}, {}, 401, "NotSignedIn"),
    ({"choice": "approve", "actor": "bob"}, ANN, 403, "IdentityMismatch"),
    ({"choice": "approve", "roles": ["senior analyst"]}, {"X-Forwarded-User": "carl"}, 403, "IdentityMismatch"),
    ({"choice": "approve"}, {"X-Forwarded-User": "carl", "X-Forwarded-Groups": "claims handler"}, 403,
     "DecisionRejected"),
])
def test_claims_the_proxy_did_not_make_are_refused(
    proxied: TestClient, orch: Orchestrator, waiting: tuple[str, str],
    body: dict[str, object], headers: dict[str, str], status: int, error: str,
) -> None:
    case_id, task_id = waiting
    response = proxied.post(f"/inbox/{task_id}/decision", json=body, headers=headers)
    assert (response.status_code, response.json()["error"]) == (status, error)
    assert _decided_by(orch, case_id) == []
    assert [t.id for t in orch.pending()] == [task_id]


def test_without_a_proxy_a_request_must_name_its_actor(client: TestClient, waiting: tuple[str, str]) -> None:
    _, task_id = waiting
    response = client.post(f"/inbox/{task_id}/decision", json={"choice": "approve", "roles": ["senior analyst"]})
    assert response.status_code == 422
    assert "actor" in response.json()["detail"]
    chat = client.post(f"/cases/{waiting[0]}/chat", json={"message": "status?"})
    assert chat.status_code == 422


def test_chat_is_recorded_as_the_signed_in_person(proxied: TestClient, orch: Orchestrator,
                                                  waiting: tuple[str, str]) -> None:
    case_id, _ = waiting
    assert proxied.post(f"/cases/{case_id}/chat", json={"message": "What is the status?"}).status_code == 401
    refused = proxied.post(f"/cases/{case_id}/chat", json={"message": "What is the status?"}, headers=ANN)
    assert refused.status_code == 403 and "claims operations" in refused.json()["detail"]  # a message may act
    reply = proxied.post(f"/cases/{case_id}/chat", json={"message": "What is the status?"}, headers=OPS)
    assert reply.status_code == 200
    asked = [e for e in orch.store.history(case_id) if e.kind == "chat_message" and e.actor != "agent"]
    assert [e.actor for e in asked] == ["person:otto"]


def test_the_page_shows_who_is_signed_in_and_asks_no_name(proxied: TestClient, orch: Orchestrator,
                                                          waiting: tuple[str, str]) -> None:
    case_id, task_id = waiting
    page = proxied.get("/ui/inbox", headers=ANN)
    assert "ann · senior analyst, team lead" in page.text
    assert 'name="actor"' not in page.text and 'name="roles"' not in page.text
    refused = proxied.post(f"/ui/inbox/{task_id}", data={"choice": "approve"})
    assert refused.status_code == 401 and "sign-on proxy" in refused.text
    done = proxied.post(f"/ui/inbox/{task_id}", data={"choice": "approve"}, headers=ANN, follow_redirects=False)
    assert done.status_code == 303
    assert _decided_by(orch, case_id) == ["person:ann"]


def test_serve_offers_the_proxy_headers() -> None:
    result = CliRunner().invoke(cli_app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--user-header" in result.output and "--roles-header" in result.output
