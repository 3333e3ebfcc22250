"""``.bpmn`` files in the top-level ``casepilot validate``: checked with the DMN models beside them,
inside bundle folders too, every problem listed with file:line and element id, exit code 1."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from casepilot.cli import app

from ._models import process
from ._payment import CLAIMS, PAYMENT


def _validate(*paths: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["validate", *map(str, paths)], env={"COLUMNS": "400"})
    return result.exit_code, result.output


def test_the_flagship_payment_validates_with_its_decision() -> None:
    code, out = _validate(PAYMENT)
    assert code == 0, out
    assert f"ok   {PAYMENT}: BPMN: process payment with 26 elements" in out


def test_a_bundle_folder_reports_its_process_too() -> None:
    code, out = _validate(CLAIMS)
    assert code == 0, out
    assert "bundle claim-triage" in out and "payment.bpmn: BPMN: process payment" in out


def test_every_problem_is_listed_with_file_line_and_element(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bpmn"
    bad.write_text(process("""
<bpmn:startEvent id="s"/>
<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="run"/>
<bpmn:scriptTask id="run"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
<bpmn:sequenceFlow id="f1" sourceRef="run" targetRef="g"/>
<bpmn:exclusiveGateway id="g"/>
<bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="e">
  <bpmn:conditionExpression>approved == True</bpmn:conditionExpression>
</bpmn:sequenceFlow>
<bpmn:businessRuleTask id="rule" cp:decision="nowhere"/>
<bpmn:endEvent id="e"/>"""))
    (tmp_path / "ok.dmn").write_text((CLAIMS / "payment-approval.dmn").read_text())
    code, out = _validate(tmp_path)
    assert code == 1
    assert "FAIL" in out and "3 problems" in out
    assert f"{bad}:7: <run> scriptTask 'run': scripts cannot run" in out
    assert f"{bad}:11: <f2> condition 'approved == True' is not FEEL" in out
    assert f"{bad}:13: <rule> business-rule task 'rule' names decision 'nowhere'" in out
    assert f"ok   {tmp_path / 'ok.dmn'}" in out
