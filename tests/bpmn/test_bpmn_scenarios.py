"""The BPMN conformance scenarios (tests/bpmn/scenarios, written from BPMN 2.0 chapter 13)
pass with and without a dump/load after every step; the runner reports wrong expectations."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from casepilot.bpmn.scenarios import collect_scenarios, run_scenario
from casepilot.cli import app

SCENARIOS = Path(__file__).parent / "scenarios"
FILES = collect_scenarios([SCENARIOS])


def test_there_is_a_scenario_for_each_supported_element() -> None:
    text = "\n".join(p.read_text() for p in FILES)
    models = "\n".join(p.read_text() for p in (SCENARIOS / "models").glob("*.bpmn"))
    for element in ("messageEventDefinition", "terminateEventDefinition", "errorEventDefinition",
                    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "serviceTask",
                    "userTask", "businessRuleTask", "callActivity", "subProcess", "boundaryEvent",
                    'cancelActivity="false"', "timerEventDefinition", "multiInstanceLoopCharacteristics",
                    "compensateEventDefinition"):
        assert element in models, element
    assert len(FILES) >= 25
    assert text.count("title:") == len(FILES)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
@pytest.mark.parametrize("roundtrip", [True, False], ids=["roundtrip", "in-memory"])
def test_scenario(path: Path, roundtrip: bool) -> None:
    result = run_scenario(path, roundtrip=roundtrip)
    assert result.passed, result.message


def test_a_wrong_expectation_fails_with_what_differs(tmp_path: Path) -> None:
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text(
        f"model: {SCENARIOS / 'models' / 'gateways.bpmn'}\nprocess: parallel\n"
        "steps:\n  - expect: {active: [a]}\n")
    result = run_scenario(scenario)
    assert not result.passed
    assert "active: expected ['a'], got ['a', 'b']" in result.message


def test_a_step_on_nothing_open_fails(tmp_path: Path) -> None:
    scenario = tmp_path / "nothing.yaml"
    scenario.write_text(
        f"model: {SCENARIOS / 'models' / 'gateways.bpmn'}\nprocess: parallel\nsteps:\n  - complete: after\n")
    result = run_scenario(scenario)
    assert not result.passed and "no open user task 'after'" in result.message


def test_cli_runs_the_scenarios_and_counts() -> None:
    out = CliRunner().invoke(app, ["bpmn", "test", str(SCENARIOS)])
    assert out.exit_code == 0, out.output
    assert f"{len(FILES)} passed, 0 failed" in out.output


def test_cli_validate_lists_every_problem() -> None:
    out = CliRunner().invoke(app, ["bpmn", "validate", str(SCENARIOS / "models" / "refused.bpmn")])
    assert out.exit_code == 1
    assert "refused.bpmn:6: <script>" in out.output


def test_spiffworkflows_python_engine_is_never_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every scenario (deploy, run, dump, load) passes while building a PythonScriptEngine raises."""
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

    def refuse(self: object, *args: object, **kwargs: object) -> None:
        raise AssertionError("a PythonScriptEngine was built")

    monkeypatch.setattr(PythonScriptEngine, "__init__", refuse)
    failed = [r.line() for r in (run_scenario(p) for p in FILES) if not r.passed]
    assert failed == []
