"""The embedding example shown in the README is a real program: it runs, and the README shows it verbatim."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from types import ModuleType

import pytest

from casepilot.store import Store

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "embedding.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("casepilot_example_embedding", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_shows_the_example_verbatim() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "```python\n" + EXAMPLE.read_text(encoding="utf-8") + "```\n" in readme


def test_the_example_settles_and_pays_a_claim_through_a_senior_analyst(capsys: pytest.CaptureFixture[str]) -> None:
    example = _load()
    url = f"sqlite:///{tempfile.mkdtemp(prefix='casepilot-example-')}/cases.db"
    letter = "I am furious. Mary Jones, +44 20 7946 0958, wants the EUR 800 for the broken mirror now."
    assert example.handle_claim(url, letter, "CLM-4711", "Mary Jones", "GB82WEST12345698765432") == "completed"
    assert "completed" in capsys.readouterr().out  # the chat answer about the case
    with Store.from_url(url) as store:
        (case,) = store.cases(business_key="CLM-4711")
        history = store.history(case.id)
        decided = [e for e in history if e.kind == "human_task_decided"]
        assert [(e.actor, e.payload["decision"]) for e in decided] == [("person:ann", "approve")]
        paid = [e for e in history if e.kind == "tool_call_completed" and e.payload["tool"] == "pay_claim"]
        assert len(paid) == 1 and paid[0].payload["engine"] == "bpmn"  # by the case's payment process
        assert "Mary Jones" not in str([e.payload for e in history])  # pseudonymised before it was stored
        assert store.verify(case.id).ok
