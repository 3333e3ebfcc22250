"""The command line as users meet it: the main job (``casepilot demo``), model validation,
the example's own CMMN scenarios, and a case worked from the shell."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from casepilot.cli import app

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_demo_runs_the_flagship_case_end_to_end(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--quiet", "--db", f"sqlite:///{tmp_path}/demo.db"])
    assert result.exit_code == 0, result.output
    assert "2 of 2 demo cases completed" in result.output
    assert "waiting_for_people" in result.output  # the second claim paused for a senior analyst
    assert "for a claims manager → Max Manager" in result.output  # the first one's payment (above 1,000)
    assert result.output.count("history verified: True") == 2


def test_validate_reports_bundles_models_and_problems(tmp_path: Path) -> None:
    good = runner.invoke(app, ["validate", str(REPO / "examples")])
    assert good.exit_code == 0, good.output
    assert "bundle claim-triage" in good.output
    bad = tmp_path / "bad.cmmn"
    bad.write_text(
        '<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL"><case id="c"><casePlanModel id="p">'
        '<planItem id="a" definitionRef="nope"/></casePlanModel></case></definitions>',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert "definitionRef 'nope'" in result.output


def test_example_scenarios_pass() -> None:
    result = runner.invoke(app, ["cmmn", "test", str(REPO / "examples" / "claims" / "scenarios")])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "6 passed, 0 failed"


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def test_a_case_worked_from_the_shell(tmp_path: Path) -> None:
    """deploy → start → run → inbox → decide (refused, then allowed) → run → history verify; actions → act."""
    from casepilot.demo.run import CLAIMANTS, LETTERS
    from casepilot.store import Store

    db = ["--db", f"sqlite:///{tmp_path}/cli.db"]
    assert "deployed claim-triage version 1" in _ok(["deploy", str(REPO / "examples" / "claims"), *db])
    variables = json.dumps({"letter": LETTERS["senior-review"], **CLAIMANTS["senior-review"]})
    case_id = _ok(["start", "claim-triage", "--vars", variables, "--business-key", "CLM-1", *db]).strip()
    assert "waiting_for_people: case is active; 1 open inbox items" in _ok(["run", case_id, *db])
    with Store.from_url(db[1]) as store:
        (task,) = store.tasks(case_id=case_id, status="open")
    assert task.id in _ok(["inbox", "--role", "senior analyst", *db])

    refused = runner.invoke(app, ["decide", task.id, "--choice", "approve", "--as", "bob",
                                  "--role", "claims handler", *db])
    assert refused.exit_code != 0 and "needs the role 'senior analyst'" in str(refused.exception)
    # the console script prints the same reason and exits with 1, without a traceback
    script = subprocess.run([sys.executable, "-c", "from casepilot.cli import main; main()", "decide", task.id,
                             "--choice", "approve", "--as", "bob", "--role", "claims handler", *db],
                            capture_output=True, text=True, timeout=120, cwd=REPO)
    printed = " ".join(script.stdout.split())  # rich wraps long lines
    assert script.returncode == 1 and "needs the role 'senior analyst'" in printed and "Traceback" not in script.stderr

    assert "approve by person:ann" in _ok(["decide", task.id, "--choice", "approve", "--as", "ann",
                                           "--role", "senior analyst", *db])
    assert "completed: case is completed" in _ok(["run", case_id, *db])
    assert re.search(rf"ok: the \d+ events of case {case_id} verify", _ok(["history", "verify", case_id, *db]))

    other = _ok(["start", "claim-triage", "--vars", variables, *db]).strip()
    _ok(["run", other, *db])
    listed = _ok(["actions", other, *db])
    assert "Customer withdraws" in listed and "claims handler" in listed
    orch_actions = [word for line in listed.splitlines() for word in line.split() if word.startswith("occur:")]
    assert orch_actions
    done = runner.invoke(app, ["act", other, orch_actions[0], "--as", "carol", "--role", "claims handler", *db])
    assert done.exit_code == 0, done.output
    assert "terminated: case is terminated" in done.output
