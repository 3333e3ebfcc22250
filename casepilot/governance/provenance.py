"""Where a value came from, so that policies can treat untrusted data differently.

DESIGN.md: every case-file value and every tool argument knows whether it came from a
trusted source (the case definition, the starting request, a person's input) or an
untrusted one (a tool's output, a retrieved document, model text). A guardrail can then
say "a payment whose payee came from a document needs a human" — an instruction hidden
in a document cannot quietly steer a sensitive action, whatever the model does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = ["TRUSTED_SOURCES", "Provenance", "SourceKind"]

SourceKind: TypeAlias = Literal[
    "definition",  # a literal in the case definition or binding file
    "request",  # the variables the case was started with
    "person",  # a person's input (a human task decision, a chat message of an authorised user)
    "tool",  # a tool's output
    "document",  # a retrieved or uploaded document's content
    "model",  # text produced by a language model
]

TRUSTED_SOURCES: frozenset[str] = frozenset({"definition", "request", "person"})


@dataclass(frozen=True, slots=True)
class Provenance:
    """The origin of one value: its source kind and a free-text reference (tool name, doc id…)."""

    source: SourceKind
    ref: str | None = None

    @property
    def trusted(self) -> bool:
        """True for the definition, the starting request and people; false for tools, documents, models."""
        return self.source in TRUSTED_SOURCES

    def to_json(self) -> dict[str, str | None]:
        return {"source": self.source, "ref": self.ref}
