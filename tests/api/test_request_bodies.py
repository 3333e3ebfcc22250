"""Request bodies casepilot cannot keep are refused at the door, whole, and nothing is written.

Each bad value used to pass the API and fail deeper: a lone surrogate in the PII detector
(500 at start), an integer beyond 64 bits or nesting past ~255 levels in the LangGraph
checkpointer (the case was stored, then every run failed: a case that can never run again),
a NUL character in PostgreSQL (500), NaN and 1e400 silently stored as null. Now each is a
422 naming where it is (or 400 when the body is not JSON), and values at the edge of what is
kept are accepted and the case runs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from casepilot.agent.orchestrator import Orchestrator
from casepilot.api import create_app
from casepilot.api.identity import TrustedHeaders
from casepilot.demo.run import LETTERS
from tests._claims import claim

INT_MAX, INT_MIN = 2**63 - 1, -(2**63)
NESTED_OK = 62
"""The deepest nesting a variable may hold: the body is level 0, ``variables`` level 1, a
variable's value starts at level 2, and level 64 is refused."""


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


BAD_VALUES = [
    # (id, JSON text of the value, status, what the answer says)
    ("lone-surrogate", '"\\ud800"', 422, "lone UTF-16 surrogate"),
    ("low-surrogate-in-text", '"ab\\udc00c"', 422, "lone UTF-16 surrogate"),
    ("int-2^63", str(2**63), 422, "64-bit range"),
    ("int-below-min", str(INT_MIN - 1), 422, "64-bit range"),
    ("int-2^64", str(2**64), 422, "64-bit range"),
    ("int-huge", "1" * 400, 422, "64-bit range"),
    ("float-overflow", "1e400", 422, "not finite"),
    ("float-beyond-64-bits", "1e19", 422, "64-bit range"),
    ("nul", '"a\\u0000b"', 422, "NUL character"),
    ("nested-too-deep", _nested(64), 422, "nested deeper than 64"),
    ("nested-past-the-parser", _nested(100_000), 422, "nested deeper than 64"),
    ("nan", "NaN", 400, "NaN is not a JSON number"),
    ("infinity", "-Infinity", 400, "-Infinity is not a JSON number"),
]


def _state(orch: Orchestrator) -> tuple[object, ...]:
    """What a refused request must leave as it was: definitions, cases, inbox items, every history."""
    cases = orch.store.cases()
    return ([(d.key, d.version) for d in orch.store.definitions()], [(c.id, c.version) for c in cases],
            [(t.id, t.status) for t in orch.store.tasks()],
            {c.id: [e.seq for e in orch.store.history(c.id, limit=10_000)] for c in cases})


def _post(client: TestClient, path: str, text: str, **headers: str) -> Any:
    return client.post(path, content=text.encode("utf-8"), headers={"content-type": "application/json", **headers})


@pytest.fixture
def waiting(client: TestClient, deployed: dict[str, Any]) -> tuple[str, str, str]:
    """A claim waiting for a senior analyst: (case id, task id, an action id)."""
    case = client.post("/cases", json={"definition_key": "claim-triage",
                                       "variables": {"letter": LETTERS["senior-review"], "policy": "POL-1"}}).json()
    outcome = client.post(f"/cases/{case['id']}/run").json()
    assert outcome["reason"] == "waiting_for_people"
    actions = client.get(f"/cases/{case['id']}/actions").json()
    return case["id"], outcome["pending"][0]["id"], actions[0]["id"]


def _bodies(value: str, ids: tuple[str, str, str]) -> list[tuple[str, str, str]]:
    """(path, body, where the value sits) for every endpoint that takes a body."""
    case_id, task_id, action_id = ids
    return [
        ("/cases", f'{{"definition_key": "claim-triage", "variables": {{"policy": {value}}}}}', "body.variables.policy"),
        ("/cases", f'{{"definition_key": "claim-triage", "variables": {{"list": [1, {value}]}}}}',
         "body.variables.list.1"),
        ("/cases", f'{{"definition_key": "claim-triage", "business_key": {value}}}', "body.business_key"),
        (f"/cases/{case_id}/chat", f'{{"actor": "ann", "message": {value}}}', "body.message"),
        (f"/cases/{case_id}/run", f'{{"max_steps": {value}}}', "body.max_steps"),
        (f"/cases/{case_id}/run/stream", f'{{"actor": {value}}}', "body.actor"),
        (f"/cases/{case_id}/actions/{action_id}", f'{{"actor": "ann", "roles": [{value}]}}', "body.roles.0"),
        (f"/cases/{case_id}/reveal", f'{{"actor": "ann", "roles": ["senior analyst", {value}]}}', "body.roles.1"),
        (f"/inbox/{task_id}/decision",
         f'{{"actor": "ann", "roles": ["senior analyst"], "choice": "approve", "comment": {value}}}', "body.comment"),
        ("/definitions", f'{{"files": {{"casepilot.yaml": {value}}}}}', "body.files.casepilot.yaml"),
    ]


@pytest.mark.parametrize(("value", "status", "says"), [pytest.param(v, s, w, id=i) for i, v, s, w in BAD_VALUES])
def test_values_casepilot_cannot_keep_are_refused_everywhere_and_nothing_is_written(
        client: TestClient, orch: Orchestrator, waiting: tuple[str, str, str], value: str, status: int,
        says: str) -> None:
    before = _state(orch)
    for path, body, where in _bodies(value, waiting):
        response = _post(client, path, body)
        assert response.status_code == status, (path, response.text)
        answer = response.json()
        assert set(answer) == {"error", "detail", "problems"}
        assert answer["error"] == ("ValidationError" if status == 422 else "InvalidJSON")
        assert says in answer["detail"], (path, answer)
        assert answer["problems"]
        if status == 422 and "nested" not in says:
            assert answer["problems"][0].startswith(f"{where}: "), (path, answer["problems"])
    assert _state(orch) == before, "a refused request wrote something"
    case_id, task_id, _ = waiting
    assert [t.id for t in orch.pending()] == [task_id]
    assert client.post(f"/cases/{case_id}/run").status_code == 200  # the case still runs


def test_a_lone_surrogate_as_a_name_is_refused_and_quoted_escaped(client: TestClient, orch: Orchestrator,
                                                                   deployed: dict[str, Any]) -> None:
    response = _post(client, "/cases", '{"definition_key": "claim-triage", "variables": {"\\ud800x": 1}}')
    assert response.status_code == 422
    assert response.json()["problems"][0].startswith("body.variables.\\ud800x (the name): contains a lone")
    assert orch.store.cases() == []


def test_values_at_the_edge_are_kept_and_the_case_runs(client: TestClient, orch: Orchestrator,
                                                       deployed: dict[str, Any]) -> None:
    """The limits refuse only what breaks: the largest numbers, the deepest nesting, a character
    outside the BMP written as an escaped surrogate pair, all start, run and read back."""
    edge = {"big": str(INT_MAX), "small": str(INT_MIN), "float": "9.2e18", "deep": _nested(NESTED_OK),
            "emoji": '"\\ud83d\\ude00 ok"', "text": '"line\\ttab\\u0001"'}
    variables = ", ".join(f'"{name}": {text}' for name, text in edge.items())
    form = json.dumps(claim("small", "CLM-9"))[1:-1]  # letter and claim form: paid without a claims manager
    response = _post(client, "/cases", f'{{"definition_key": "claim-triage", "business_key": "\\ud83d\\ude00", '
                                       f'"variables": {{{form}, {variables}}}}}')
    assert response.status_code == 201, response.text
    case_id = response.json()["id"]
    assert client.post(f"/cases/{case_id}/run").json()["reason"] == "completed"
    summary = client.get(f"/cases/{case_id}")
    assert summary.status_code == 200
    kept = summary.json()["variables"]
    assert (kept["big"], kept["small"], kept["emoji"], summary.json()["business_key"]) == (
        INT_MAX, INT_MIN, "\U0001f600 ok", "\U0001f600")
    depth, value = 0, kept["deep"]
    while value:
        depth, value = depth + 1, value[0]
    assert depth == NESTED_OK - 1  # the innermost list is empty
    assert client.get(f"/cases/{case_id}/verify").json()["ok"]


@pytest.mark.parametrize(("body", "says"), [
    (b"{not json", "Expecting property name"),
    (b'{"definition_key": "claim-triage"', "Expecting ',' delimiter"),
    (b'{"definition_key": "claim-triage"} trailing', "Extra data"),
    (b'{"definition_key": "\xff\xfe"}', "not UTF-8"),
])
def test_unparseable_json_is_400_in_the_error_shape(client: TestClient, orch: Orchestrator, body: bytes,
                                                    says: str) -> None:
    response = client.post("/cases", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    answer = response.json()
    assert set(answer) == {"error", "detail", "problems"} and answer["error"] == "InvalidJSON"
    assert says in answer["detail"] and "application/json" in answer["detail"]
    assert orch.store.cases() == []


def test_behind_a_proxy_an_anonymous_bad_body_is_401_first(orch: Orchestrator) -> None:
    """Signing in comes before the body: an anonymous caller learns nothing about what it sent."""
    with TestClient(create_app(orch, identity=TrustedHeaders())) as proxied:
        for body in ('{"definition_key": "\\ud800"}', "{not json"):
            response = _post(proxied, "/cases", body)
            assert (response.status_code, response.json()["error"]) == (401, "NotSignedIn")
        signed_in = _post(proxied, "/cases", '{"definition_key": "\\ud800"}', **{"X-Forwarded-User": "ann"})
        assert signed_in.status_code == 422


def test_the_frameworks_own_refusals_use_the_error_shape(client: TestClient) -> None:
    wrong_method = client.request("OPTIONS", "/definitions")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET, POST"  # both routes of the path, not the first one's
    assert wrong_method.json()["error"] == "MethodNotAllowed" and "use GET or POST" in wrong_method.json()["detail"]
    deleted = client.delete("/cases/abc")
    assert deleted.status_code == 405 and deleted.headers["allow"] == "GET"
    unknown = client.get("/no-such-route")
    assert unknown.status_code == 404
    assert set(unknown.json()) == {"error", "detail", "problems"} and "/docs" in unknown.json()["detail"]
    history = client.get("/cases/abc/history", params={"after_seq": 2**63})  # was a 500 from SQLite
    assert history.status_code == 422 and history.json()["error"] == "ValidationError"


@pytest.mark.parametrize("path", ["/cases?business_key=a%00", "/cases/a%00b", "/cases/a%00b/history",
                                  "/inbox?case_id=%00", "/definitions?key=k%00", "/ui/cases/a%00b", "/ui/inbox?role=%00"])
def test_a_nul_in_a_path_or_query_is_refused(client: TestClient, path: str) -> None:
    """PostgreSQL refuses a NUL in any query parameter (a 500 there); both backends answer 422 instead."""
    response = client.get(path)
    assert response.status_code == 422, response.text
    assert "NUL character" in response.text


def test_the_web_page_refuses_the_same_values(orch: Orchestrator, deployed: dict[str, Any],
                                              client: TestClient) -> None:
    surrogate = client.post("/ui/cases", data={"definition_key": "claim-triage", "variables": '{"x": "\\ud800"}'})
    assert surrogate.status_code == 422 and "lone UTF-16 surrogate" in surrogate.text
    too_big = client.post("/ui/cases", data={"definition_key": "claim-triage", "variables": '{"x": 1e400}'})
    assert too_big.status_code == 422 and "not finite" in too_big.text
    nul = client.post("/ui/cases", data={"definition_key": "claim-triage", "business_key": "a\x00b"})
    assert nul.status_code == 422 and "NUL character" in nul.text
    assert nul.headers["content-type"].startswith("text/html")
    assert orch.store.cases() == []
