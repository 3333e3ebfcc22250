"""Chat over HTTP and on the page is governed as the person who asks, with their roles (issue 14).

The orchestrator reviews a chat instruction with the asker's identity and roles; the API used
to hand it only ``"person:<name>"``, so the roles never reached the Governor.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from casepilot.agent.orchestrator import Orchestrator, Person


def test_the_api_hands_chat_the_person_with_their_roles(client: TestClient, deployed: dict[str, Any],
                                                        orch: Orchestrator, monkeypatch: pytest.MonkeyPatch) -> None:
    started = client.post("/cases", json={"definition_key": "claim-triage",
                                          "variables": {"letter": "EUR 300 for the mirror.", "policy": "P"}})
    assert started.status_code == 201, started.text
    seen: list[Any] = []
    real_chat = orch.chat

    def spy(case_id: str, actor: Person | str, message: str) -> str:
        seen.append(actor)
        return real_chat(case_id, actor, message)

    monkeypatch.setattr(orch, "chat", spy)
    response = client.post(f"/cases/{started.json()['id']}/chat",
                           json={"actor": "olga", "roles": ["claims operations"], "message": "What is the status?"})
    assert response.status_code == 200, response.text
    assert len(seen) == 1 and isinstance(seen[0], Person)
    assert (seen[0].name, set(seen[0].roles)) == ("olga", {"claims operations"})
