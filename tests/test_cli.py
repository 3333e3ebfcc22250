"""The command line as users meet it: the main job (``casepilot demo``), model validation,
and the example's own CMMN scenarios."""

from __future__ import annotations

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
    assert result.output.strip().splitlines()[-1] == "3 passed, 0 failed"
