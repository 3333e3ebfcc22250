"""``casepilot decide --value NAME=VALUE``: the typed values a human task declares, from the shell."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from casepilot.agent.orchestrator import Orchestrator
from casepilot.cli import app
from casepilot.demo.run import LETTERS, demo_registry
from casepilot.store import Store

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _said(output: str) -> str:
    """The words of an error box (rich wraps and frames them)."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", output).split())


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def test_a_decision_brings_its_typed_values_and_a_wrong_one_is_refused(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path}/cli.db"]
    _ok(["deploy", str(REPO / "examples" / "claims"), *db])
    variables = json.dumps({"letter": LETTERS["senior-review"], "policy": "POL-1"})
    case_id = _ok(["start", "claim-triage", "--vars", variables, *db]).strip()
    _ok(["run", case_id, *db])
    with Store.from_url(db[1]) as store:
        (task,) = store.tasks(case_id=case_id, status="open")
    senior = ["--as", "ann", "--role", "senior analyst", *db]

    wrong = runner.invoke(app, ["decide", task.id, "--choice", "approve", "--value", "reason=because", *senior])
    assert wrong.exit_code != 0 and "choose one of documents complete, amount checked" in _said(wrong.output)
    unknown = runner.invoke(app, ["decide", task.id, "--choice", "approve", "--value", "amount=5", *senior])
    assert unknown.exit_code != 0 and "a field the task declares (reason)" in _said(unknown.output)
    with Store.from_url(db[1]) as store:
        assert store.task(task.id).status == "open"  # refused: nothing recorded

    assert "approve by person:ann" in _ok(["decide", task.id, "--choice", "approve",
                                           "--value", "reason=amount checked", *senior])
    with Store.from_url(db[1]) as store:  # the case file's ``review`` holds the decision with its value
        orch = Orchestrator(store, demo_registry())
        try:
            engine = orch.runtime.load(case_id).engine
            assert engine is not None
            review = engine.variables()["review"]
        finally:
            orch.close()
    assert (review["decision"], review["reason"]) == ("approve", "amount checked")
