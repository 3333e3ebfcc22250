"""Operations from the shell (issue 16): ``run`` says why a case stopped and exits non-zero when
it is blocked (3) or failed (4); ``terminate | suspend | resume | retry | correct | reassign``
with ``--as/--role`` like ``decide``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from casepilot.cli import app
from casepilot.store import Store
from casepilot.tools import NO_RETRY, tool
from tests.agent._support import CLAIMS, DoneResult, RefArgs, TaskSpec, write_bundle

runner = CliRunner()
BROKEN = {"on": True}
LETTER = ("This is the third time I write. Nobody answers and I am furious. "
          "Mary Jones wants the EUR 800 for the broken mirror now.")


@tool(name="flaky_cli", side_effect="idempotent", retry=NO_RETRY)
def flaky_cli(args: RefArgs) -> DoneResult:
    """A lookup whose service is down until the test brings it back."""
    if BROKEN["on"]:
        raise RuntimeError("the credit bureau is down")
    return DoneResult(done=args.ref)


@tool(name="archive_cli", side_effect="idempotent", retry=NO_RETRY)
def archive_cli(args: RefArgs) -> DoneResult:
    """File the case away."""
    return DoneResult(done=args.ref)


TOOLS = [flaky_cli, archive_cli]
TOOLS_OPTION = ["--tools", "tests.test_cli_operations:TOOLS"]


def _cli(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _flat(result: Result) -> str:
    return " ".join(result.output.split())  # rich wraps long lines


def test_run_exits_3_when_a_guardrail_blocks_and_says_which(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path}/ops.db"]
    db = [*db, *TOOLS_OPTION]
    tasks = [TaskSpec("a", "First", "archive_cli", {"ref": "ref"}, {})]
    folder = write_bundle(tmp_path / "blocked", "blocked", tasks, guardrails=[("archive_cli", "block", None)])
    assert _cli("deploy", str(folder), *db).exit_code == 0
    case_id = _cli("start", "blocked", "--vars", '{"ref": "R-1"}', *db).output.strip()
    ran = _cli("run", case_id, *db)
    assert ran.exit_code == 3, ran.output
    assert "blocked by guardrail Route (guardrails) rule r0: rule 0 for block" in _flat(ran)


def test_a_failed_tool_exits_4_until_an_operator_retries_it(tmp_path: Path) -> None:
    BROKEN["on"] = True
    db = ["--db", f"sqlite:///{tmp_path}/ops.db"]
    tools = TOOLS_OPTION
    folder = write_bundle(tmp_path / "flaky", "flaky-cli", [TaskSpec("f", "Credit check", "flaky_cli",
                                                                      {"ref": "ref"}, {})])
    assert _cli("deploy", str(folder), *db, *tools).exit_code == 0
    case_id = _cli("start", "flaky-cli", "--vars", '{"ref": "R-2"}', *db, *tools).output.strip()
    ran = _cli("run", case_id, *db, *tools)
    assert ran.exit_code == 4 and "tool flaky_cli failed:" in _flat(ran) and "credit bureau is down" in _flat(ran)

    refused = _cli("retry", case_id, "Credit check", "--as", "bob", "--role", "clerk", *db, *tools)
    assert refused.exit_code == 1 and "needs the role 'operator'" in str(refused.exception)
    BROKEN["on"] = False
    retried = _cli("retry", case_id, "Credit check", "--as", "olga", "--role", "operator", *db, *tools)
    assert retried.exit_code == 0 and f"retry: case {case_id} is active" in retried.output
    ran = _cli("run", case_id, *db, *tools)
    assert ran.exit_code == 0 and "completed: case is completed" in _flat(ran)


def test_suspend_resume_reassign_correct_and_terminate_from_the_shell(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path}/ops.db"]
    me = ["--as", "otto", "--role", "claims operations"]
    assert _cli("deploy", str(CLAIMS), *db).exit_code == 0
    case_id = _cli("start", "claim-triage", "--vars", json.dumps({"letter": LETTER, "policy": "POL-1"}),
                   *db).output.strip()
    ran = _cli("run", case_id, *db)
    assert ran.exit_code == 0 and "waiting for senior analyst (" in _flat(ran)  # waiting for people is no failure

    with Store.from_url(db[1]) as store:
        (task,) = store.tasks(case_id=case_id, status="open")
    moved = _cli("reassign", task.id, "--to-role", "team lead", "--reason", "analysts are out", *me, *db)
    assert moved.exit_code == 0 and "for team lead" in moved.output
    assert _cli("reassign", task.id, *me, *db).exit_code != 0  # neither --to-role nor --to-person

    assert _cli("suspend", case_id, "--reason", "customer asked to wait", *me, *db).exit_code == 0
    refused = _cli("run", case_id, *db)
    assert refused.exit_code == 1 and "it is suspended" in str(refused.exception)
    assert f"resume: case {case_id} is active" in _cli("resume", case_id, "--reason", "back", *me, *db).output

    corrected = _cli("correct", case_id, "policy", '"POL-2"', "--reason", "typo in the policy number", *me, *db)
    assert corrected.exit_code == 0, corrected.output
    ended = _cli("terminate", case_id, "--reason", "duplicate", *me, *db)
    assert ended.exit_code == 0 and f"terminate: case {case_id} is terminated" in ended.output
    ran = _cli("run", case_id, *db)
    assert ran.exit_code == 0 and "terminated by otto: duplicate" in _flat(ran)

    with Store.from_url(db[1]) as store:
        operations = [e for e in store.history(case_id) if e.kind == "verdict" and e.payload.get("operation")]
        assert store.verify(case_id).ok
    assert [(e.payload["operation"], e.actor) for e in operations if e.payload.get("kind") == "allow"] == [
        ("reassign", "person:otto"), ("suspend", "person:otto"),
        ("resume", "person:otto"), ("correct", "person:otto"), ("terminate", "person:otto")]
