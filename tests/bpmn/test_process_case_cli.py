"""A BPMN process started on its own from the shell: ``casepilot start KEY --process ID``, then
``show`` (its tokens, inbox item, ``--svg`` diagram), ``decide`` with the form's value,
``history`` and ``history verify`` — and an unknown process id named with the ones there are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from casepilot.cli import app
from casepilot.store import Store
from tests.agent._support import calls_of
from tests.bpmn._process_bundle import CLERK, write_process_bundle

runner = CliRunner()
TOOLS = ["--tools", "tests.bpmn._process_bundle:PROCESS_TOOLS"]


def _cli(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _flat(result: Result) -> str:
    return " ".join(result.output.split())  # rich wraps long lines


@pytest.mark.usefixtures("fresh_calls")
def test_a_process_is_started_shown_decided_and_verified_from_the_shell(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path}/cli.db"]
    assert _cli("deploy", str(write_process_bundle(tmp_path / "pay", "pay", diagram=True)), *db, *TOOLS).exit_code == 0
    unknown = _cli("start", "pay", "--process", "pay_big", *db, *TOOLS)
    assert unknown.exit_code == 1  # main() prints the error; the runner keeps it
    assert str(unknown.exception) == "definition 'pay' has no BPMN process 'pay_big'; its processes: pay_small"

    started = _cli("start", "pay", "--process", "pay_small", "--business-key", "P-3",
                   "--vars", '{"payee": "Ann Lee", "amount": 250}', *db, *TOOLS)
    assert started.exit_code == 0, started.output
    case_id = started.output.strip().splitlines()[-1]
    svg = tmp_path / "pay.svg"
    shown = _cli("show", case_id, "--svg", str(svg), *db, *TOOLS)
    assert shown.exit_code == 0, shown.output
    assert "pay v1 · BPMN process pay_small · active · P-3" in _flat(shown)
    assert "process pay_small (case.1): waiting; tokens at confirm" in _flat(shown)
    assert f"Confirm the payment — for {CLERK}" in _flat(shown) and "Ann" not in shown.output
    assert 'data-element="confirm" data-kind="userTask" class="active"' in svg.read_text(encoding="utf-8")

    store = Store.from_url(db[1])
    [task] = store.tasks(case_id=case_id, status="open")
    store.close()
    assert task.id in shown.output.replace("\n", "")
    task_id = task.id
    decided = _cli("decide", task_id, "--choice", "complete", "--as", "ann", "--role", CLERK, "--value", "ok=yes",
                   *db, *TOOLS)
    assert decided.exit_code == 0, decided.output
    assert calls_of("pay_out") == [{"payee": "Ann Lee", "amount": 250.0}]
    done = _cli("show", case_id, *db, *TOOLS)
    assert "BPMN process pay_small · completed" in _flat(done) and "completed; tokens at none" in _flat(done)
    history = json.loads(_cli("history", case_id, "--json", *db).output)
    steps = [(e["kind"], e["payload"].get("element")) for e in history if e["payload"].get("engine") == "bpmn"]
    assert steps[:2] == [("transition", "start"), ("transition", "level")]
    assert ("verdict", "pay") in steps and ("tool_call_completed", "pay") in steps
    verified = _cli("history", "verify", case_id, *db)
    assert verified.exit_code == 0 and "verify" in verified.output
