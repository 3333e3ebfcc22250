"""schemathesis against the served OpenAPI schema: no 5xx, no answer the schema does not describe.

The real app runs on a loopback port over a real store (a SQLite file in a temp folder; a
throwaway PostgreSQL database in the third pass), with the claim example deployed and a
claim waiting for a senior analyst, so routes with ids reach real cases, inbox items and
actions: half the ids schemathesis puts in paths (and the inbox's ``case_id`` filter, and
half the decisions' choices and claimed roles) are drawn from that world, the other half
are its own (unknown ids: 404), and its stateful phase follows the ids responses return
(new cases it starts). The CLI runs every phase (examples, coverage, fuzzing, stateful) with
``--checks all``, a fixed seed and a bounded number of examples per operation, in three
passes:

- ``developer``: no identity source, requests name themselves;
- ``proxy``: behind a sign-on proxy (``TrustedHeaders``), every request carrying the proxy's
  headers for a person who holds every role the example names. One pass is not enough: the
  two modes answer differently (401/403 instead of 422 for who is acting), and only here is
  the schema's promise that ``actor`` is optional true, so only here can schemathesis hold
  the service to "schema-valid requests are accepted" on the routes that change cases;
- ``proxy`` again on PostgreSQL, which refuses values SQLite keeps (it found ``after_seq``
  beyond 32 bits, a 500 there and a 200 on SQLite).

The proxy's headers are not declared as an OpenAPI security scheme: they say who a person
is and prove nothing (any name is valid; the proxy strips what clients send), so
schemathesis' ``ignored_auth`` check, which expects a made-up value to be refused, would
hold the service to a promise it does not make. The 401 without them is checked route by
route in ``test_authorisation_matrix``.

``positive_data_acceptance`` ("a schema-valid request must not get a 4xx other than 401,
403, 404, 409") is relaxed to also allow 422 exactly where validity depends on more than the
request's shape, each with its reason in ``RELAXED`` below. Everything else is held to the
defaults of ``--checks all``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.api import create_app
from casepilot.api.identity import TrustedHeaders
from casepilot.demo.run import LETTERS
from casepilot.store import Store
from casepilot.tools import ToolRegistry
from tests._postgres import require_postgres, throwaway_database
from tests.api._browser import serving

MAX_EXAMPLES = int(os.environ.get("CASEPILOT_SCHEMATHESIS_EXAMPLES", "25"))
"""Test cases per operation and phase: about a minute per pass on two cores. Raise it
locally (``CASEPILOT_SCHEMATHESIS_EXAMPLES=200``) to search harder."""

SEED = int(os.environ.get("CASEPILOT_SCHEMATHESIS_SEED", "20261205"))
"""Fixed so CI sees the same requests every run; change it locally to search elsewhere."""

ROLES = "deployer,claims intake,claims operations,claims handler,senior analyst"
"""Every role the claim example and the service name: the proxy pass is refused for nothing
but what a request itself gets wrong."""

BUNDLE_CONTENT = ("POST", "/definitions",
                  "the bundle's files are checked by the CMMN, DMN and YAML loaders; a schema cannot say "
                  "which texts are a valid case model")
CHOICE = ("POST", "/inbox/{task_id}/decision",
          "the choice must be one of the item's options, which differ per item")
NAMED = "in developer mode a request that acts must name its actor (or, claiming roles, name whom they are for)"
RELAXED: dict[str, tuple[tuple[str, str, str], ...]] = {
    "proxy": (BUNDLE_CONTENT, CHOICE),
    "developer": (
        BUNDLE_CONTENT, CHOICE,
        *((method, path, NAMED) for method, path in (
            ("POST", "/definitions"), ("POST", "/cases"), ("POST", "/cases/{case_id}/run"),
            ("POST", "/cases/{case_id}/run/stream"), ("POST", "/cases/{case_id}/chat"),
            ("POST", "/cases/{case_id}/actions/{action_id}"), ("POST", "/cases/{case_id}/reveal"),
            ("POST", "/inbox/{task_id}/decision"))),
    ),
}
"""Operations where a schema-valid request may rightly get 422, and why (see the module docstring)."""


@dataclass(frozen=True)
class World:
    case_id: str
    task_id: str
    action_ids: tuple[str, ...]
    choices: tuple[str, ...]


def _config(mode: str, world: World) -> str:
    """The schemathesis.toml of a pass: ids from the world, 422 allowed where ``RELAXED`` says why."""
    values = {"cases": [world.case_id], "tasks": [world.task_id], "actions": list(world.action_ids),
              "choices": list(world.choices), "roles": ROLES.split(",")}
    lines = [line for name, found in values.items() for line in (f"[dictionaries.{name}]", f"values = {json.dumps(found)}", "")]
    lines += ["[parameters]", *(f'"{where}" = {{ dictionary = "{name}", probability = 0.5 }}' for where, name in (
        ("path.case_id", "cases"), ("query.case_id", "cases"), ("path.task_id", "tasks"),
        ("path.action_id", "actions"), ("body.choice", "choices"), ("body.roles[*]", "roles"))), ""]
    for method, path in sorted({(method, path) for method, path, _ in RELAXED[mode]}):
        reasons = sorted({why for m, p, why in RELAXED[mode] if (m, p) == (method, path)})
        lines += [*(f"# {why}" for why in reasons), "[[operations]]", f'include-path = "{path}"',
                  f'include-method = "{method}"',
                  'checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]',
                  ""]
    return "\n".join(lines)


def _world(orch: Orchestrator, claim_files: dict[str, str]) -> World:
    """The claim example deployed and a claim waiting for a senior analyst, in ``orch``'s store."""
    orch.deploy_files(claim_files)
    case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-1"})
    assert orch.run(case.id).reason == "waiting_for_people"
    (task,) = orch.pending()
    actions = tuple(a.id for a in orch.person_actions(case.id))
    assert actions and task.options
    return World(case.id, task.id, actions, tuple(task.options))


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The pass's store: a SQLite file in ``tmp_path``, or a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'api.db'}"
        return
    server = require_postgres()  # a missing server fails the test, never skips it
    with throwaway_database(server, "casepilot_schemathesis") as name:
        yield server.sqlalchemy_url(name)


@pytest.mark.parametrize(("mode", "database"), [
    ("developer", "sqlite"),
    ("proxy", "sqlite"),
    # PostgreSQL refuses what SQLite keeps (a NUL in any text, a 33-bit sequence number): its own pass
    pytest.param("proxy", "postgresql", marks=pytest.mark.postgres),
], indirect=["database"])
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
        database: str, registry: ToolRegistry, claim_files: dict[str, str], tmp_path: Path, mode: str) -> None:
    store = Store.from_url(database)
    orch = Orchestrator(store, registry, RulePlanner())
    config = tmp_path / "schemathesis.toml"
    identity = TrustedHeaders() if mode == "proxy" else None
    headers = ["-H", "X-Forwarded-User: ann", "-H", f"X-Forwarded-Groups: {ROLES}"] if mode == "proxy" else []
    started = time.monotonic()
    try:
        config.write_text(_config(mode, _world(orch, claim_files)), encoding="utf-8")
        app = create_app(orch, identity=identity)
        operations = sum(1 for path in app.openapi()["paths"].values() for _ in path)
        with serving(app) as url:
            run = subprocess.run(
                [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
                 f"{url}/openapi.json", "--checks", "all", "--max-examples", str(MAX_EXAMPLES),
                 "--seed", str(SEED), "--workers", "1", "--generation-database", "none", "--no-color",
                 "--request-timeout", "60", *headers],
                capture_output=True, text=True, timeout=900, cwd=tmp_path, check=False)
    finally:
        orch.close()
        store.close()
    output, name = run.stdout + run.stderr, f"{mode} on {database.split(':')[0]}"
    assert run.returncode == 0, f"schemathesis ({name}) found problems:\n{output[-20_000:]}"
    # it did test: every operation, in every phase (a run that reached nothing would also exit 0)
    assert f"Tested: {operations}" in output and re.search(r"Selected: (\d+)/\1", output), output[-3_000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in output, output[-3_000:]
    print(f"schemathesis ({name}): {time.monotonic() - started:.0f}s\n{output[-1_500:]}")
