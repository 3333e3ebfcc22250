"""Every scenario of the CMMN corpus and of this folder passes, with a JSON round trip after
every step (the runner continues on the rebuilt instance)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from casepilot.cmmn.cli import app
from casepilot.cmmn.scenarios import collect_scenarios, run_scenario, run_scenarios
from tests._corpora import CMMN

CORPUS = CMMN
HERE = Path(__file__).parent
CORPUS_FILES = collect_scenarios(sorted(CORPUS.glob("*/scenarios"))) if CORPUS.is_dir() else []
OWN_FILES = collect_scenarios([HERE])


def test_corpus_is_present() -> None:
    assert len(CORPUS_FILES) >= 130
    assert len(OWN_FILES) >= 119  # 7 on own models + 112 corpus_extra transcriptions


def test_every_corpus_scenario_passes() -> None:
    results = run_scenarios(CORPUS_FILES)
    failures = [r.line() for r in results if not r.passed]
    assert failures == []
    assert sum(r.steps for r in results) > 600


@pytest.mark.parametrize("path", OWN_FILES, ids=lambda p: p.stem)
def test_own_scenario_passes(path: Path) -> None:
    result = run_scenario(path)
    assert result.passed, result.message


def _write(tmp_path: Path, name: str, body: str) -> Path:
    model = (CORPUS / "spec/models/user-events.cmmn").resolve()
    path = tmp_path / name
    path.write_text(f"model: {model}\nsteps:\n{body}", encoding="utf-8")
    return path


def test_runner_reports_the_failing_step(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.yaml", "  - start: {}\n  - expect: {active: [Nobody]}\n")
    result = run_scenario(bad)
    assert not result.passed
    assert result.message.startswith("step 2 ") and "Nobody" in result.message
    missing = _write(tmp_path, "missing.yaml", "  - start: {}\n  - complete: No such task\n")
    assert "cannot complete 'No such task'" in run_scenario(missing).message
    wrong_state = _write(tmp_path, "state.yaml", "  - start: {}\n  - manual_start: Check eligibility\n")
    assert "it is Active" in run_scenario(wrong_state).message


def test_cli_prints_one_line_per_scenario_and_a_summary(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.yaml", "  - start: {}\n  - expect: {case: active}\n")
    runner = CliRunner()
    ok = runner.invoke(app, ["test", str(good)])
    assert ok.exit_code == 0
    assert ok.output.splitlines() == [f"PASS {good}", "1 passed, 0 failed"]
    _write(tmp_path, "bad.yaml", "  - start: {}\n  - expect: {case: completed}\n")
    both = runner.invoke(app, ["test", str(tmp_path)])
    assert both.exit_code == 1
    assert both.output.splitlines()[-1] == "1 passed, 1 failed"


def test_cli_validate_reports_problems(tmp_path: Path) -> None:
    broken = tmp_path / "broken.cmmn"
    broken.write_text("<definitions/>", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["validate", str(CORPUS / "spec/models/user-events.cmmn"), str(broken)])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "1 valid, 1 invalid"
    assert result.output.startswith("OK ")


def test_the_case_plan_model_is_completed_manually_only_as_the_stage_completion_rule_allows(tmp_path: Path) -> None:
    """``complete:`` on the case plan model's name is its manual completion: refused while the
    required Decide is not done (CMMN 1.1 ch. 8 stage completion rule), allowed after."""
    model = (HERE / "ch8/models/manual-case-completion.cmmn").resolve()
    early = tmp_path / "early.yaml"
    early.write_text(
        f"model: {model}\nsteps:\n  - start: {{}}\n  - complete: Collect\n  - complete: Claim file\n",
        encoding="utf-8",
    )
    result = run_scenario(early)
    assert not result.passed
    assert result.message.startswith("step 3 ") and "required unfinished children" in result.message
