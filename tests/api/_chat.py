"""What the chat tests share: asking a case over HTTP as the claims operator."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def ask(client: TestClient, case_id: str, message: str) -> dict[str, Any]:
    """``POST /cases/{id}/chat`` as olga (the operator); the answer's body, after checking it is a 200."""
    response = client.post(f"/cases/{case_id}/chat", json={"actor": "olga", "message": message})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
