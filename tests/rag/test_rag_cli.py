"""``casepilot rag`` from a shell, and a served orchestrator's retrieve tool over the same folder."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from casepilot.api.settings import ApiSettings, registry_with_documents
from casepilot.cli import app

runner = CliRunner()


def _docs(folder: Path) -> Path:
    (folder / "motor").mkdir(parents=True)
    (folder / "motor" / "glass.md").write_text("# Motor policy\n\nHail and glass damage are covered.\n")
    (folder / "travel.txt").write_text("Travel policy: lost luggage is reimbursed up to EUR 1,500.\n")
    (folder / "notes.bin").write_bytes(b"\x00\x01")  # not text: left out
    (folder / "empty.md").write_text("  \n")
    return folder


def test_ingest_search_and_list_from_the_shell(tmp_path: Path) -> None:
    docs, store = _docs(tmp_path / "docs"), ["--store", str(tmp_path / "chroma")]
    first = runner.invoke(app, ["rag", "ingest", str(docs), "-c", "policies", *store])
    assert first.exit_code == 0, first.output
    assert "2 documents, 2 chunks in 'policies'" in first.output and "skipped" in first.output
    again = runner.invoke(app, ["rag", "ingest", str(docs), "-c", "policies", *store])
    assert "2 documents, 2 chunks" in again.output  # the same files replace themselves
    listed = runner.invoke(app, ["rag", "collections", *store])
    assert "policies" in listed.output and "│ 2 " in listed.output and "wordllama" in listed.output
    found = runner.invoke(app, ["rag", "search", "is glass covered", "-c", "policies", "--k", "1", *store])
    assert found.exit_code == 0, found.output
    assert "policies/motor/glass.md#0" in found.output and "travel" not in found.output


def _said(output: str) -> str:
    """The output as plain words (rich draws error boxes and wraps lines)."""
    return " ".join(output.replace("│", " ").split())


def test_the_shell_says_what_is_wrong(tmp_path: Path) -> None:
    store = ["--store", str(tmp_path / "chroma")]
    missing = runner.invoke(app, ["rag", "ingest", str(tmp_path / "nope"), "-c", "policies", *store])
    assert missing.exit_code != 0 and "does not exist" in _said(missing.output)
    (tmp_path / "blank").mkdir()
    empty = runner.invoke(app, ["rag", "ingest", str(tmp_path / "blank"), "-c", "policies", *store])
    assert empty.exit_code != 0 and "no text found" in _said(empty.output)
    unknown = runner.invoke(app, ["rag", "search", "anything", "-c", "nothing-here", *store])
    assert unknown.exit_code != 0 and "nothing-here" in str(unknown.exception)


def test_a_served_orchestrator_retrieves_from_the_ingested_folder(tmp_path: Path) -> None:
    docs, chroma = _docs(tmp_path / "docs"), tmp_path / "chroma"
    assert runner.invoke(app, ["rag", "ingest", str(docs), "-c", "policies", "--store", str(chroma)]).exit_code == 0
    registry = ApiSettings(registry=registry_with_documents(chroma), deployed_tools=False).make_registry()
    outcome = registry.invoke("retrieve", {"query": "lost luggage", "collection": "policies", "limit": 1})
    (passage,) = outcome.result.passages
    assert passage.source.startswith("policies/travel.txt#0") and "EUR 1,500" in passage.text
    assert {"sentiment", "retrieve"} <= set(registry.names())
    help_text = runner.invoke(app, ["serve", "--help"]).output
    assert "--documents" in help_text
