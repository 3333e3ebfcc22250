from __future__ import annotations

from pathlib import Path

import pytest

from casepilot.errors import CasepilotError, NotFound, RetrievalError
from casepilot.rag import Document, DocumentStore, OpenAIEmbeddings, Retriever

from .conftest import POLICIES


def chunk_ids(store: DocumentStore, collection: str, doc_id: str) -> list[str]:
    return [i for i in store.chunks(collection).ids if i.startswith(f"{doc_id}::")]


def test_ingest_chunks_with_metadata_and_ids_from_document_and_index(store: DocumentStore) -> None:
    stored = store.chunks("policies")
    motor = [(i, m) for i, m in zip(stored.ids, stored.metadatas, strict=True) if m["doc_id"] == "motor-1"]
    assert [i for i, _ in motor] == [f"motor-1::{n}" for n in range(len(motor))]
    assert len(motor) > 1  # chunk_size=200 splits it
    _, meta = motor[0]
    assert meta["title"] == "Motor policy" and meta["source"] == "policies/motor.pdf" and meta["chunk"] == 0
    [info] = store.list_collections()
    assert info.name == "policies" and info.embedding == "casepilot-wordllama:l2_supercat_256"
    assert info.chunks == len(stored.ids)


def test_reingesting_a_document_replaces_its_chunks(store: DocumentStore) -> None:
    before = store.list_collections()[0].chunks
    assert len(chunk_ids(store, "policies", "motor-1")) == 2
    store.ingest(
        "policies", [Document("motor-1", "Motor policy v2. Hail is no longer covered.", title="Motor v2")]
    )
    assert chunk_ids(store, "policies", "motor-1") == ["motor-1::0"]
    assert store.list_collections()[0].chunks == before - 1
    [hit] = [
        h
        for h in Retriever(store).search("policies", "hail", 5, mode="lexical")
        if h.document_id == "motor-1"
    ]
    assert hit.title == "Motor v2" and "no longer" in hit.text
    # the same document again: nothing is duplicated
    store.ingest(
        "policies", [Document("motor-1", "Motor policy v2. Hail is no longer covered.", title="Motor v2")]
    )
    assert store.list_collections()[0].chunks == before - 1


def test_delete_documents(store: DocumentStore) -> None:
    retriever = Retriever(store)
    assert any(h.document_id == "home-1" for h in retriever.search("policies", "burst water pipe", 3))
    store.delete("policies", ["home-1", "no-such-doc"])
    assert chunk_ids(store, "policies", "home-1") == []
    assert all(h.document_id != "home-1" for h in retriever.search("policies", "burst water pipe", 10))
    assert all(
        h.document_id != "home-1"
        for h in retriever.search("policies", "burst water pipe", 10, mode="lexical")
    )
    with pytest.raises(RetrievalError, match="list of document ids"):
        store.delete("policies", "travel-1")


def test_collections_persist_across_reopening(tmp_path: Path) -> None:
    path = tmp_path / "chroma"
    with DocumentStore(path) as first:
        first.create_collection("policies")
        first.create_collection("aero")
        first.ingest("policies", POLICIES)
    with DocumentStore(path) as reopened:
        assert [c.name for c in reopened.list_collections()] == ["aero", "policies"]
        retriever = Retriever(reopened)  # a fresh process-level view: the BM25 index is rebuilt from Chroma
        for mode in ("dense", "lexical", "hybrid"):
            top = retriever.search("policies", "is lost luggage reimbursed on a trip?", 1, mode=mode)
            assert top[0].document_id == "travel-1", mode
        reopened.delete_collection("aero")
    with DocumentStore(path) as again:
        assert [c.name for c in again.list_collections()] == ["policies"]


def test_a_collection_refuses_another_embedding_function(tmp_path: Path) -> None:
    path = tmp_path / "chroma"
    with DocumentStore(path) as built:
        built.create_collection("policies")
        built.ingest("policies", POLICIES)
    other = OpenAIEmbeddings("text-embedding-3-small", base_url="http://127.0.0.1:9/v1")  # never called
    with DocumentStore(path, embedding_function=other) as store:
        with pytest.raises(
            RetrievalError, match=r"built with embeddings 'casepilot-wordllama:l2_supercat_256'"
        ):
            Retriever(store).search("policies", "hail", 3)
        with pytest.raises(RetrievalError, match="same embedding function"):
            Retriever(store).search("policies", "hail", 3, mode="lexical")
        with pytest.raises(RetrievalError, match="re-ingest"):
            store.ingest("policies", POLICIES[:1])
        # the same name with another model is another embedding space, too
        same_name = OpenAIEmbeddings("text-embedding-3-large", base_url="http://127.0.0.1:9/v1")
        store.create_collection("hosted")
        with pytest.raises(RetrievalError, match="text-embedding-3-small"):
            store.collection("hosted", embedding_function=same_name)


def test_typed_errors_for_bad_input(store: DocumentStore) -> None:
    retriever = Retriever(store)
    with pytest.raises(NotFound, match=r"no collection 'claims' \(collections: policies\); create it"):
        retriever.search("claims", "hail", 3)
    with pytest.raises(NotFound):
        store.ingest("claims", POLICIES)
    with pytest.raises(RetrievalError, match="query is empty"):
        retriever.search("policies", "   ", 3)
    with pytest.raises(RetrievalError, match="k must be at least 1"):
        retriever.search("policies", "hail", 0)
    with pytest.raises(RetrievalError, match="unknown retrieval mode 'sparse'"):
        retriever.search("policies", "hail", 3, mode="sparse")  # type: ignore[arg-type]
    with pytest.raises(RetrievalError, match="'empty-1' has no text"):
        store.ingest("policies", [Document("empty-1", " \n ")])
    with pytest.raises(RetrievalError, match="empty id"):
        store.ingest("policies", [Document("", "text")])
    with pytest.raises(RetrievalError, match="no documents"):
        store.ingest("policies", [])
    with pytest.raises(RetrievalError, match="twice"):
        store.ingest("policies", [POLICIES[0], POLICIES[0]])
    with pytest.raises(RetrievalError, match="reserved metadata"):
        store.ingest("policies", [Document("x", "text", metadata={"chunk": 3})])
    with pytest.raises(RetrievalError, match="cannot create collection"):
        store.create_collection("a/b")
    with pytest.raises(RetrievalError, match="already exists"):
        store.create_collection("policies", exist_ok=False)
    for error in (NotFound, RetrievalError):
        assert issubclass(error, CasepilotError)
