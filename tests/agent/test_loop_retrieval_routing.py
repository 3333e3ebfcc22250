"""The loop gives the ``retrieve`` tool the case's context, so the DMN router routes on it.

A case whose task is bound to the routed ``retrieve`` tool, run by a real Orchestrator: the
binding maps only the question, yet the route follows the case's definition, its active
stage and whether its case file holds personal data (pseudonyms of which types) — and the
route, its rule ids and the citations are in the recorded tool result.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from casepilot.agent.orchestrator import Orchestrator
from casepilot.rag import Document, DocumentStore, Retriever, Router
from casepilot.store import Store
from casepilot.tools.builtin import retrieve_tool
from tests.agent._support import ScriptedPlanner, assert_sound, events, make_registry

_CASE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="defs_lookup" name="lookup"
             targetNamespace="https://casepilot.dev/tests/lookup">
  <caseFileItemDefinition id="cfid_any" name="Any" definitionType="http://www.omg.org/spec/CMMN/DefinitionType/Unspecified"/>
  <case id="lookup" name="lookup">
    <caseFileModel id="cfm">
      <caseFileItem id="cfi_question" name="question" definitionRef="cfid_any" multiplicity="ZeroOrOne"/>
      <caseFileItem id="cfi_found" name="found" definitionRef="cfid_any" multiplicity="ZeroOrOne"/>
    </caseFileModel>
    <casePlanModel id="cpm" name="lookup" autoComplete="true">
      <planItem id="pi_research" name="Research" definitionRef="st_research"/>
      <stage id="st_research" name="Research" autoComplete="true">
        <planItem id="pi_look" name="Look up" definitionRef="t_look"/>
        <task id="t_look" name="Look up"/>
      </stage>
    </casePlanModel>
  </case>
</definitions>
"""

# Routes on the case definition, the stage and personal data — none of which the binding maps.
_ROUTING = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="lookup_routing" name="Lookup routing"
             namespace="https://casepilot.dev/tests/lookup-routing">
  <inputData id="caseDefinition" name="caseDefinition"><variable name="caseDefinition" typeRef="string"/></inputData>
  <inputData id="stage" name="stage"><variable name="stage" typeRef="string"/></inputData>
  <inputData id="piiPresent" name="piiPresent"><variable name="piiPresent" typeRef="boolean"/></inputData>
  <decision id="route" name="Route">
    <informationRequirement id="ir_case"><requiredInput href="#caseDefinition"/></informationRequirement>
    <informationRequirement id="ir_stage"><requiredInput href="#stage"/></informationRequirement>
    <informationRequirement id="ir_pii"><requiredInput href="#piiPresent"/></informationRequirement>
    <decisionTable id="dt_route" hitPolicy="FIRST">
      <input id="in_case"><inputExpression id="ie_case" typeRef="string"><text>caseDefinition</text></inputExpression></input>
      <input id="in_stage"><inputExpression id="ie_stage" typeRef="string"><text>stage</text></inputExpression></input>
      <input id="in_pii"><inputExpression id="ie_pii" typeRef="boolean"><text>piiPresent</text></inputExpression></input>
      <output id="o_collection" name="collection" typeRef="string"/>
      <output id="o_embedding" name="embedding" typeRef="string"/>
      <rule id="research_with_personal_data">
        <inputEntry><text>"lookup"</text></inputEntry><inputEntry><text>"Research"</text></inputEntry>
        <inputEntry><text>true</text></inputEntry>
        <outputEntry><text>"restricted"</text></outputEntry><outputEntry><text>"wordllama"</text></outputEntry>
      </rule>
      <rule id="research">
        <inputEntry><text>"lookup"</text></inputEntry><inputEntry><text>"Research"</text></inputEntry>
        <inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"open"</text></outputEntry><outputEntry><text>"wordllama"</text></outputEntry>
      </rule>
      <rule id="otherwise">
        <inputEntry><text>-</text></inputEntry><inputEntry><text>-</text></inputEntry><inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"general"</text></outputEntry><outputEntry><text>"wordllama"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def _bundle(folder: Path) -> Path:
    folder.mkdir()
    (folder / "case.cmmn").write_text(_CASE, encoding="utf-8")
    bindings = [{"task": "Look up", "tool": "retrieve", "inputs": {"query": "question"},
                 "outputs": {"found": "citations"}}]
    (folder / "bindings.yaml").write_text(yaml.safe_dump({"bindings": bindings}), encoding="utf-8")
    manifest = {"key": "lookup", "model": "case.cmmn", "bindings": "bindings.yaml",
                "governance": {"provenance_role": None, "operator_role": "operator"}}
    (folder / "casepilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return folder


@pytest.fixture
def orch(tmp_path: Path) -> Iterator[tuple[Orchestrator, Store]]:
    library = DocumentStore(tmp_path / "chroma", chunk_size=400, chunk_overlap=0)
    for collection, text in (("restricted", "Customer files are kept for ten years."),
                             ("open", "The motor policy covers glass damage."),
                             ("general", "Office hours are 9 to 5.")):
        library.create_collection(collection)
        library.ingest(collection, [Document("doc", text)])
    routing = tmp_path / "routing.dmn"
    routing.write_text(_ROUTING, encoding="utf-8")
    registry = make_registry()
    registry.register(retrieve_tool(Retriever(library, default_collection="general"), router=Router(routing)),
                      replace=True)
    store = Store.from_url(f"sqlite:///{tmp_path / 'cases.db'}")
    orchestrator = Orchestrator(store, registry, ScriptedPlanner())
    orchestrator.deploy(_bundle(tmp_path / "lookup"))
    yield orchestrator, store
    orchestrator.close()
    store.close()


@pytest.mark.parametrize(("question", "collection", "rule"), [
    ("How long are files of Mary Jones (mary.jones@example.com) kept?", "restricted", "research_with_personal_data"),
    ("What does the motor policy cover?", "open", "research"),
])
def test_the_loop_routes_retrieval_on_the_cases_definition_stage_and_personal_data(
        orch: tuple[Orchestrator, Store], question: str, collection: str, rule: str) -> None:
    orchestrator, store = orch
    case = orchestrator.start_case("lookup", {"question": question})

    outcome = orchestrator.run(case.id)

    assert outcome.reason == "completed"
    [completed] = events(store, case.id, "tool_call_completed")
    result = completed["result"]
    assert result["route"]["collection"] == collection
    assert result["route"]["rule_ids"] == [rule]
    assert result["route"]["decision"] == "Route"
    assert result["citations"] == [f"{collection}/doc#0"]
    assert store.case(case.id).state["engine"]["variables"]["found"] == [f"{collection}/doc#0"]
    assert_sound(store, case.id)
