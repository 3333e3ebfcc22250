"""Chat over HTTP and on the page is governed as the person who asks, with their roles (issue 14).

The orchestrator reviews a chat instruction with the asker's identity and roles; the API used
to hand it only ``"person:<name>"``, so the roles never reached the Governor.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from casepilot.agent.orchestrator import Orchestrator
from casepilot.api import chat as chat_api


def test_the_api_hands_chat_the_person_with_their_roles(client: TestClient, deployed: dict[str, Any],
                                                        orch: Orchestrator, monkeypatch: pytest.MonkeyPatch) -> None:
    started = client.post("/cases", json={"definition_key": "claim-triage",
                                          "variables": {"letter": "EUR 300 for the mirror.", "policy": "P"}})
    assert started.status_code == 201, started.text
    seen: list[Any] = []
    real_converse = chat_api.converse

    def spy(orch: Orchestrator, case_id: str, actor: str, message: str, **kw: Any) -> Any:
        seen.append((actor, kw.get("roles")))
        return real_converse(orch, case_id, actor, message, **kw)

    monkeypatch.setattr(chat_api, "converse", spy)
    response = client.post(f"/cases/{started.json()['id']}/chat",
                           json={"actor": "olga", "roles": ["claims operations"], "message": "What is the status?"})
    assert response.status_code == 200, response.text
    assert seen == [("person:olga", frozenset({"claims operations"}))]
