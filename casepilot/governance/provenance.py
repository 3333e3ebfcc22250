"""Where a value came from, as far as governance needs to know.

DESIGN.md: every case-file value and every tool argument knows whether it came from a
trusted source (the case definition, the starting request, a person's input) or an
untrusted one (a tool's output, a retrieved document, model text). A guardrail can then
say "a payment whose payee came from a document needs a human" — an instruction hidden
in a document cannot quietly steer a sensitive action, whatever the model does.

The concrete record is ``casepilot.tools.Provenance`` (tools sit above governance in the
dependency order); governance reads it through this protocol.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["ProvenanceLike"]


class ProvenanceLike(Protocol):
    """Anything that can say whether a value is trusted and where it came from."""

    @property
    def is_trusted(self) -> bool: ...

    @property
    def source(self) -> str: ...
