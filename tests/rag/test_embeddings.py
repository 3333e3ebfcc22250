from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from casepilot.rag import (
    Document,
    DocumentStore,
    OpenAIEmbeddings,
    Retriever,
    WordLlamaEmbeddings,
    embedding_function_from_env,
)
from casepilot.rag import embeddings as embeddings_module

from ._embeddings_server import DIMENSIONS, bag_of_words, embeddings_server


def test_wordllama_is_offline_normalised_and_loaded_once() -> None:
    ef = WordLlamaEmbeddings()
    vectors = ef(["wing in a propeller slipstream", "boundary layer transition", "wing in a slipstream"])
    assert len(vectors) == 3 and all(v.shape == (256,) for v in vectors)
    assert np.allclose([np.linalg.norm(v) for v in vectors], 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[2]) > float(vectors[0] @ vectors[1])
    assert ef.name() == "casepilot-wordllama" and ef.identity == "casepilot-wordllama:l2_supercat_256"
    assert ef.default_space() == "cosine"
    assert embeddings_module._wordllama_model() is WordLlamaEmbeddings()._wordllama  # one model per process
    assert isinstance(embedding_function_from_env({}), WordLlamaEmbeddings)


def test_openai_compatible_embeddings_against_a_local_server(tmp_path: Path) -> None:
    with embeddings_server() as server:
        ef = embedding_function_from_env(
            {
                "CASEPILOT_EMBEDDING_MODEL": "local-embedder",
                "OPENAI_BASE_URL": server.url,
                "OPENAI_API_KEY": "sk-test",
            }
        )
        assert isinstance(ef, OpenAIEmbeddings) and ef.identity == "casepilot-openai:local-embedder"
        vectors = ef(["hail damage", "lost luggage"])
        for vector, text in zip(vectors, ("hail damage", "lost luggage"), strict=True):
            assert np.array_equal(vector, np.asarray(bag_of_words(text), dtype=np.float32))
        assert vectors[0].shape == (DIMENSIONS,)
        assert server.received[-1] == {
            "model": "local-embedder",
            "input": ["hail damage", "lost luggage"],
            "encoding_format": "base64",
        }
        assert server.authorization[-1] == "Bearer sk-test"

        with DocumentStore(tmp_path / "chroma", embedding_function=ef) as store:
            store.create_collection("hosted")
            store.ingest(
                "hosted",
                [
                    Document("a", "Hail damage to the car is covered.", title="Motor"),
                    Document("b", "Lost luggage is reimbursed per trip.", title="Travel"),
                ],
            )
            [info] = store.list_collections()
            assert info.embedding == "casepilot-openai:local-embedder"
            hit = Retriever(store).search("hosted", "luggage lost on a trip", 1, mode="dense")[0]
            assert hit.document_id == "b"
        assert any(r["input"] == ["luggage lost on a trip"] for r in server.received)


def test_openai_embeddings_are_batched() -> None:
    with embeddings_server() as server:
        ef = OpenAIEmbeddings("local-embedder", base_url=server.url, api_key="k", batch_size=2)
        vectors = ef([f"text {i}" for i in range(5)])
        assert len(vectors) == 5
        assert [len(r["input"]) for r in server.received] == [2, 2, 1]


def test_nothing_touches_the_network_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the packaged model, ingesting into Chroma and searching open no connection at all."""

    def refuse(self: socket.socket, address: object) -> None:
        raise AssertionError(f"network access to {address!r}")

    embeddings_module._wordllama_model.cache_clear()
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    ef = WordLlamaEmbeddings()
    with DocumentStore(tmp_path / "chroma", embedding_function=ef) as store:
        store.create_collection("offline")
        store.ingest(
            "offline", [Document("a", "Wing in a propeller slipstream."), Document("b", "Heat transfer.")]
        )
        assert Retriever(store).search("offline", "slipstream over a wing", 1)[0].document_id == "a"
