"""Document collections in Chroma: create, ingest (chunked), delete, list — offline by default.

``DocumentStore`` owns one Chroma client, persistent (``.casepilot/chroma`` by default), in
memory, or of a Chroma server (``http://host:port``: what several workers share), with
telemetry off. Every collection is created with an explicit casepilot embedding
function — never Chroma's default, which downloads a model — and records its ``identity`` in
the collection metadata; opening it with another embedding function raises
``RetrievalError`` instead of comparing vectors from different spaces.

Chunks are stored with ids ``<document id>::<chunk index>`` and the document id in their
metadata, so ingesting a document again first removes all its old chunks: re-ingesting
replaces, never duplicates, even when the new text has fewer chunks.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import chromadb
from chromadb.config import Settings
from chromadb.errors import InvalidArgumentError

from casepilot.errors import NotFound, RetrievalError

from .chunking import chunk_text
from .embeddings import CasepilotEmbeddingFunction, default_embedding_function

__all__ = ["DEFAULT_PATH", "CollectionInfo", "Document", "DocumentStore", "StoredChunks"]

DEFAULT_PATH = Path(".casepilot/chroma")
EMBEDDING_KEY = "casepilot_embedding"
REVISION_KEY = "casepilot_revision"
"""Collection metadata key holding a token that every write replaces (see ``revision``)."""
"""Collection metadata key holding the ``identity`` of the embedding function it was built with."""
_RESERVED = frozenset({"doc_id", "chunk", "title", "source", "start", "end"})

Scalar = str | int | float | bool


def _server_client(url: str, settings: Settings) -> Any:
    """A client of the Chroma server at ``url``; one clear error when it cannot be reached."""
    parsed = urlsplit(url)
    if not parsed.hostname:
        raise RetrievalError(f"{url!r} is not a Chroma server URL; use http://host:port")
    ssl = parsed.scheme == "https"
    try:
        return chromadb.HttpClient(host=parsed.hostname, port=parsed.port or (443 if ssl else 8000), ssl=ssl,
                                   settings=settings)
    except Exception as exc:  # chromadb raises plain ValueError/ConnectionError on a failed heartbeat
        raise RetrievalError(f"cannot reach the Chroma server at {url}: {exc}; start it with "
                             "`chroma run --path DIR --port PORT` or correct the URL") from exc


@dataclass(frozen=True, slots=True)
class Document:
    """A document to ingest; ``metadata`` values must be scalars (Chroma stores nothing else)."""

    id: str
    text: str
    title: str = ""
    source: str = ""
    metadata: Mapping[str, Scalar] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    name: str
    embedding: str
    """Identity of the embedding function the collection was built with (``name:model``)."""
    chunks: int


@dataclass(frozen=True, slots=True)
class StoredChunks:
    """Every chunk of a collection, as read back from Chroma (the lexical index is built from it)."""

    ids: list[str]
    texts: list[str]
    metadatas: list[dict[str, Any]]


class DocumentStore:
    """Collections of chunked documents over one Chroma client."""

    def __init__(
        self,
        path: str | Path | None = DEFAULT_PATH,
        *,
        embedding_function: CasepilotEmbeddingFunction | None = None,
        chunk_size: int = 1000,
        chunk_overlap: int = 150,
    ) -> None:
        """``path=None`` keeps everything in memory (tests, notebooks); an ``http(s)://host:port``
        URL uses a Chroma server (``chroma run``), shared by every process and machine that
        names it; otherwise a folder on disk.

        Chroma keeps a single in-memory system per process, so in-memory stores share their
        collections; persistent stores are separate per folder.
        """
        settings = Settings(anonymized_telemetry=False, allow_reset=False)
        self.url = str(path) if isinstance(path, str) and path.startswith(("http://", "https://")) else None
        self.path = None if path is None or self.url is not None else Path(path)
        if self.url is not None:
            self._client = _server_client(self.url, settings)
        elif self.path is None:
            self._client = chromadb.EphemeralClient(settings=settings)
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(path=str(self.path), settings=settings)
        self.embedding_function: CasepilotEmbeddingFunction = (
            embedding_function or default_embedding_function()
        )
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self._revisions: dict[str, int] = {}
        self._open: dict[tuple[str, str], Any] = {}
        """Collections already checked and opened, by (name, embedding identity): a query costs one round trip."""

    def close(self) -> None:
        """Release the Chroma client (its files are closed once no other client in the process uses them).

        ``close`` arrived in chromadb 1.4 (and is not in ``ClientAPI``); before it there is nothing to release.
        """
        close = getattr(self._client, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> DocumentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- collections -------------------------------------------------------------------------

    def create_collection(
        self,
        name: str,
        *,
        embedding_function: CasepilotEmbeddingFunction | None = None,
        exist_ok: bool = True,
    ) -> CollectionInfo:
        """Create ``name`` built with ``embedding_function`` (the store's by default)."""
        ef = embedding_function or self.embedding_function
        existing = self._metadata(name)
        if existing is not None:
            if not exist_ok:
                raise RetrievalError(f"collection {name!r} already exists; use it, or delete it first")
            self._check_embedding(name, existing, ef)
            return self._info(name)
        try:
            self._client.create_collection(
                name,
                embedding_function=_chroma_ef(ef),
                configuration={"hnsw": {"space": "cosine"}},
                metadata={EMBEDDING_KEY: ef.identity},
            )
        except (
            ValueError,
            InvalidArgumentError,
        ) as exc:  # chromadb's name rules: 3-512 of [a-zA-Z0-9._-], alphanumeric ends
            raise RetrievalError(
                f"cannot create collection {name!r}: {exc}; use 3-512 letters, digits, '.', '_' or '-'"
            ) from exc
        return self._info(name)

    def list_collections(self) -> list[CollectionInfo]:
        """Every collection, sorted by name."""
        names = sorted(c.name for c in self._client.list_collections())
        return [self._info(n) for n in names]

    def delete_collection(self, name: str) -> None:
        self._require(name)
        self._client.delete_collection(name)
        self._open = {key: col for key, col in self._open.items() if key[0] != name}
        self._bump(name)

    def collection(self, name: str, *, embedding_function: CasepilotEmbeddingFunction | None = None) -> Any:
        """The Chroma collection ``name``, opened with the embedding function it was built with.

        Raises ``NotFound`` for an unknown collection and ``RetrievalError`` when
        ``embedding_function`` (the store's by default) is not the one it was built with.
        """
        ef = embedding_function or self.embedding_function
        key = (name, ef.identity)
        cached = self._open.get(key)
        if cached is not None:
            return cached
        self._check_embedding(name, self._require(name), ef)
        col = self._client.get_collection(name, embedding_function=_chroma_ef(ef))
        self._open[key] = col
        return col

    # -- documents ---------------------------------------------------------------------------

    def ingest(
        self,
        collection: str,
        documents: Iterable[Document],
        *,
        chunk_size: int | None = None,
        chunk_overlap: int | None = None,
    ) -> int:
        """Chunk and store ``documents`` (replacing earlier versions); returns the number of chunks."""
        col = self.collection(collection)
        size = self.chunk_size if chunk_size is None else chunk_size
        overlap = self.chunk_overlap if chunk_overlap is None else chunk_overlap
        ids: list[str] = []
        texts: list[str] = []
        metadatas: list[dict[str, Scalar]] = []
        doc_ids: list[str] = []
        for doc in documents:
            if not doc.id.strip():
                raise RetrievalError("a document has an empty id; give every document a stable id")
            if not doc.text.strip():
                raise RetrievalError(f"document {doc.id!r} has no text; ingest only documents with text")
            clash = _RESERVED & set(doc.metadata)
            if clash:
                raise RetrievalError(
                    f"document {doc.id!r} uses reserved metadata keys {sorted(clash)}; rename them"
                )
            doc_ids.append(doc.id)
            for chunk in chunk_text(doc.text, size=size, overlap=overlap):
                ids.append(f"{doc.id}::{chunk.index}")
                texts.append(chunk.text)
                metadatas.append(
                    {
                        **doc.metadata,
                        "doc_id": doc.id,
                        "chunk": chunk.index,
                        "title": doc.title,
                        "source": doc.source,
                        "start": chunk.start,
                        "end": chunk.end,
                    }
                )
        if not doc_ids:
            raise RetrievalError("no documents to ingest; pass at least one Document")
        if len(set(doc_ids)) != len(doc_ids):
            raise RetrievalError("the same document id appears twice in one ingestion; ingest each once")
        batch = max(1, int(self._client.get_max_batch_size()))
        for start in range(0, len(doc_ids), batch):
            col.delete(where={"doc_id": {"$in": doc_ids[start : start + batch]}})
        for start in range(0, len(ids), batch):
            end = start + batch
            col.add(ids=ids[start:end], documents=texts[start:end], metadatas=metadatas[start:end])
        self._bump(collection, col)
        return len(ids)

    def delete(self, collection: str, document_ids: Sequence[str]) -> None:
        """Remove every chunk of the given documents (unknown ids are ignored)."""
        if isinstance(document_ids, str):
            raise RetrievalError("delete() takes a list of document ids, not one string; wrap it in a list")
        col = self.collection(collection)
        if document_ids:
            col.delete(where={"doc_id": {"$in": list(document_ids)}})
            self._bump(collection, col)

    def chunks(self, collection: str) -> StoredChunks:
        """Every stored chunk of ``collection`` (ids, texts, metadata), ordered by id."""
        got = self._client.get_collection(collection, embedding_function=None).get(
            include=["documents", "metadatas"]
        )
        rows = sorted(
            zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True), key=lambda r: r[0]
        )
        return StoredChunks([r[0] for r in rows], [r[1] for r in rows], [dict(r[2] or {}) for r in rows])

    def revision(self, collection: str) -> str:
        """Changes with every write to ``collection`` — by this store, or by any other client of
        the same Chroma (another process, another machine): caches built from the collection
        (the retriever's BM25 index) compare revisions. Read before the data it guards."""
        meta = self._metadata(collection)
        shared = "absent" if meta is None else str(meta.get(REVISION_KEY, ""))
        return f"{shared}:{self._revisions.get(collection, 0)}"

    # -- internals ---------------------------------------------------------------------------

    def _bump(self, name: str, col: Any = None) -> None:
        """Mark a write: this store's own count, and a new token in the collection's metadata
        that every client sees (any new value will do, so writers never need to agree)."""
        self._revisions[name] = self._revisions.get(name, 0) + 1
        meta = self._metadata(name) if col is not None else None
        if meta is not None:
            col.modify(metadata={**meta, REVISION_KEY: uuid.uuid4().hex})

    def _metadata(self, name: str) -> dict[str, Any] | None:
        for col in self._client.list_collections():
            if col.name == name:
                return dict(col.metadata or {})
        return None

    def _require(self, name: str) -> dict[str, Any]:
        meta = self._metadata(name)
        if meta is None:
            known = ", ".join(sorted(c.name for c in self._client.list_collections())) or "none yet"
            raise NotFound(
                f"no collection {name!r} (collections: {known}); create it and ingest documents first"
            )
        return meta

    def _check_embedding(self, name: str, meta: Mapping[str, Any], ef: CasepilotEmbeddingFunction) -> None:
        built_with = meta.get(EMBEDDING_KEY)
        if built_with != ef.identity:
            raise RetrievalError(
                f"collection {name!r} was built with embeddings {built_with!r} but is being used with "
                f"{ef.identity!r}; open it with the same embedding function, or re-ingest it into a new collection"
            )

    def _info(self, name: str) -> CollectionInfo:
        meta = self._require(name)
        count = self._client.get_collection(name, embedding_function=None).count()
        return CollectionInfo(name=name, embedding=str(meta.get(EMBEDDING_KEY)), chunks=int(count))


def _chroma_ef(ef: CasepilotEmbeddingFunction) -> Any:
    """Chroma types its parameter as ``EmbeddingFunction[Documents | Images]`` (invariant), which
    no text-only embedding function can satisfy; the value is a genuine EmbeddingFunction."""
    return cast(Any, ef)
