"""Ranked passages with citations: dense (Chroma), lexical (BM25) or both fused by reciprocal rank.

Hybrid retrieval fuses the two rankings with reciprocal rank fusion (Cormack et al., 2009):
``score = Σ 1 / (rrf_k + rank)``. It needs no score calibration between cosine similarities
and BM25 scores, and a passage that both sides rank well rises to the top.

``Retriever`` also satisfies ``casepilot.tools.builtin.retrieve.Retriever``, so
``builtin_tools(retriever=Retriever(store, default_collection="policies"))`` gives agents a
``retrieve`` tool whose passages carry their citation (``collection/document#chunk``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from casepilot.errors import RetrievalError
from casepilot.tools.builtin.retrieve import Passage

from .lexical import LexicalIndex
from .store import DocumentStore

__all__ = ["Hit", "Mode", "Retriever"]

Mode = Literal["dense", "lexical", "hybrid"]


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved passage and where it came from."""

    collection: str
    document_id: str
    chunk: int
    title: str
    source: str
    text: str
    score: float
    """Cosine similarity (dense), BM25 score (lexical) or fused RRF score (hybrid); higher is better."""

    @property
    def citation(self) -> str:
        return f"{self.collection}/{self.document_id}#{self.chunk}"


@dataclass(slots=True)
class _Lexical:
    revision: str
    index: LexicalIndex
    ids: list[str]
    texts: list[str]
    metadatas: list[dict[str, Any]]
    positions: dict[str, int]


class Retriever:
    """Search the collections of a ``DocumentStore``."""

    def __init__(
        self,
        store: DocumentStore,
        *,
        default_collection: str | None = None,
        mode: Mode = "hybrid",
        rrf_k: int = 60,
        candidates: int = 50,
        dense_weight: float = 0.5,
    ) -> None:
        """``candidates``: how many passages each side contributes to the fusion (at least ``k``).

        ``dense_weight`` scales the dense side's share of the fused score (the lexical side
        counts 1). The offline static embeddings rank worse than BM25 on their own, so by
        default they count half: on the Cranfield dev queries that lifts hybrid nDCG@10 from
        0.347 (equal weights) to 0.360, above either side alone (0.353 lexical, 0.285 dense);
        with a stronger embedding model (an OpenAI-compatible endpoint) 1.0 may suit better.
        """
        _check_mode(mode)
        if not 0.0 <= dense_weight <= 1.0:
            raise RetrievalError(f"dense_weight must be between 0 and 1 (got {dense_weight})")
        self.dense_weight = dense_weight
        self.store = store
        self.default_collection = default_collection
        self.mode: Mode = mode
        self.rrf_k = rrf_k
        self.candidates = candidates
        self._lexical: dict[str, _Lexical] = {}

    def search(
        self,
        collection: str,
        query: str,
        k: int = 5,
        *,
        mode: Mode | None = None,
        distinct_documents: bool = False,
    ) -> list[Hit]:
        """The ``k`` best passages for ``query``, best first.

        ``distinct_documents`` keeps only the best passage of each document (document-level
        ranking, as evaluations such as Cranfield's judge documents, not passages).
        """
        mode = self.mode if mode is None else mode
        _check_mode(mode)
        if not query.strip():
            raise RetrievalError("the query is empty; ask a question with some words in it")
        if k < 1:
            raise RetrievalError(f"k must be at least 1 (got {k})")
        pool = max(k, self.candidates) * (3 if distinct_documents else 1)
        ranked: list[tuple[str, float]]
        if mode == "dense":
            ranked = self._dense(collection, query, pool)
        elif mode == "lexical":
            ranked = self._lexical_ranking(collection, query, pool)
        else:
            ranked = self._fuse(
                self._dense(collection, query, pool), self._lexical_ranking(collection, query, pool)
            )
        if distinct_documents:
            seen: set[str] = set()
            best: list[tuple[str, float]] = []
            for chunk_id, score in ranked:
                doc_id = _split(chunk_id)[0]
                if doc_id not in seen:
                    seen.add(doc_id)
                    best.append((chunk_id, score))
            ranked = best
        return self._hydrate(collection, ranked[:k])

    def __call__(self, query: str, collection: str | None, limit: int) -> Sequence[Passage]:
        """The ``retrieve`` tool's protocol: passages with ``collection/document#chunk`` citations."""
        name = collection or self.default_collection
        if name is None:
            known = ", ".join(c.name for c in self.store.list_collections()) or "none yet"
            raise RetrievalError(f"no collection given and no default collection; name one of: {known}")
        return [
            Passage(text=h.text, source=h.citation + (f" ({h.title})" if h.title else ""), score=h.score)
            for h in self.search(name, query, limit)
        ]

    # -- the two sides and their fusion ------------------------------------------------------

    def _dense(self, collection: str, query: str, n: int) -> list[tuple[str, float]]:
        """Chunk ids and cosine similarities; texts are fetched later, for the final ``k`` only."""
        col = self.store.collection(collection)
        # chromadb returns fewer results when the collection holds fewer than ``n``
        got = col.query(query_texts=[query], n_results=n, include=["distances"])
        return [
            (cid, 1.0 - float(dist)) for cid, dist in zip(got["ids"][0], got["distances"][0], strict=True)
        ]

    def _lexical_ranking(self, collection: str, query: str, n: int) -> list[tuple[str, float]]:
        self.store.collection(collection)  # NotFound / embedding checks, as for dense
        lex = self._lexical_index(collection)
        return [(lex.ids[h.position], h.score) for h in lex.index.search(query, n)]

    def _lexical_index(self, collection: str) -> _Lexical:
        revision = self.store.revision(collection)
        cached = self._lexical.get(collection)
        if cached is None or cached.revision != revision:
            stored = self.store.chunks(collection)
            positions = {cid: i for i, cid in enumerate(stored.ids)}
            cached = _Lexical(
                revision, LexicalIndex(stored.texts), stored.ids, stored.texts, stored.metadatas, positions
            )
            self._lexical[collection] = cached
        return cached

    def _hydrate(self, collection: str, ranked: list[tuple[str, float]]) -> list[Hit]:
        """Texts and metadata for the ranked chunk ids: from the BM25 cache when it is current,
        else in one ``get`` from Chroma (fetching them for every dense candidate costs more)."""
        if not ranked:
            return []
        lex = self._lexical.get(collection)
        if lex is not None and lex.revision == self.store.revision(collection):
            rows = {
                cid: (lex.texts[i], lex.metadatas[i])
                for cid, _ in ranked
                if (i := lex.positions.get(cid)) is not None
            }
        else:
            got = self.store.collection(collection).get(
                ids=[cid for cid, _ in ranked], include=["documents", "metadatas"]
            )
            rows = {
                cid: (text or "", dict(meta or {}))
                for cid, text, meta in zip(
                    got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
                )
            }
        return [_hit(collection, rows[cid][1], rows[cid][0], score) for cid, score in ranked if cid in rows]

    def _fuse(
        self, dense: list[tuple[str, float]], lexical: list[tuple[str, float]]
    ) -> list[tuple[str, float]]:
        scores: dict[str, float] = {}
        for weight, ranking in ((self.dense_weight, dense), (1.0, lexical)):
            for rank, (chunk_id, _) in enumerate(ranking, start=1):
                scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (self.rrf_k + rank)
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def _split(chunk_id: str) -> tuple[str, int]:
    """``<document id>::<chunk index>`` → (document id, index); document ids may contain ``::``."""
    doc_id, _, index = chunk_id.rpartition("::")
    return doc_id, int(index)


def _check_mode(mode: str) -> None:
    if mode not in get_args(Mode):
        raise RetrievalError(f"unknown retrieval mode {mode!r}; use one of {', '.join(get_args(Mode))}")


def _hit(collection: str, meta: dict[str, Any], text: str, score: float) -> Hit:
    return Hit(
        collection=collection,
        document_id=str(meta.get("doc_id", "")),
        chunk=int(meta.get("chunk", 0)),
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        text=text,
        score=score,
    )
