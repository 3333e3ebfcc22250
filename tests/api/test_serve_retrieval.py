"""``casepilot serve --documents`` builds the ``retrieve`` tool with the DMN retrieval router.

With a routing table (``--retrieval-routing FILE``; here also the example one) the served
registry's ``retrieve`` routes each call on the case context the loop and the chat set
(``retrieval_context``); the route and its rule ids come back with the passages. Without one,
a call searches the collection its binding names (tests/rag/test_rag_cli.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from casepilot.api.settings import registry_with_documents
from casepilot.cli import app as cli_app
from casepilot.rag import EXAMPLE_ROUTING, Document, DocumentStore
from casepilot.tools.builtin.retrieve import RetrievalContext, retrieval_context

_ONLY_FAQ = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="faq_routing" name="FAQ routing"
             namespace="https://casepilot.dev/tests/faq-routing">
  <inputData id="caseDefinition" name="caseDefinition"><variable name="caseDefinition" typeRef="string"/></inputData>
  <decision id="route" name="Route">
    <informationRequirement id="ir_case"><requiredInput href="#caseDefinition"/></informationRequirement>
    <decisionTable id="dt_route" hitPolicy="FIRST">
      <input id="in_case"><inputExpression id="ie_case" typeRef="string"><text>caseDefinition</text></inputExpression></input>
      <output id="o_collection" name="collection" typeRef="string"/>
      <output id="o_embedding" name="embedding" typeRef="string"/>
      <rule id="everything_to_faq">
        <inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"faq"</text></outputEntry><outputEntry><text>"wordllama"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "chroma"
    documents = DocumentStore(folder, chunk_size=400, chunk_overlap=0)
    for collection, text in (("policies", "The motor policy covers broken mirrors."),
                             ("general", "Office hours are 9 to 5."),
                             ("faq", "Claims are answered within five days.")):
        documents.create_collection(collection)
        documents.ingest(collection, [Document("doc", text)])
    return folder


def _routed(registry: Any, definition: str) -> dict[str, Any]:
    with retrieval_context(RetrievalContext(definition=definition)):
        result: dict[str, Any] = registry.invoke("retrieve", {"query": "what is covered?"}).output()
    return result


def test_the_served_retrieve_tool_routes_by_the_example_table(library: Path) -> None:
    registry = registry_with_documents(library, EXAMPLE_ROUTING)()

    claims = _routed(registry, "claim-triage")
    other = _routed(registry, "onboarding")

    assert claims["route"]["collection"] == "policies" and claims["route"]["rule_ids"] == ["claims_policies"]
    assert claims["citations"] == ["policies/doc#0"]
    assert other["route"]["collection"] == "general" and other["route"]["rule_ids"] == ["otherwise_general"]
    assert {"ocr", "sentiment", "summarise", "retrieve"} <= set(registry.names())


def test_serve_takes_a_routing_table_of_its_own(library: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    routing = tmp_path / "faq.dmn"
    routing.write_text(_ONLY_FAQ, encoding="utf-8")
    served: list[Any] = []
    import uvicorn

    # The app serve would listen with, instead of listening.
    monkeypatch.setattr(uvicorn, "run", lambda app, **_kw: served.append(app))
    result = CliRunner().invoke(cli_app, ["serve", "--db", f"sqlite:///{tmp_path / 'served.db'}",
                                          "--documents", str(library), "--retrieval-routing", str(routing)])

    assert result.exit_code == 0, result.output
    [app] = served
    routed = _routed(app.state.orchestrator.registry, "claim-triage")
    assert routed["route"]["collection"] == "faq" and routed["route"]["rule_ids"] == ["everything_to_faq"]
    assert routed["citations"] == ["faq/doc#0"]


def test_a_routing_table_without_documents_is_refused(tmp_path: Path) -> None:
    routing = tmp_path / "faq.dmn"
    routing.write_text(_ONLY_FAQ, encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["serve", "--db", f"sqlite:///{tmp_path / 'served.db'}",
                                          "--retrieval-routing", str(routing)])
    assert result.exit_code != 0
    assert result.exit_code == 2  # a usage error, before anything is served
    words = " ".join(w for w in result.output.split() if w.strip("│╭╮╰╯─"))
    assert "routing table needs --documents" in words
