"""``casepilot dmn tck`` and ``casepilot dmn eval`` through the typer sub-app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from casepilot.dmn.cli import app

from ._dmn import decision, definitions, input_data, literal

MODEL = definitions(
    input_data("x", "number")
    + decision("double", literal("x * 2"), inputs=["x"])
    + '<decisionService id="svc" name="svc"><variable name="svc"/><outputDecision href="#d_double"/>'
    '<inputData href="#i_x"/></decisionService>',
    name="m",
)

TESTS = """<?xml version="1.0" encoding="UTF-8"?>
<testCases xmlns="http://www.omg.org/spec/DMN/20160719/testcase"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <modelName>m.dmn</modelName>
  <testCase id="ok">
    <inputNode name="x"><value xsi:type="xsd:decimal">2</value></inputNode>
    <resultNode name="double" type="decision"><expected><value xsi:type="xsd:decimal">4</value></expected></resultNode>
  </testCase>
  <testCase id="wrong">
    <inputNode name="x"><value xsi:type="xsd:decimal">2</value></inputNode>
    <resultNode name="double" type="decision"><expected><value xsi:type="xsd:decimal">5</value></expected></resultNode>
  </testCase>
  <testCase id="null">
    <inputNode name="x"><value xsi:nil="true"/></inputNode>
    <resultNode name="double" type="decision"><expected><value xsi:nil="true"/></expected></resultNode>
  </testCase>
  <testCase id="svc" type="decisionService" invocableName="svc">
    <inputNode name="x"><value xsi:type="xsd:decimal">5</value></inputNode>
    <resultNode name="double"><expected><value xsi:type="xsd:decimal">10</value></expected></resultNode>
  </testCase>
</testCases>
"""


def tck_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "level" / "0001-double"
    folder.mkdir(parents=True)
    (folder / "m.dmn").write_text(MODEL, encoding="utf-8")
    (folder / "0001-double-test-01.xml").write_text(TESTS, encoding="utf-8")
    return tmp_path / "level"


def test_tck_command_prints_failures_rates_and_totals_and_writes_json(tmp_path: Path) -> None:
    level = tck_folder(tmp_path)
    report = tmp_path / "report.json"
    ratchet = tmp_path / "ratchet.json"
    result = CliRunner().invoke(
        app, ["tck", str(level), "--json-report", str(report), "--update-ratchet", str(ratchet)]
    )
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1
    assert lines[-1] == "3 passed, 1 failed"
    assert lines[0] == "FAIL level/0001-double/wrong: double: expected 5, got 4"
    assert "all 75.00% (3/4), non-null 66.67% (2/3)" in result.output
    data = json.loads(report.read_text())
    assert data["total"]["failed"] == 1
    assert data["paths"]["level"]["folders"]["level/0001-double"]["non_null_total"] == 3
    assert json.loads(ratchet.read_text()) == {"level": {"all": 0.75, "non_null": 0.666666}}


def test_eval_command_prints_value_rules_and_messages(tmp_path: Path) -> None:
    path = tmp_path / "m.dmn"
    path.write_text(MODEL, encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", str(path), "double", "--input", '{"x": 21}'])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["value"] == 42
    service = CliRunner().invoke(app, ["eval", str(path), "svc", "--service", "--input", '{"x": 1.5}'])
    assert json.loads(service.output)["value"] == 3.0
    bad = CliRunner().invoke(app, ["eval", str(path), "double", "--input", "{"])
    assert bad.exit_code == 2
