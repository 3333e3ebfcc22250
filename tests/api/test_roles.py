"""The roles a bundle names decide who starts and runs its cases — and a role it does not name
is nobody's, never everybody's. Plus the deployer role and developer mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from casepilot.agent.orchestrator import Orchestrator
from casepilot.api import ApiSettings, create_app
from casepilot.api.identity import TrustedHeaders
from casepilot.api.settings import ENV_DEPLOYER_ROLE
from casepilot.cli import app as cli_app
from casepilot.demo.run import LETTERS
from tests.agent._support import TaskSpec, write_bundle

DEPLOYER = {"X-Forwarded-User": "dora", "X-Forwarded-Groups": "deployer"}
INTAKE = {"X-Forwarded-User": "ian", "X-Forwarded-Groups": "claims intake"}
OPS = {"X-Forwarded-User": "otto", "X-Forwarded-Groups": "claims operations"}
HANDLER = {"X-Forwarded-User": "carol", "X-Forwarded-Groups": "claims handler"}
SENIOR = {"X-Forwarded-User": "ann", "X-Forwarded-Groups": "senior analyst"}
EVERYONE = {"X-Forwarded-User": "eve", "X-Forwarded-Groups": "deployer, claims intake, claims handler, senior analyst, "
            "team lead, operator, intake"}
CLAIM = {"definition_key": "claim-triage", "variables": {"letter": LETTERS["senior-review"], "policy": "POL-1"}}


@pytest.fixture
def proxied(orch: Orchestrator) -> Iterator[TestClient]:
    with TestClient(create_app(orch, identity=TrustedHeaders())) as client:
        yield client


def _files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}


def _plain_bundle(tmp_path: Path, **governance: object) -> dict[str, str]:
    """A one-task bundle binding only a tool that reads (so it may name no operator role)."""
    task = TaskSpec("score", "Score sentiment", "sentiment", {"text": "ref"}, {"score": "compound"})
    return _files(write_bundle(tmp_path / "plain", "plain", [task], extra_governance=governance))


def test_a_bundle_that_names_no_role_cannot_be_started_or_run_by_anyone(
        proxied: TestClient, orch: Orchestrator, tmp_path: Path) -> None:
    deployed = proxied.post("/definitions", json={"files": _plain_bundle(tmp_path, operator_role=None)},
                            headers=DEPLOYER)
    assert deployed.status_code == 201, deployed.text
    start = {"definition_key": "plain", "variables": {"ref": "I am happy"}}
    refused = proxied.post("/cases", json=start, headers=EVERYONE)
    assert refused.status_code == 403
    assert "`starter_role: <role>` (or `operator_role: <role>`)" in refused.json()["detail"]
    assert "casepilot.yaml" in refused.json()["detail"]
    page = proxied.post("/ui/cases", data={"definition_key": "plain", "variables": "{}"}, headers=EVERYONE)
    assert page.status_code == 403 and "starter_role" in page.text and 'role="alert"' in page.text
    assert orch.store.cases() == []

    case = orch.start_case("plain", {"ref": "I am happy"})  # the Python API is the embedding service's own
    for path in (f"/cases/{case.id}/run", f"/cases/{case.id}/run/stream"):
        run = proxied.post(path, headers=EVERYONE)
        assert run.status_code == 403 and "`operator_role: <role>`" in run.json()["detail"], path
    chat = proxied.post(f"/cases/{case.id}/chat", json={"message": "status?"}, headers=EVERYONE)
    assert chat.status_code == 403
    assert [e.kind for e in orch.store.history(case.id)].count("plan") == 0  # nothing ran


def test_the_starter_role_falls_back_to_the_operator_role(
        proxied: TestClient, orch: Orchestrator, tmp_path: Path) -> None:
    files = _plain_bundle(tmp_path, operator_role="operator")
    assert proxied.post("/definitions", json={"files": files}, headers=DEPLOYER).status_code == 201
    start = {"definition_key": "plain", "variables": {"ref": "fine"}}
    operator = {"X-Forwarded-User": "olga", "X-Forwarded-Groups": "operator"}
    assert proxied.post("/cases", json=start, headers=INTAKE).status_code == 403
    started = proxied.post("/cases", json=start, headers=operator)
    assert started.status_code == 201
    first = orch.store.history(started.json()["id"])[0]
    assert (first.kind, first.actor) == ("case_created", "person:olga")  # who started it is recorded


def test_intake_starts_claims_and_operations_runs_them(proxied: TestClient, orch: Orchestrator,
                                                      claim_files: dict[str, str]) -> None:
    assert proxied.post("/definitions", json={"files": claim_files}, headers=INTAKE).status_code == 403
    assert proxied.post("/definitions", json={"files": claim_files}, headers=DEPLOYER).status_code == 201
    assert proxied.post("/cases", json=CLAIM, headers=OPS).status_code == 403  # claims name their starter
    case_id = proxied.post("/cases", json=CLAIM, headers=INTAKE).json()["id"]
    assert proxied.post(f"/cases/{case_id}/run", headers=INTAKE).status_code == 403
    ran = proxied.post(f"/cases/{case_id}/run", headers=OPS)
    assert ran.status_code == 200 and ran.json()["reason"] == "waiting_for_people"


def test_items_and_actions_that_name_no_role_go_to_the_operator(
        proxied: TestClient, orch: Orchestrator, claim_files: dict[str, str]) -> None:
    """The claim's discretionary "Request more documents" is open to anyone in the model, and
    here its human task names no role: both need the operator role instead of nobody's."""
    manifest = claim_files["casepilot.yaml"]
    assert "    role: claims handler\n    options: [received]" in manifest
    files = {**claim_files, "casepilot.yaml": manifest.replace("    role: claims handler\n    options: [received]",
                                                                 "    options: [received]")}
    assert proxied.post("/definitions", json={"files": files}, headers=DEPLOYER).status_code == 201
    case_id = proxied.post("/cases", json=CLAIM, headers=INTAKE).json()["id"]
    proxied.post(f"/cases/{case_id}/run", headers=OPS)
    (action,) = [a["id"] for a in proxied.get(f"/cases/{case_id}/actions", headers=HANDLER).json()
                 if a["label"] == "Request more documents"]

    refused = proxied.post(f"/cases/{case_id}/actions/{action}", headers=HANDLER)
    assert refused.status_code == 403 and "claims operations" in refused.json()["detail"]
    page = proxied.post(f"/ui/cases/{case_id}/actions/{action}", headers=HANDLER)
    assert page.status_code == 403 and "claims operations" in page.text
    assert proxied.post(f"/cases/{case_id}/actions/{action}", headers=OPS).status_code == 200

    (item,) = [t for t in orch.pending(case_id) if t.plan_item == "Request more documents"]
    assert item.role is None
    for headers in (HANDLER, SENIOR):
        refused = proxied.post(f"/inbox/{item.id}/decision", json={"choice": "received"}, headers=headers)
        assert refused.status_code == 403 and "names no role" in refused.json()["detail"]
    page = proxied.post(f"/ui/inbox/{item.id}", data={"choice": "received"}, headers=SENIOR)
    assert page.status_code == 403 and "claims operations" in page.text
    assert item.id in [t.id for t in orch.pending(case_id)]
    decided = proxied.post(f"/inbox/{item.id}/decision", json={"choice": "received"}, headers=OPS)
    assert decided.status_code == 200 and decided.json()["decided_by"] == "person:otto"


def test_the_deployer_role_is_a_setting(orch: Orchestrator, claim_files: dict[str, str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    platform = {"X-Forwarded-User": "pat", "X-Forwarded-Groups": "platform"}
    with TestClient(create_app(orch, identity=TrustedHeaders(), deployer_role="platform")) as client:
        refused = client.post("/definitions", json={"files": claim_files}, headers=DEPLOYER)
        assert refused.status_code == 403 and "'platform'" in refused.json()["detail"]
        assert client.post("/definitions", json={"files": claim_files}, headers=platform).status_code == 201
    assert ApiSettings().resolved_deployer_role() == "deployer"
    monkeypatch.setenv(ENV_DEPLOYER_ROLE, "release managers")
    assert ApiSettings().resolved_deployer_role() == "release managers"
    assert ApiSettings(deployer_role="platform").resolved_deployer_role() == "platform"
    result = CliRunner().invoke(cli_app, ["serve", "--help"])
    assert result.exit_code == 0 and "--deployer-role" in result.output


def test_developer_mode_checks_the_roles_a_request_claims(client: TestClient, orch: Orchestrator,
                                                          claim_files: dict[str, str]) -> None:
    """Without a proxy, requests that claim no roles are served as before; claimed roles are checked."""
    refused = client.post("/definitions", json={"files": claim_files, "actor": "dev", "roles": ["claims intake"]})
    assert refused.status_code == 403 and "claim it in `roles`" in refused.json()["detail"]
    assert client.post("/definitions", json={"files": claim_files, "actor": "dev", "roles": ["deployer"]}
                       ).status_code == 201
    assert client.post("/cases", json={**CLAIM, "actor": "dev", "roles": ["claims handler"]}).status_code == 403
    named = client.post("/cases", json={**CLAIM, "actor": "dev", "roles": ["claims intake"]})
    assert named.status_code == 201
    assert orch.store.history(named.json()["id"])[0].actor == "person:dev"
    anonymous = client.post("/cases", json=CLAIM)
    assert anonymous.status_code == 201
    assert orch.store.history(anonymous.json()["id"])[0].actor == "api"
    case_id = anonymous.json()["id"]
    assert client.post(f"/cases/{case_id}/run", json={"actor": "dev", "roles": ["claims intake"]}).status_code == 403
    assert client.post(f"/cases/{case_id}/run", json={"roles": ["claims operations"]}).status_code == 422  # who?
    assert client.post(f"/cases/{case_id}/run").status_code == 200
    chat = client.post(f"/cases/{case_id}/chat", json={"actor": "dev", "roles": ["reader"], "message": "status?"})
    assert chat.status_code == 403
