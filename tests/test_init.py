"""``casepilot init NAME`` makes a bundle that works as generated: it validates, its scenarios
pass, and its cases are worked from the shell — straight through, through an underwriter's
review, and through the guardrail's credit-committee checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casepilot.cli import app
from casepilot.store import Store

runner = CliRunner()


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def test_the_scaffold_validates_passes_its_scenarios_and_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert "created the case bundle loan" in _ok("init", "loan")
    folder = tmp_path / "loan"
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md", "bindings.yaml", "casepilot.yaml", "guardrails.dmn", "loan.cmmn", "loan_tools.py", "scenarios"]
    validated = _ok("validate", "loan")
    assert "ok   loan: bundle loan: case loan, 2 tool bindings" in validated and "lint" not in validated
    assert _ok("cmmn", "test", "loan/scenarios").strip().splitlines()[-1] == "3 passed, 0 failed"

    db = ["--db", f"sqlite:///{tmp_path}/loan.db"]
    assert "deployed loan version 1" in _ok("deploy", "loan", *db)
    with Store.from_url(db[1]) as store:  # the README is not part of the definition
        assert "README.md" not in store.definition("loan").files

    def start(applicant: str, income: int, amount: int) -> str:
        variables = {"applicant": applicant, "income": income, "amount": amount}
        return _ok("start", "loan", "--vars", json.dumps(variables), *db).strip()

    straight = start("Ada Lovelace", 60000, 10000)
    assert "completed: case is completed" in _ok("run", straight, *db)

    reviewed = start("Alan Turing", 20000, 30000)
    assert "waiting_for_people: case is active; 1 open inbox items" in _ok("run", reviewed, *db)
    large = start("Edsger Dijkstra", 200000, 80000)
    ran = _ok("run", large, *db)
    assert "offers over 50,000 need the credit committee" in ran and "waiting_for_people" in ran

    with Store.from_url(db[1]) as store:
        (review,) = store.tasks(case_id=reviewed, status="open")
        (committee,) = store.tasks(case_id=large, status="open")
    assert (review.role, committee.role) == ("underwriter", "credit committee")
    _ok("decide", review.id, "--choice", "approve", "--as", "ann", "--role", "underwriter", *db)
    assert "completed: case is completed" in _ok("run", reviewed, *db)
    _ok("decide", committee.id, "--choice", "approve", "--as", "carl", "--role", "credit committee", *db)
    assert "completed: case is completed" in _ok("run", large, *db)

    with Store.from_url(db[1]) as store:
        for case_id in (straight, reviewed, large):
            variables = store.case(case_id).state["engine"]["variables"]
            assert str(variables["offer"]).startswith("OFFER-"), variables
            assert store.verify(case_id).ok


def test_init_refuses_a_bad_name_and_a_folder_in_use(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["init", "no spaces please", "--in", str(tmp_path)])
    assert bad.exit_code != 0 and "cannot name a case bundle" in str(bad.exception)
    _ok("init", "loan", "--in", str(tmp_path))
    again = runner.invoke(app, ["init", "loan", "--in", str(tmp_path)])
    assert again.exit_code != 0 and "exists and is not empty" in str(again.exception)
    _ok("init", "loan", "--in", str(tmp_path), "--force")


def test_two_scaffolded_bundles_work_side_by_side(tmp_path: Path) -> None:
    """Each scaffold's tools carry its name, so one service can serve both."""
    _ok("init", "loan", "--in", str(tmp_path))
    _ok("init", "mortgage", "--in", str(tmp_path))
    db = ["--db", f"sqlite:///{tmp_path}/both.db"]
    _ok("deploy", str(tmp_path / "loan"), *db)
    _ok("deploy", str(tmp_path / "mortgage"), *db)
    from casepilot.agent.tool_sources import registry_for_store

    with Store.from_url(db[1]) as store:
        names = set(registry_for_store(store).names())
    assert {"loan_score", "loan_send_offer", "mortgage_score", "mortgage_send_offer"} <= names


def test_the_service_works_a_scaffolded_case_with_no_launcher_code(tmp_path: Path) -> None:
    """``serve`` (``app_from_settings``) loads the tools of the definitions deployed from the CLI;
    an upload of the same bundle over HTTP is accepted (same code), an upload of changed code is not."""
    from fastapi.testclient import TestClient

    from casepilot.agent.bundle import bundle_files
    from casepilot.api import ApiSettings, app_from_settings

    _ok("init", "loan", "--in", str(tmp_path))
    url = f"sqlite:///{tmp_path}/served.db"
    _ok("deploy", str(tmp_path / "loan"), "--db", url)
    with TestClient(app_from_settings(ApiSettings(database_url=url))) as client:
        started = client.post("/cases", json={"definition_key": "loan",
                                              "variables": {"applicant": "Ada", "income": 60000, "amount": 1000}})
        assert started.status_code == 201, started.text
        ran = client.post(f"/cases/{started.json()['id']}/run", json={"max_steps": 50})
        assert ran.status_code == 200 and ran.json()["reason"] == "completed", ran.text
        files = {name: str(content) for name, content in bundle_files(tmp_path / "loan").items()}
        assert client.post("/definitions", json={"files": files}).status_code == 201
        files["loan_tools.py"] += "\nimport os  # anything new\n"
        refused = client.post("/definitions", json={"files": files})
        assert refused.status_code == 422 and "cannot bring new code" in refused.text, refused.text


def test_an_applicant_name_no_detector_reads_as_a_name_stays_out_of_the_records(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """"Big Spender" is no name to a detector, but ``applicant`` says it is one: it is
    pseudonymised in the history, the case state and the inbox, and the tools still get it."""
    monkeypatch.chdir(tmp_path)
    _ok("init", "loan")
    db = ["--db", f"sqlite:///{tmp_path}/loan.db"]
    _ok("deploy", "loan", *db)
    variables = {"applicant": "Big Spender", "income": 200000, "amount": 80000}
    case_id = _ok("start", "loan", "--vars", json.dumps(variables), *db).strip()
    assert "credit committee" in _ok("run", case_id, *db)
    with Store.from_url(db[1]) as store:
        records = json.dumps([e.payload for e in store.history(case_id)]) + json.dumps(store.case(case_id).state)
        records += json.dumps([t.prompt for t in store.tasks(case_id=case_id)])
        (committee,) = store.tasks(case_id=case_id, status="open")
    assert "Big Spender" not in records and "Spender" not in records
    assert "<PERSON_1>" in records
    _ok("decide", committee.id, "--choice", "approve", "--as", "carl", "--role", "credit committee", *db)
    assert "completed: case is completed" in _ok("run", case_id, *db)
    with Store.from_url(db[1]) as store:
        offer = store.case(case_id).state["engine"]["variables"]["offer"]
    assert str(offer).startswith("OFFER-")  # the tool worked with the clear name in process
