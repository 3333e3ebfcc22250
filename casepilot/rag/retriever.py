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
    revision: int
    index: LexicalIndex
    ids: list[str]
    texts: list[str]
    metadatas: list[dict[str, Any]]


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
    ) -> None:
        """``candidates``: how many passages each side contributes to the fusion (at least ``k``)."""
        _check_mode(mode)
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
        if mode == "dense":
            hits = self._dense(collection, query, pool)
        elif mode == "lexical":
            hits = self._lexical_hits(collection, query, pool)
        else:
            hits = self._fuse(
                self._dense(collection, query, pool), self._lexical_hits(collection, query, pool)
            )
        if distinct_documents:
            seen: set[str] = set()
            best: list[Hit] = []
            for hit in hits:
                if hit.document_id not in seen:
                    seen.add(hit.document_id)
                    best.append(hit)
            hits = best
        return hits[:k]

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

    def _dense(self, collection: str, query: str, n: int) -> list[Hit]:
        col = self.store.collection(collection)
        count = int(col.count())
        if count == 0:
            return []
        got = col.query(
            query_texts=[query], n_results=min(n, count), include=["documents", "metadatas", "distances"]
        )
        return [
            _hit(collection, meta or {}, text or "", 1.0 - float(dist))
            for text, meta, dist in zip(
                got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
            )
        ]

    def _lexical_hits(self, collection: str, query: str, n: int) -> list[Hit]:
        self.store.collection(collection)  # NotFound / embedding checks, as for dense
        lex = self._lexical_index(collection)
        return [
            _hit(collection, lex.metadatas[h.position], lex.texts[h.position], h.score)
            for h in lex.index.search(query, n)
        ]

    def _lexical_index(self, collection: str) -> _Lexical:
        revision = self.store.revision(collection)
        cached = self._lexical.get(collection)
        if cached is None or cached.revision != revision:
            stored = self.store.chunks(collection)
            cached = _Lexical(
                revision, LexicalIndex(stored.texts), stored.ids, stored.texts, stored.metadatas
            )
            self._lexical[collection] = cached
        return cached

    def _fuse(self, dense: list[Hit], lexical: list[Hit]) -> list[Hit]:
        scores: dict[tuple[str, int], float] = {}
        first: dict[tuple[str, int], Hit] = {}
        for ranking in (dense, lexical):
            for rank, hit in enumerate(ranking, start=1):
                key = (hit.document_id, hit.chunk)
                scores[key] = scores.get(key, 0.0) + 1.0 / (self.rrf_k + rank)
                first.setdefault(key, hit)
        order = sorted(scores, key=lambda key: (-scores[key], key))
        return [_replace_score(first[key], scores[key]) for key in order]


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


def _replace_score(hit: Hit, score: float) -> Hit:
    return Hit(hit.collection, hit.document_id, hit.chunk, hit.title, hit.source, hit.text, score)
