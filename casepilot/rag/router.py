"""Choose the collection and embedding function for a question with a DMN decision.

Which library a case may search, and whether a question may leave the machine for a hosted
embedding model, are business rules — so they live in a decision table that analysts can
read and change (``routing.dmn`` next to this module is an example), evaluated by casepilot's
own DMN engine, and the rules that fired travel with the answer for the audit history.

The decision gets ``caseDefinition`` (the case definition key), ``topic`` (a category, may be
null), ``queryLength`` (characters), ``stage`` (the case's active stage, may be null),
``piiPresent`` (personal data in the case or the question) and ``piiTypes`` (which kinds), and
must return ``collection`` and ``embedding``. A decision reads the inputs it declares.

The ``retrieve`` tool routes every call through a ``Router`` when it has one
(``casepilot.tools.builtin.retrieve``): the route and its rule ids travel with the result
into the tool call's history record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from casepilot.errors import RetrievalError

from .embeddings import OpenAIEmbeddings, WordLlamaEmbeddings, embedding_function_from_env

if TYPE_CHECKING:
    from casepilot.dmn import DecisionModel

__all__ = ["EXAMPLE_ROUTING", "Route", "Router", "embedding_function_named"]

EXAMPLE_ROUTING = Path(__file__).with_name("routing.dmn")


@dataclass(frozen=True, slots=True)
class Route:
    collection: str
    embedding: str
    """Name of the embedding function: ``wordllama`` (offline) or ``openai`` (configured endpoint)."""
    rule_ids: tuple[str, ...]
    """The decision-table rules that chose this route, for the case history."""
    decision: str | None = field(default=None, compare=False)
    """The routing decision that chose it (not part of a route's identity)."""


class Router:
    """Evaluates a routing decision; load once, route many times."""

    def __init__(
        self, model: DecisionModel | str | Path = EXAMPLE_ROUTING, *, decision: str = "Route"
    ) -> None:
        from casepilot.dmn import DecisionModel

        self.model = model if isinstance(model, DecisionModel) else DecisionModel.from_xml(Path(model))
        self.decision = decision

    def route(self, query: str, *, case_definition: str | None = None, topic: str | None = None,
              stage: str | None = None, pii_types: tuple[str, ...] = ()) -> Route:
        """The route for ``query``; ``RetrievalError`` when the decision gives no usable answer."""
        result = self.model.evaluate(
            self.decision, {"caseDefinition": case_definition, "topic": topic, "queryLength": len(query),
                            "stage": stage, "piiPresent": bool(pii_types), "piiTypes": list(pii_types)}
        )
        value = result.value
        if not result.ok or not isinstance(value, Mapping):
            problems = "; ".join(str(m) for m in result.errors) or "no rule matched"
            raise RetrievalError(
                f"routing decision {self.decision!r} gave no route ({problems}); "
                "add a catch-all last rule returning collection and embedding"
            )
        collection, embedding = value.get("collection"), value.get("embedding")
        if not isinstance(collection, str) or not isinstance(embedding, str):
            raise RetrievalError(
                f"routing decision {self.decision!r} must return strings 'collection' and 'embedding', got {value!r}"
            )
        return Route(collection=collection, embedding=embedding, rule_ids=result.rule_ids, decision=self.decision)


def embedding_function_named(
    name: str, env: Mapping[str, str] | None = None
) -> WordLlamaEmbeddings | OpenAIEmbeddings:
    """The embedding function a route names: ``wordllama`` or ``openai`` (needs ``CASEPILOT_EMBEDDING_MODEL``)."""
    if name == "wordllama":
        return WordLlamaEmbeddings()
    if name == "openai":
        ef = embedding_function_from_env(env)
        if not isinstance(ef, OpenAIEmbeddings):
            raise RetrievalError(
                "the route asks for OpenAI-compatible embeddings but CASEPILOT_EMBEDDING_MODEL is not set; "
                "set it (and OPENAI_BASE_URL / OPENAI_API_KEY) or route to 'wordllama'"
            )
        return ef
    raise RetrievalError(f"unknown embedding {name!r} in a route; use 'wordllama' or 'openai'")
