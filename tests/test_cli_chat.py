"""``casepilot chat`` from a shell: answers printed as they are, proposals confirmed with ``--confirm``.

The model is the scripted OpenAI-protocol stand-in, configured as a user would (``OPENAI_BASE_URL``).
A citation such as ``[#12]`` reaches the terminal (rich markup is off for answers); an instruction
comes back as a proposal, ``chat CASE_ID --confirm PROPOSAL_ID`` carries it out governed as the
person — once; a proposal the chat never made is an error.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casepilot.cli import app
from casepilot.demo.run import LETTERS
from casepilot.store import Store
from tests._openai_server import Reply, scripted_openai

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def said(answer: str, citations: list[str]) -> Reply:
    return Reply(text=json.dumps({"answer": answer, "citations": citations, "propose": None}))


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def test_chat_prints_citations_and_confirms_a_proposal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the repository's
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "CASEPILOT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    db = ["--db", f"sqlite:///{tmp_path}/chat.db"]
    _ok(["deploy", str(REPO / "examples" / "claims"), *db])
    variables = json.dumps({"letter": LETTERS["senior-review"], "policy": "POL-1"})
    case_id = _ok(["start", "claim-triage", "--vars", variables, *db]).strip()
    _ok(["run", case_id, *db])
    with Store.from_url(db[1]) as store:
        waiting = next(e.seq for e in store.history(case_id) if e.kind == "human_task_created")

    with scripted_openai([said(f"It waits for a senior analyst's review [#{waiting}].", [f"#{waiting}"])]) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        answer = _ok(["chat", case_id, "Why is my claim stuck?", "--as", "olga", *db])
        assert f"It waits for a senior analyst's review [#{waiting}]." in answer
        assert len(server.received) == 1, "the CLI's chat asked the configured model"


def test_chat_confirms_a_proposal_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "CASEPILOT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    db = ["--db", f"sqlite:///{tmp_path}/chat.db"]
    _ok(["deploy", str(REPO / "examples" / "claims"), *db])
    variables = json.dumps({"letter": LETTERS["senior-review"], "policy": "POL-1"})
    case_id = _ok(["start", "claim-triage", "--vars", variables, *db]).strip()
    _ok(["run", case_id, *db])

    proposed = _ok(["chat", case_id, "Please request more documents", "--as", "olga", *db])

    assert "Proposed action: Request more documents" in proposed
    match = re.search(r"\(proposal (p\d+)\)", proposed)
    assert match is not None, proposed
    with Store.from_url(db[1]) as store:
        assert not [t for t in store.tasks(case_id=case_id, status="open") if t.role == "claims handler"]

    done = _ok(["chat", case_id, "--confirm", match.group(1), "--as", "olga", "--role", "claims operations", *db])

    assert done.startswith("Done: Request more documents")
    with Store.from_url(db[1]) as store:
        [task] = [t for t in store.tasks(case_id=case_id, status="open") if t.role == "claims handler"]
        assert task.plan_item == "Request more documents"
        plan = [e for e in store.history(case_id) if e.kind == "plan"][-1]
        assert (plan.actor, plan.payload["planner"]) == ("person:olga", "chat")
    again = runner.invoke(app, ["chat", case_id, "--confirm", match.group(1), "--as", "olga", *db])
    assert again.exit_code != 0 and "confirmed" in str(again.exception)
    unknown = runner.invoke(app, ["chat", case_id, "--confirm", "p1", "--as", "olga", *db])
    assert unknown.exit_code != 0 and "no chat proposal 'p1'" in str(unknown.exception)
    neither = runner.invoke(app, ["chat", case_id, *db])
    assert neither.exit_code == 2 and "--confirm" in neither.output
