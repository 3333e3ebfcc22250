"""The chat transcript in the docs (and the README) is produced by ``docs/chat/make_transcript.py``:
this runs it and fails when docs/chat-transcript.md is stale (regenerate it with the script)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "chat" / "make_transcript.py"


def test_the_committed_transcript_is_what_the_scripted_chat_produces(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_transcript", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    produced: str = module.transcript(tmp_path)

    # what the transcript shows happened, not only that it is unchanged
    assert "(Citations dropped, not in the case's records: #999.)" in produced
    assert "Proposed action: Request more documents. Nothing happens until you confirm it" in produced
    assert "Done: Request more documents" in produced
    assert "rules=['no_payment_promise_before_approval']" in produced
    assert "rules=['no_claim_of_action']" in produced
    assert "attempts=2" in produced  # the 429 was retried
    assert "Mary Jones" not in produced and "7946 0958" not in produced
    committed = module.OUTPUT.read_text(encoding="utf-8")
    assert produced == committed, "docs/chat-transcript.md is stale: run .venv/bin/python docs/chat/make_transcript.py"
