"""``casepilot cases`` says each case's kind — a CMMN case or a BPMN process started on its own —
as the API's listing and the page do."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from casepilot.cli import app
from tests.bpmn._process_bundle import write_process_bundle

runner = CliRunner()
TOOLS = ["--tools", "tests.bpmn._process_bundle:PROCESS_TOOLS"]


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})  # a table wide enough not to fold
    assert result.exit_code == 0, result.output
    return result.output


def test_cases_lists_a_process_started_on_its_own_as_a_process(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path}/kinds.db"]
    _ok("deploy", str(write_process_bundle(tmp_path / "pay", "pay")), *db, *TOOLS)
    values = json.dumps({"payee": "Ann Lee", "amount": 250})
    process = _ok("start", "pay", "--process", "pay_small", "--vars", values, *db, *TOOLS).strip().splitlines()[-1]
    case = _ok("start", "pay", "--vars", values, *db, *TOOLS).strip().splitlines()[-1]
    rows = {row["id"]: row for row in json.loads(_ok("cases", "--json", *db))}
    assert (rows[process]["kind"], rows[process]["process"]) == ("process", "pay_small")
    assert (rows[case]["kind"], rows[case]["process"]) == ("case", None)
    table = " ".join(_ok("cases", *db).split())
    assert "process pay_small" in table and " case " in table
