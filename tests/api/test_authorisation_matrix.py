"""Who may do what behind a sign-on proxy: every route × every kind of caller, in one table.

The rows are checked against ``app.routes``: a route added without a row fails here, so no
endpoint or page can be served without somebody deciding who may use it. Each cell runs on
its own copy of a world (the claim example deployed, one claim waiting for a senior analyst)
and every refusal is checked to have changed nothing.

Callers (the columns):

- ``none``: no proxy headers at all;
- ``wrong``: signed in, with a role that allows nothing (``reader``);
- ``right``: signed in with the role the row needs;
- ``other``: signed in with the right role, but the body or form names someone else;
- ``extra``: signed in as ``wrong``, the body or form claiming the role the row needs.

``None`` in a cell: the request carries no body or form, so there is nothing to claim; the
test checks the route indeed takes none.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from fastapi import FastAPI
from fastapi.routing import RouteContext, iter_route_contexts
from fastapi.testclient import TestClient

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.api import create_app
from casepilot.api.identity import TrustedHeaders
from casepilot.demo.run import LETTERS
from casepilot.store import Store
from casepilot.tools import ToolRegistry

Caller = Literal["none", "wrong", "right", "other", "extra"]
CALLERS: tuple[Caller, ...] = ("none", "wrong", "right", "other", "extra")

DEPLOYER, STARTER, OPERATOR = "deployer", "claims intake", "claims operations"
SENIOR, HANDLER = "senior analyst", "claims handler"
SIGNED_IN = "any signed-in person"
OPEN = "nobody (open)"


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    needs: str
    """The role the request needs (or SIGNED_IN / OPEN)."""
    expected: tuple[int, int, int, int | None, int | None]
    """Status for none, wrong, right, other, extra."""
    body: Literal["json", "form"] | None = None
    payload: tuple[tuple[str, Any], ...] = ()
    query: str = ""
    """Appended to the request's path (e.g. to bound a stream)."""

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _reads(method: str, path: str, right: int = 200) -> Row:
    return Row(method, path, SIGNED_IN, (401, right, right, None, None))


def _change(method: str, path: str, needs: str, ok: int, body: Literal["json", "form"], **payload: Any) -> Row:
    return Row(method, path, needs, (401, 403, ok, 403, 403), body, tuple(payload.items()))


ROWS: tuple[Row, ...] = (
    # the JSON API
    _reads("GET", "/definitions"),
    _change("POST", "/definitions", DEPLOYER, 201, "json", files="{bundle}"),
    _reads("GET", "/cases"),
    _change("POST", "/cases", STARTER, 201, "json", definition_key="claim-triage",
            variables={"letter": LETTERS["straight-through"], "policy": "POL-2"}),
    _reads("GET", "/cases/{case_id}"),
    _change("POST", "/cases/{case_id}/run", OPERATOR, 200, "json"),
    _change("POST", "/cases/{case_id}/run/stream", OPERATOR, 200, "json"),
    _reads("GET", "/cases/{case_id}/history"),
    _reads("GET", "/cases/{case_id}/verify"),
    # a BPMN process's drawing (casepilot.api.processes): a read; this world's claim has started no
    # process yet, so the right caller learns there is no such process
    _reads("GET", "/cases/{case_id}/processes/{instance_id}/diagram", right=404),
    # following a case (casepilot.api.web_events): a read; ``seconds=0`` sends what is there and ends
    Row("GET", "/cases/{case_id}/events", SIGNED_IN, (401, 200, 200, None, None), query="?seconds=0"),
    _change("POST", "/cases/{case_id}/chat", OPERATOR, 200, "json", message="What is the status?"),
    # the conversation (casepilot.api.chat): a read; asking, streaming and confirming steer the case
    _reads("GET", "/cases/{case_id}/chat"),
    _change("POST", "/cases/{case_id}/chat/stream", OPERATOR, 200, "json", message="What is the status?"),
    # {proposal_id}: none was made in this world, so the right caller learns there is no such proposal
    _change("POST", "/cases/{case_id}/chat/proposals/{proposal_id}/confirm", OPERATOR, 404, "json"),
    _reads("GET", "/cases/{case_id}/actions"),
    # {action_id}: the claim's "Customer withdraws" event, which the CMMN model gives claims handlers
    _change("POST", "/cases/{case_id}/actions/{action_id}", HANDLER, 200, "json"),
    _change("POST", "/cases/{case_id}/reveal", SENIOR, 200, "json"),
    _reads("GET", "/inbox"),
    _reads("GET", "/inbox/{task_id}/fields"),
    _change("POST", "/inbox/{task_id}/decision", SENIOR, 200, "json", choice="approve"),
    # claims: "I am working on it" (casepilot.store._claims) — the item's role, like deciding
    _change("POST", "/inbox/{task_id}/claim", SENIOR, 200, "json"),
    _change("POST", "/inbox/{task_id}/release", SENIOR, 200, "json"),
    # operations on cases (casepilot.api.operations): the operator role; past it, what the case's state allows
    _change("POST", "/cases/{case_id}/terminate", OPERATOR, 200, "json", reason="duplicate claim"),
    _change("POST", "/cases/{case_id}/suspend", OPERATOR, 200, "json", reason="customer asked to wait"),
    _change("POST", "/cases/{case_id}/resume", OPERATOR, 409, "json", reason="back"),  # it is not suspended
    _change("POST", "/cases/{case_id}/retry", OPERATOR, 422, "json", item="Senior analyst review"),  # nothing failed
    Row("POST", "/cases/{case_id}/correct", OPERATOR, (401, 403, 200, 403, 403), "json",
        (("path", "policy"), ("value", "POL-9"), ("reason", "typo in the policy number"))),
    _change("POST", "/inbox/{task_id}/reassign", OPERATOR, 200, "json", role="team lead"),
    # Prometheus figures (casepilot.api.metrics): a read like any other — they name no case, but
    # nothing is served anonymously behind a proxy (give the scraper a service identity)
    _reads("GET", "/metrics"),
    # the web page
    _reads("GET", "/", right=303),
    _reads("GET", "/ui/inbox"),
    _change("POST", "/ui/inbox/{task_id}", SENIOR, 303, "form", choice="approve"),
    _change("POST", "/ui/inbox/{task_id}/claim", SENIOR, 303, "form"),
    _change("POST", "/ui/inbox/{task_id}/release", SENIOR, 303, "form"),
    _reads("GET", "/ui/cases"),
    _change("POST", "/ui/cases", STARTER, 303, "form", definition_key="claim-triage", variables="{}"),
    _reads("GET", "/ui/cases/{case_id}"),
    _change("POST", "/ui/cases/{case_id}/reveal", SENIOR, 200, "form"),
    _change("POST", "/ui/cases/{case_id}/actions/{action_id}", HANDLER, 303, "form"),
    _change("POST", "/ui/cases/{case_id}/run", OPERATOR, 303, "form"),
    _change("POST", "/ui/cases/{case_id}/operate", OPERATOR, 303, "form", operation="suspend", reason="wait"),
    _change("POST", "/ui/cases/{case_id}/chat", OPERATOR, 303, "form", message="What is the status?"),
    _change("POST", "/ui/cases/{case_id}/chat/messages", OPERATOR, 303, "form", message="What is the status?"),
    _change("POST", "/ui/cases/{case_id}/chat/stream", OPERATOR, 200, "form", message="What is the status?"),
    _change("POST", "/ui/cases/{case_id}/chat/proposals/{proposal_id}/confirm", OPERATOR, 404, "form"),
    # documentation of the API: open, it describes no case
    *(Row("GET", path, OPEN, (200, 200, 200, None, None))
      for path in ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc")),
)

CELLS = [pytest.param(row, caller, id=f"{row.id} · {caller}") for row in ROWS for caller in CALLERS]


def _headers(caller: Caller, row: Row) -> dict[str, str]:
    if caller == "none":
        return {}
    if caller in ("wrong", "extra"):
        return {"X-Forwarded-User": "wendy", "X-Forwarded-Groups": "reader"}
    role = row.needs if row.needs not in (SIGNED_IN, OPEN) else "reader"
    return {"X-Forwarded-User": "ann", "X-Forwarded-Groups": role}


@dataclass(frozen=True)
class World:
    folder: Path
    case_id: str
    task_id: str
    action_id: str


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, registry: ToolRegistry,
             claim_files: dict[str, str]) -> World:
    """The claim example deployed and one claim waiting for a senior analyst, stored once."""
    folder = tmp_path_factory.mktemp("world")
    store = Store.from_url(f"sqlite:///{folder / 'api.db'}")
    orch = Orchestrator(store, registry, RulePlanner())
    try:
        orch.deploy_files(claim_files)
        case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-1"})
        assert orch.run(case.id).reason == "waiting_for_people"
        (task,) = orch.pending()
        withdraw = next(a.id for a in orch.person_actions(case.id) if a.label == "Customer withdraws")
    finally:
        orch.close()
        store.close()
    return World(folder, case.id, task.id, withdraw)


@pytest.fixture
def world(template: World, tmp_path: Path, registry: ToolRegistry) -> Iterator[tuple[World, Orchestrator]]:
    """A private copy of the template: each cell may change what it likes."""
    folder = tmp_path / "world"
    shutil.copytree(template.folder, folder)
    store = Store.from_url(f"sqlite:///{folder / 'api.db'}")
    orch = Orchestrator(store, registry, RulePlanner())
    yield World(folder, template.case_id, template.task_id, template.action_id), orch
    orch.close()
    store.close()


def _state(orch: Orchestrator) -> tuple[object, ...]:
    """What a refused request must leave as it was: definitions, cases, inbox items and their claims."""
    tasks = orch.store.tasks()
    return ([(d.key, d.version) for d in orch.store.definitions()], [c.id for c in orch.store.cases()],
            [(t.id, t.status) for t in tasks], orch.store.task_claims([t.id for t in tasks]))


def _history(orch: Orchestrator, case_id: str) -> list[str]:
    return [e.kind for e in orch.store.history(case_id, limit=10_000)]


AUDIT_OF_A_REFUSAL = {"error", "state", "state_delta"}
"""A refused reveal is itself recorded (by design): an ``error`` event and the step's ``state`` (or ``state_delta``)."""


def _fill(value: Any, bundle: dict[str, str]) -> Any:
    return bundle if value == "{bundle}" else value


def _routes(app: FastAPI) -> dict[tuple[str, str], RouteContext]:
    """Every (method, path) the app serves, routers included (their routes are resolved lazily)."""
    return {(method, route.path): route for route in iter_route_contexts(app.routes) if route.path is not None
            for method in route.methods or () if method != "HEAD"}


def test_every_route_has_a_row(world: tuple[World, Orchestrator]) -> None:
    """A new route without a row here fails: someone must decide who may use it."""
    assert set(_routes(create_app(world[1], identity=TrustedHeaders()))) == {(row.method, row.path) for row in ROWS}


@pytest.mark.parametrize(("row", "caller"), CELLS)
def test_authorisation_matrix(world: tuple[World, Orchestrator], claim_files: dict[str, str],
                              row: Row, caller: Caller) -> None:
    w, orch = world
    expected = row.expected[CALLERS.index(caller)]
    app = create_app(orch, identity=TrustedHeaders())
    if expected is None:
        route = _routes(app)[(row.method, row.path)]
        assert row.body is None and getattr(route, "body_field", None) is None, (
            f"{row.id} takes a body: give its row statuses for a body that claims another name or more roles")
        return
    path = row.path.format(case_id=w.case_id, task_id=w.task_id, action_id=w.action_id, proposal_id="p1",
                           instance_id="case.1") + row.query
    bundle = {**claim_files, "casepilot.yaml": claim_files["casepilot.yaml"].replace(
        "description: Motor claim triage", "description: Motor claim triage (v2)")}
    payload = {k: _fill(v, bundle) for k, v in row.payload}
    if caller == "other":
        payload["actor"] = "mallory"
    if caller == "extra":
        payload["roles"] = [row.needs] if row.body == "json" else row.needs
    before, history = _state(orch), _history(orch, w.case_id)
    with TestClient(app) as client:
        response = client.request(row.method, path, headers=_headers(caller, row), follow_redirects=False,
                                  json=payload if row.body == "json" else None,
                                  data=payload if row.body == "form" else None)
    assert response.status_code == expected, response.text
    if expected in (401, 403):
        assert _state(orch) == before, "a refused request changed something"
        after = _history(orch, w.case_id)
        assert after[:len(history)] == history and set(after[len(history):]) <= AUDIT_OF_A_REFUSAL, after
        if row.path == "/" or row.path.startswith("/ui/"):  # a page a person can read, with the reason
            assert response.headers["content-type"].startswith("text/html")
            assert 'role="alert"' in response.text
            reason = {"none": "Not signed in", "other": "the request names &#39;mallory&#39;",
                      "extra": "roles come from the sign-on proxy"}.get(caller, "")
            assert reason in response.text
        else:
            kind = ("NotSignedIn" if expected == 401 else "IdentityMismatch" if caller in ("other", "extra")
                    else "DecisionRejected" if row.path.endswith("/decision") else "NotAuthorized")
            assert response.json()["error"] == kind
