"""The README's "Your own case" walk-through runs as written (issue 16: the README's new sections
are executed by the tests).

The test reads the section's shell block from README.md itself — not a copy — and runs each
command through the CLI in a fresh folder with its own data folder (so the default database
is a new one, as for a new user). ``CASE_ID`` is the id the block's ``casepilot start`` printed.
A comment after a command says what it prints: the test holds the command to it.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casepilot.cli import app

ROOT = Path(__file__).resolve().parents[1]


def _walkthrough(section: str) -> list[tuple[str, str]]:
    """(command, comment) for each command line of the first ``bash`` block under ``## {section}``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    body = text[start:end if end != -1 else len(text)]
    match = re.search(r"```bash\n(.*?)```", body, re.DOTALL)
    assert match is not None, f"no bash block in the README section {section!r}"
    steps: list[tuple[str, str]] = []
    for line in match.group(1).splitlines():
        command, _, comment = line.partition("#")
        if command.strip():
            steps.append((command.strip(), comment.strip()))
        elif comment and steps:  # a comment continued on the next line belongs to the command above
            steps[-1] = (steps[-1][0], f"{steps[-1][1]} {comment.strip()}")
    return steps


def test_the_write_your_own_case_walkthrough_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    steps = _walkthrough("Your own case")
    assert [c.split()[:2] for c, _ in steps][:3] == [["casepilot", "init"], ["casepilot", "validate"],
                                                     ["casepilot", "cmmn"]]
    monkeypatch.chdir(tmp_path)
    for name in ("CASEPILOT_DATABASE_URL", "CASEPILOT_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CASEPILOT_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    case_id: str | None = None
    for command, says in steps:
        args = shlex.split(command)
        assert args[0] == "casepilot", command
        if "CASE_ID" in args:
            assert case_id is not None, f"{command}: no case was started before it"
            args = [case_id if a == "CASE_ID" else a for a in args]
        result = runner.invoke(app, args[1:])
        assert result.exit_code == 0, (command, result.output, result.exception)
        output = result.output
        if args[1] == "init":
            # the comment lists the files the bundle gets: "loan/: casepilot.yaml, loan.cmmn, …"
            folder, _, files = says.partition(":")
            for name in (f.strip() for f in files.split(",")):
                assert (tmp_path / folder.strip() / name.rstrip("/")).exists(), f"init did not write {name}"
        elif args[1] == "start":
            case_id = output.strip().splitlines()[-1].strip()
        elif says:
            assert says in output, (command, says, output)
    assert case_id is not None
