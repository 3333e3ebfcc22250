from __future__ import annotations

import pytest

from casepilot.errors import RetrievalError
from casepilot.rag import DocumentStore, Retriever
from casepilot.tools import ToolRegistry
from casepilot.tools.builtin import builtin_tools


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_each_mode_ranks_the_answer_first_with_a_citation(store: DocumentStore, mode: str) -> None:
    hits = Retriever(store).search("policies", "is storm damage to my roof covered?", 3, mode=mode)  # type: ignore[arg-type]
    top = hits[0]
    assert (top.collection, top.document_id, top.title) == ("policies", "home-1", "Home policy")
    assert "roof" in top.text and top.citation == f"policies/home-1#{top.chunk}"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize("dense_weight", [0.5, 1.0])
def test_hybrid_fuses_by_reciprocal_rank(store: DocumentStore, dense_weight: float) -> None:
    retriever = Retriever(store, rrf_k=60, dense_weight=dense_weight)
    query = "lost luggage reimbursed"
    dense = retriever.search("policies", query, 50, mode="dense")
    lexical = retriever.search("policies", query, 50, mode="lexical")
    hybrid = retriever.search("policies", query, 50, mode="hybrid")
    rank_d = {(h.document_id, h.chunk): r for r, h in enumerate(dense, start=1)}
    rank_l = {(h.document_id, h.chunk): r for r, h in enumerate(lexical, start=1)}
    for hit in hybrid:
        key = (hit.document_id, hit.chunk)
        expected = sum(w / (60 + ranks[key]) for w, ranks in ((dense_weight, rank_d), (1.0, rank_l)) if key in ranks)
        assert hit.score == pytest.approx(expected)
    assert {(h.document_id, h.chunk) for h in hybrid} == set(rank_d) | set(rank_l)
    assert hybrid[0].document_id == "travel-1"


@pytest.mark.parametrize("weight", [-0.1, 1.5])
def test_the_dense_weight_must_be_a_share(store: DocumentStore, weight: float) -> None:
    with pytest.raises(RetrievalError, match="dense_weight must be between 0 and 1"):
        Retriever(store, dense_weight=weight)


def test_distinct_documents_keeps_the_best_passage_of_each(store: DocumentStore) -> None:
    hits = Retriever(store).search("policies", "covered damage", 10, distinct_documents=True)
    assert sorted(h.document_id for h in hits) == ["home-1", "motor-1", "travel-1"]


def test_the_retrieve_tool_through_the_registry(store: DocumentStore) -> None:
    registry = ToolRegistry(builtin_tools(retriever=Retriever(store, default_collection="policies")))
    assert "retrieve" in registry.names()
    out = registry.invoke("retrieve", {"query": "what if my car is stolen?", "limit": 2}).result
    assert len(out.passages) == 2
    first = out.passages[0]
    assert first.source.startswith("policies/motor-1#") and first.source.endswith("(Motor policy)")
    assert "police" in first.text and first.score is not None
    named = registry.invoke("retrieve", {"query": "medical costs abroad", "collection": "policies"}).result
    assert named.passages[0].source.startswith("policies/travel-1#")


def test_the_tool_needs_a_collection_when_there_is_no_default(store: DocumentStore) -> None:
    with pytest.raises(RetrievalError, match="name one of: policies"):
        Retriever(store)("hail", None, 3)
