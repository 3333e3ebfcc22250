"""The chat's model calls and retrievals are routed by the bundle's DMN decisions (issue 17).

* Model routing with ``purpose = "chat"``: the claim carries (pseudonymised) personal data, so
  the example table sends the chat to the on-premises endpoint; the cloud sees nothing; the
  ``llm_call`` records the route and its rule id. When the on-premises model fails, personal
  data has no fallback: the answer comes from the records and says why.
* Retrieval routed inside the ``retrieve`` tool: the rag ``Router`` picks collection and
  embedding from the case's context (definition, stage, PII present); the chat's answer cites
  the passage (``collection/document#chunk``), a cited passage that was not retrieved is
  dropped; the retrieval's verdict, route, rule ids and citations are in the history.
* The tool routes on its own too (a binding's call): route and citations are in its result,
  so the tool call's history record carries them; a route to an embedding without a
  retriever fails closed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from casepilot.agent.chat import converse
from casepilot.agent.chat_model import ChatModel, use_chat_model
from casepilot.agent.llm_client import LLMClient
from casepilot.agent.llm_endpoints import EndpointSettings
from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.demo.run import EXAMPLE, LETTERS, demo_registry
from casepilot.rag import Document, DocumentStore, Retriever, Router
from casepilot.store import Store
from casepilot.tools import ToolCallError, ToolRegistry
from casepilot.tools.builtin import retrieve_tool
from casepilot.tools.builtin.retrieve import RetrievalContext, retrieval_context
from tests._openai_server import Reply, ScriptedOpenAI
from tests.agent.conftest import OrchFactory
from tests.agent.test_llm_routing_e2e import claims_with_routing, endpoints

POLICY = ("Motor policy POL-3 covers broken mirrors and glass up to EUR 1,000 per claim. "
          "Claims over EUR 10,000 need a senior analyst.")


def said(answer: str, citations: list[str]) -> Reply:
    return Reply(text=json.dumps({"answer": answer, "citations": citations, "propose": None}))


def client_for(servers: dict[str, ScriptedOpenAI]) -> LLMClient:
    settings = {name: EndpointSettings(base_url=s.url, max_retries=1, backoff=0.0) for name, s in servers.items()}
    return LLMClient(settings, sleep=lambda _s: None)


def test_the_chat_goes_where_the_routing_table_sends_personal_data(make_orch: OrchFactory, tmp_path: Path) -> None:
    orch, store = make_orch()
    orch.deploy(claims_with_routing(tmp_path))
    case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-3"})
    orch.run(case.id)
    with endpoints(onprem=[said("A senior analyst reviews it.", []), Reply.error(503, "down"),
                           Reply.error(503, "down")],
                   cloud=[]) as servers:
        use_chat_model(orch, ChatModel(client_for(servers), "scripted-model"))

        first = converse(orch, case.id, "person:olga", "What happens next?")
        second = converse(orch, case.id, "person:olga", "And then?")

        assert servers["cloud"].received == []
    assert first.source == "model" and first.text == "A senior analyst reviews it."
    [call] = [e for e in store.history(case.id) if e.kind == "llm_call"]
    assert call.payload["purpose"] == "chat" and call.payload["endpoint"] == "onprem"
    assert call.rule_ids == ("pii_on_premises",) and call.payload["route"]["decision"] == "Model routing"
    assert second.source == "offline"
    assert "the model endpoint 'onprem' failed (server_error HTTP 503)" in second.text
    [error] = [e.payload for e in store.history(case.id) if e.kind == "error" and e.payload.get("source") == "chat"]
    assert error["detail"]["failure"]["endpoint"] == "onprem"


@pytest.fixture
def library(tmp_path: Path) -> DocumentStore:
    documents = DocumentStore(tmp_path / "chroma", chunk_size=400, chunk_overlap=0)
    documents.create_collection("policies")
    documents.ingest("policies", [Document("motor", POLICY, title="Motor policy")])
    documents.create_collection("general")
    documents.ingest("general", [Document("faq", "Office hours are 9 to 5.", title="FAQ")])
    documents.create_collection("aero")
    documents.ingest("aero", [Document("lift", "Lift grows with the angle of attack until the wing stalls.")])
    return documents


def routed_registry(library: DocumentStore) -> ToolRegistry:
    registry = demo_registry()
    registry.register(retrieve_tool(Retriever(library, default_collection="general"), router=Router()), replace=True)
    return registry


def test_the_chat_cites_documents_the_routed_retrieval_found(db_url: str, library: DocumentStore) -> None:
    store = Store.from_url(db_url)
    orch = Orchestrator(store, routed_registry(library), RulePlanner())
    orch.deploy(EXAMPLE)
    case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-3"})
    orch.run(case.id)
    with endpoints(default=[said("The policy covers broken mirrors up to EUR 1,000 [policies/motor#0] "
                                 "[policies/other#4].", ["policies/motor#0"])]) as servers:
        use_chat_model(orch, ChatModel(client_for(servers), "gpt-4o-mini"))
        turn = converse(orch, case.id, "person:olga", "Is the broken mirror covered by the policy?")
        prompt = json.loads(servers["default"].received[0]["messages"][-1]["content"])

    assert next(d["cite"] for d in prompt["grounding"]["documents"]) == "policies/motor#0"
    assert turn.citations == ("policies/motor#0",) and turn.dropped_citations == ("policies/other#4",)
    assert "[policies/other#4]" not in turn.text
    [retrieval] = [e for e in store.history(case.id) if e.kind == "verdict"
                   and e.payload.get("action") == "retrieval"]
    assert retrieval.payload["kind"] == "allow" and retrieval.payload["citations"][0] == "policies/motor#0"
    assert retrieval.payload["route"]["collection"] == "policies" and "claims_policies" in retrieval.rule_ids
    orch.close()
    store.close()


def test_the_retrieve_tool_routes_each_call_and_reports_the_route(library: DocumentStore) -> None:
    tool = retrieve_tool(Retriever(library, default_collection="general"), router=Router())
    registry = ToolRegistry([tool])

    claim = registry.invoke("retrieve", {"query": "broken mirror", "case_definition": "claim-triage",
                                         "collection": "general"}).output()
    assert claim["route"] == {"collection": "policies", "embedding": "wordllama", "decision": "Route",
                              "rule_ids": ["claims_policies"], "requested_collection": "general"}
    assert claim["citations"][0] == "policies/motor#0"

    with retrieval_context(RetrievalContext(definition="other", topic="cooking")):
        other = registry.invoke("retrieve", {"query": "office hours"}).output()
    assert other["route"]["collection"] == "general" and other["route"]["rule_ids"] == ["otherwise_general"]


def test_a_route_to_an_embedding_without_a_retriever_fails_closed(library: DocumentStore) -> None:
    registry = ToolRegistry([retrieve_tool(Retriever(library), router=Router())])
    long_question = "How does the wing's lift change with the angle of attack? " * 5
    with pytest.raises(ToolCallError) as raised:
        registry.invoke("retrieve", {"query": long_question, "topic": "aerodynamics"})
    assert "names embedding 'openai'" in str(raised.value) and "aero_long" in str(raised.value)
    # personal data present: the table keeps the question offline
    kept = registry.invoke("retrieve", {"query": long_question, "topic": "aerodynamics", "pii_types": ["PERSON"]})
    assert kept.output()["route"]["rule_ids"] == ["aero_long_pii"]
    assert kept.output()["route"]["embedding"] == "wordllama"
