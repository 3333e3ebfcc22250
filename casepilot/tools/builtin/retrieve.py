"""Retrieval as a tool — the extension point for ``casepilot.rag``.

Anything that satisfies ``Retriever`` (a callable from query, collection and limit to
passages) becomes a tool with ``retrieve_tool``. ``casepilot.rag.Retriever`` does: hybrid
search over Chroma collections whose passages cite ``collection/document#chunk``, e.g.
``builtin_tools(retriever=rag.Retriever(store, default_collection="policies"))``. Retrieved
text is untrusted by nature: bindings mark everything a tool returns as untrusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel, Field

from casepilot.tools._model import Tool

__all__ = ["Passage", "RetrieveArgs", "RetrieveResult", "Retriever", "retrieve_tool"]


class Passage(BaseModel):
    text: str
    source: str
    """Citation: document id or URI, with a position if known."""
    score: float | None = None


class RetrieveArgs(BaseModel):
    query: str = Field(min_length=1, max_length=4_000)
    collection: str | None = Field(
        default=None, description="Which collection; the retriever's default if omitted"
    )
    limit: int = Field(default=5, ge=1, le=50)


class RetrieveResult(BaseModel):
    passages: list[Passage]


class Retriever(Protocol):
    """What a retrieval backend must offer to become the ``retrieve`` tool."""

    def __call__(self, query: str, collection: str | None, limit: int) -> Sequence[Passage]: ...


def retrieve_tool(
    retriever: Retriever, *, name: str = "retrieve", timeout: float = 30.0
) -> Tool[RetrieveArgs, RetrieveResult]:
    """The retrieval tool over ``retriever`` (read-only; retried with backoff on failures)."""
    return Tool(
        name=name,
        description="Find passages relevant to a question in the case's document collections, with citations.",
        args_model=RetrieveArgs,
        result_model=RetrieveResult,
        side_effect="read_only",
        timeout=timeout,
        func=lambda args: RetrieveResult(passages=list(retriever(args.query, args.collection, args.limit))),
        tags=("builtin", "rag"),
    )
