"""Deploying a bundle fails closed, and ``casepilot validate`` says what a guardrail cannot see.

A bundle that binds a payment must say who answers "it may have run — run it again?"; a
guardrail may only route to roles the bundle has; and a guardrail input that a tool cannot
supply (``amount`` for a tool without one) is reported before the first case runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from casepilot.agent.bundle import load_folder
from casepilot.agent.lint import guardrail_lints
from casepilot.demo.run import demo_registry
from casepilot.errors import DefinitionError
from casepilot.validation import validate_paths

CLAIMS = Path(__file__).resolve().parents[2] / "examples" / "claims"


def claims_copy(tmp_path: Path, **governance: object) -> Path:
    folder = tmp_path / "claims"
    shutil.copytree(CLAIMS, folder, ignore=shutil.ignore_patterns("scenarios"))
    manifest = yaml.safe_load((folder / "casepilot.yaml").read_text(encoding="utf-8"))
    for key, value in governance.items():
        if value is None:
            manifest["governance"].pop(key, None)
        else:
            manifest["governance"][key] = value
    (folder / "casepilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return folder


def test_the_shipped_bundle_has_an_operator_and_no_lints() -> None:
    registry = demo_registry()
    bundle = load_folder(CLAIMS, registry)
    assert bundle.governor.operator_role == "claims operations"
    assert {"senior analyst", "claims handler", "claims operations"} <= (bundle.governor.known_roles or set())
    assert guardrail_lints(bundle, registry) == []


def test_a_bundle_binding_a_payment_without_an_operator_role_does_not_deploy(tmp_path: Path) -> None:
    folder = claims_copy(tmp_path, operator_role=None)
    # pay_claim is the payment process's service task: a process's tools count as the bundle's
    with pytest.raises(DefinitionError, match=r"non-idempotent tool\(s\) pay_claim, send_rejection.*operator_role"):
        load_folder(folder, demo_registry())


def test_a_guardrail_routing_to_a_role_the_bundle_lacks_does_not_deploy(tmp_path: Path) -> None:
    folder = claims_copy(tmp_path)
    dmn = folder / "guardrails.dmn"
    dmn.write_text(dmn.read_text(encoding="utf-8").replace('"senior analyst"', '"senior analist"', 1), encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_folder(folder, demo_registry())
    problem = caught.value.problems[0]
    assert problem.file == str(dmn) and problem.element == "large_amount"
    assert "'senior analist', which does not exist in the bundle" in problem.message


def test_validate_reports_inputs_a_tool_cannot_supply(tmp_path: Path) -> None:
    folder = claims_copy(tmp_path, guardrails=[
        {"file": "guardrails.dmn", "decision": "Review routing", "applies_to": ["tool_call"], "amount": "amount"}])
    lints = guardrail_lints(load_folder(folder, demo_registry()), demo_registry())
    without_amount = sorted(line.split("which tool ")[1].split(" ")[0] for line in lints if "reads `amount`" in line)
    assert without_amount == ["'extract_claim'", "'send_rejection'", "'sentiment'"]
    assert all("fallback (require_human to 'claims operations')" in line for line in lints)
    console = Console(record=True, width=400)
    assert validate_paths([folder], console) == 0
    output = console.export_text()
    assert "lint" in output and "tool 'sentiment' cannot supply" in output


def test_validate_reports_a_case_path_and_a_signal_that_do_not_exist(tmp_path: Path) -> None:
    folder = claims_copy(tmp_path)
    dmn = folder / "guardrails.dmn"
    dmn.write_text(dmn.read_text(encoding="utf-8").replace("case.review.decision", "case.verdict.decision"),
                   encoding="utf-8")
    manifest = yaml.safe_load((folder / "casepilot.yaml").read_text(encoding="utf-8"))
    manifest["signals"] = {"confidence": "claim.confidence"}
    (folder / "casepilot.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    lints = guardrail_lints(load_folder(folder, demo_registry()), demo_registry())
    assert any("`case.verdict.decision`, but the case file has no item 'verdict'" in line for line in lints)
    assert any("reads `sentiment`, but the bundle names no `signals.sentiment`" in line for line in lints)
