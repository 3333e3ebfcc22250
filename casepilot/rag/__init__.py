"""Retrieval over document collections in Chroma, offline by default.

Ingest documents into collections, search them dense, lexical or hybrid, route questions to
collections with a DMN decision, and give agents a ``retrieve`` tool with citations::

    store = DocumentStore(".casepilot/chroma")          # WordLlama embeddings, nothing downloaded
    store.create_collection("policies")
    store.ingest("policies", [Document("p1", text, title="Motor policy")])
    retriever = Retriever(store, default_collection="policies")
    retriever.search("policies", "is hail damage covered?", k=5)
    ToolRegistry(builtin_tools(retriever=retriever))    # the ``retrieve`` tool

Needs the ``rag`` extra (``pip install 'casepilot[rag]'``); without it importing this package
raises ``casepilot._extras.MissingExtra`` with that line.
"""

from . import _requires as _requires  # first: the rag extra, or one clear line
from .chunking import Chunk, chunk_text
from .embeddings import (
    CasepilotEmbeddingFunction,
    OpenAIEmbeddings,
    WordLlamaEmbeddings,
    default_embedding_function,
    embedding_function_from_env,
)
from .retriever import Hit, Mode, Retriever
from .router import EXAMPLE_ROUTING, Route, Router, embedding_function_named
from .store import DEFAULT_PATH, CollectionInfo, Document, DocumentStore

__all__ = [
    "DEFAULT_PATH",
    "EXAMPLE_ROUTING",
    "CasepilotEmbeddingFunction",
    "Chunk",
    "CollectionInfo",
    "Document",
    "DocumentStore",
    "Hit",
    "Mode",
    "OpenAIEmbeddings",
    "Retriever",
    "Route",
    "Router",
    "WordLlamaEmbeddings",
    "chunk_text",
    "default_embedding_function",
    "embedding_function_from_env",
    "embedding_function_named",
]
