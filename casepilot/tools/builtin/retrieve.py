"""Retrieval as a tool — the extension point for ``casepilot.rag``, routed per call by DMN.

Anything that satisfies ``Retriever`` (a callable from query, collection and limit to
passages) becomes a tool with ``retrieve_tool``. ``casepilot.rag.Retriever`` does: hybrid
search over Chroma collections whose passages cite ``collection/document#chunk``, e.g.
``builtin_tools(retriever=rag.Retriever(store, default_collection="policies"))``. Retrieved
text is untrusted by nature: bindings mark everything a tool returns as untrusted.

Which collection a case may search, and whether a question may go to a hosted embedding
model, are business rules: with a ``router`` (``casepilot.rag.Router``, a DMN decision) every
call is routed from the case's context — definition, stage, the question, the kinds of
personal data present — and the route picks collection and embedding. The route, its rule
ids and the citations are part of the tool's result, so they are recorded with the tool call
in the case history. The context comes from the call's arguments (a binding may map
``case_definition``, ``stage``…) or, for callers that know the case (the chat), from
``retrieval_context``. Fails closed: a route that names an embedding with no retriever
configured for it is an error, never a search with another embedding.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, Field

from casepilot.errors import ToolError
from casepilot.tools._model import Tool

__all__ = [
    "Passage",
    "RetrievalContext",
    "RetrievalRoute",
    "RetrievalRouter",
    "RetrieveArgs",
    "RetrieveResult",
    "Retriever",
    "retrieval_context",
    "retrieve_tool",
]


class Passage(BaseModel):
    text: str
    source: str
    """Citation: document id or URI, with a position if known."""
    score: float | None = None


class RetrieveArgs(BaseModel):
    query: str = Field(min_length=1, max_length=4_000)
    collection: str | None = Field(
        default=None, description="Which collection; the retriever's default if omitted (a router decides when set)"
    )
    limit: int = Field(default=5, ge=1, le=50)
    topic: str | None = Field(default=None, max_length=200, description="A category of the question, for routing")
    case_definition: str | None = Field(default=None, max_length=200, description="The case definition, for routing")
    stage: str | None = Field(default=None, max_length=500, description="The case's active stage, for routing")
    pii_types: list[str] = Field(default_factory=list, max_length=50,
                                 description="Kinds of personal data present in the case, for routing")


class RetrievalRoute(BaseModel):
    """The route a routing decision chose for one call (recorded with the tool call)."""

    collection: str
    embedding: str
    decision: str | None = None
    rule_ids: list[str] = Field(default_factory=list)
    requested_collection: str | None = None
    """The collection the caller asked for, when the route overrode it."""


class RetrieveResult(BaseModel):
    passages: list[Passage]
    route: RetrievalRoute | None = None
    """How the call was routed (with a router)."""
    citations: list[str] = Field(default_factory=list)
    """``collection/document#chunk`` of every passage, in order."""


class Retriever(Protocol):
    """What a retrieval backend must offer to become the ``retrieve`` tool."""

    def __call__(self, query: str, collection: str | None, limit: int) -> Sequence[Passage]: ...


class _RouteLike(Protocol):
    @property
    def collection(self) -> str: ...
    @property
    def embedding(self) -> str: ...
    @property
    def rule_ids(self) -> tuple[str, ...]: ...


class RetrievalRouter(Protocol):
    """Chooses collection and embedding per call (``casepilot.rag.Router`` is one)."""

    def route(self, query: str, *, case_definition: str | None = None, topic: str | None = None,
              stage: str | None = None, pii_types: tuple[str, ...] = ()) -> _RouteLike: ...


@dataclass(frozen=True, slots=True)
class RetrievalContext:
    """The case a retrieval is for, as a caller that knows it sets it (``retrieval_context``)."""

    definition: str | None = None
    stage: str | None = None
    pii_types: tuple[str, ...] = ()
    topic: str | None = None


_CONTEXT: ContextVar[RetrievalContext | None] = ContextVar("casepilot_retrieval_context", default=None)


@contextmanager
def retrieval_context(context: RetrievalContext) -> Iterator[None]:
    """Route the ``retrieve`` calls made inside the block with ``context`` (arguments still win)."""
    token = _CONTEXT.set(context)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def _citation(source: str) -> str:
    return source.split(" ", 1)[0]


def _search(retriever: Retriever, query: str, collection: str | None, limit: int,
            route: RetrievalRoute | None) -> RetrieveResult:
    passages = list(retriever(query, collection, limit))
    return RetrieveResult(passages=passages, route=route, citations=[_citation(p.source) for p in passages])


def retrieve_tool(
    retriever: Retriever,
    *,
    name: str = "retrieve",
    timeout: float = 30.0,
    router: RetrievalRouter | None = None,
    retrievers: Mapping[str, Retriever] | None = None,
    embedding: str = "wordllama",
) -> Tool[RetrieveArgs, RetrieveResult]:
    """The retrieval tool over ``retriever`` (read-only; retried with backoff on failures).

    With ``router`` each call is routed: the route's collection is searched with the retriever
    of the route's embedding — ``retrievers[embedding]``, or ``retriever`` when the route names
    ``embedding`` (the one ``retriever`` was built with).
    """
    by_embedding: dict[str, Retriever] = {embedding: retriever, **dict(retrievers or {})}

    def run(args: RetrieveArgs) -> RetrieveResult:
        if router is None:
            return _search(retriever, args.query, args.collection, args.limit, None)
        context = _CONTEXT.get() or RetrievalContext()
        pii = tuple(args.pii_types) or context.pii_types
        try:
            chosen = router.route(args.query, case_definition=args.case_definition or context.definition,
                                  topic=args.topic or context.topic, stage=args.stage or context.stage,
                                  pii_types=pii)
        except Exception as exc:  # the decision's own message says what to fix; the call fails closed
            raise ToolError(f"retrieval routing failed, nothing was searched: {exc}") from exc
        backend = by_embedding.get(chosen.embedding)
        if backend is None:
            known = ", ".join(sorted(by_embedding))
            raise ToolError(f"the retrieval route names embedding {chosen.embedding!r} (rules "
                            f"{', '.join(chosen.rule_ids) or 'none'}), which has no retriever configured "
                            f"(configured: {known}); nothing was searched")
        route = RetrievalRoute(collection=chosen.collection, embedding=chosen.embedding,
                               decision=getattr(chosen, "decision", None), rule_ids=list(chosen.rule_ids),
                               requested_collection=args.collection if args.collection != chosen.collection
                               else None)
        return _search(backend, args.query, chosen.collection, args.limit, route)

    return Tool(
        name=name,
        description="Find passages relevant to a question in the case's document collections, with citations.",
        args_model=RetrieveArgs,
        result_model=RetrieveResult,
        side_effect="read_only",
        timeout=timeout,
        func=run,
        tags=("builtin", "rag"),
    )
