"""A case as the loop works it: the stored row, its bundle, the rebuilt engine and the agent's facts.

Kept apart from the machinery that loads and writes cases (``AgentRuntime``) because most of
the agent only reads a ``LoadedCase`` — nodes, chat, the worker's job scheduler — and should
depend on this small data type, not on the store, caches and leases behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from casepilot.agent.bundle import CaseBundle
from casepilot.agent.engine import EngineCase
from casepilot.agent.facts import STATE_SCHEMA, AgentFacts
from casepilot.agent.privacy import jsonable
from casepilot.store import CaseRecord, StepHead
from casepilot.tools import Provenance

__all__ = ["LoadedCase", "provenance_map", "state_json"]


def state_json(engine: EngineCase | None, facts: AgentFacts) -> dict[str, Any]:
    """The case state JSON the store keeps (see ``facts`` for the layout)."""
    return {"schema": STATE_SCHEMA, "engine": engine.dump() if engine else None, "agent": jsonable(facts.to_json())}


def provenance_map(facts: AgentFacts) -> dict[str, Provenance]:
    """Per-variable provenance as ``Provenance`` records (unknown variables count as untrusted)."""
    return {k: Provenance(v.get("trust", "untrusted"), v.get("source", "unknown")) for k, v in facts.provenance.items()}


@dataclass
class LoadedCase:
    """A case read from the store, with its bundle and engine rebuilt."""

    record: CaseRecord
    """The case row as read, kept current by each step (version, chain head); after a step that
    recorded only its changes, ``record.state`` keeps just the keys steps never change
    (``schema``, ``parent``, ``start_variables``): the current state is ``engine`` and ``facts``."""
    bundle: CaseBundle
    engine: EngineCase | None
    facts: AgentFacts
    fresh: bool = True
    """Read from the store just now (not this thread's cached copy)."""
    size: int = 0
    """About how many bytes of memory this copy takes (for the cache's limit)."""
    delta_base: bool = False
    """The engine's changes (``CaseInstance.changes``) are relative to the stored state, so a
    step can record just them; False for an engine started or replaced since the last write."""
    current_under: str | None = None
    """The case lease (its owner name) under which this copy was read fresh, checked against the
    store's version or written: while that lease is held, no one else changes the case."""
    head: StepHead | None = None
    """The case row as this copy's last step left it (``Step.next_head``), for the next step;
    None for a copy read from the store (its first step reads the row)."""
    stored_agent: dict[str, Any] | None = None
    """The agent's facts as JSON as this copy's last step stored them, for the next step to
    write only the keys that changed; None for a copy read from the store (its facts may share
    objects with the state it was read from, so they are no record of what is stored)."""

    @property
    def id(self) -> str:
        return self.record.id
