"""The agent's facts about a case, stored with the engine state as the case's state JSON.

The store is the source of truth for cases (DESIGN.md): besides the CMMN engine's JSON,
a case carries what the agent must remember across restarts and workers — where each
case-file variable came from (provenance), what the case has spent (budget usage), which
inbox item belongs to which human task, which governed actions are parked waiting for a
person, and which tool calls were started but not yet recorded as finished (so that a
crash never silently repeats a non-idempotent call). The LangGraph checkpoint holds only
the loop's own transient state.

State JSON layout (``schema`` 1)::

    {"schema": 1, "engine": <CaseInstance JSON or null>, "agent": {...AgentFacts.to_json()}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from casepilot.governance.budget import BudgetUsage

__all__ = ["STATE_SCHEMA", "AgentFacts", "ParkedAction", "StartedCall", "split_state"]

STATE_SCHEMA = 1


@dataclass
class ParkedAction:
    """A governed action waiting for a person's decision on inbox item ``task_id``."""

    task_id: str
    option_id: str
    option: dict[str, Any]
    arguments: dict[str, Any]
    digest: str
    verdict_reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "option_id": self.option_id,
            "option": self.option,
            "arguments": self.arguments,
            "digest": self.digest,
            "verdict_reason": self.verdict_reason,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParkedAction:
        return cls(**data)


@dataclass
class StartedCall:
    """A tool call recorded as started; removed when its completion is recorded."""

    call_id: str
    tool: str
    side_effect: str
    instance_id: str | None
    option: dict[str, Any]
    arguments: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "tool": self.tool,
            "side_effect": self.side_effect,
            "instance_id": self.instance_id,
            "option": self.option,
            "arguments": self.arguments,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StartedCall:
        return cls(**data)


@dataclass
class AgentFacts:
    """Mutable working copy of the agent's facts for one step."""

    provenance: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Case-file variable -> ``{"trust": "trusted"|"untrusted", "source": …}``."""
    usage: BudgetUsage = field(default_factory=BudgetUsage)
    inbox: dict[str, str] = field(default_factory=dict)
    """Human task instance id -> open inbox item id."""
    parked: dict[str, ParkedAction] = field(default_factory=dict)
    """Inbox item id -> the governed action waiting for it."""
    started: dict[str, StartedCall] = field(default_factory=dict)
    """Tool calls recorded as started and not yet as completed/failed."""
    rejected: list[str] = field(default_factory=list)
    """Ids of options a person rejected (or that failed): never proposed again."""
    children: dict[str, str] = field(default_factory=dict)
    """Case task instance id -> the child case it started."""
    case_budget: dict[str, Any] | None = None
    """Budget limits set for this case when it started (``BudgetLimits.to_json``)."""
    llm_overrides: int = 0
    """LLM calls a person approved past a ``require_human`` verdict (e.g. over budget), not yet used."""
    steps: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "provenance": self.provenance,
            "usage": self.usage.to_json(),
            "inbox": self.inbox,
            "parked": {k: v.to_json() for k, v in self.parked.items()},
            "started": {k: v.to_json() for k, v in self.started.items()},
            "rejected": self.rejected,
            "children": self.children,
            "llm_overrides": self.llm_overrides,
            "case_budget": self.case_budget,
            "steps": self.steps,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AgentFacts:
        usage = data.get("usage") or {}
        return cls(
            provenance=dict(data.get("provenance") or {}),
            usage=BudgetUsage(
                tokens=int(usage.get("tokens", 0)),
                cost=Decimal(str(usage.get("cost", "0"))),
                wall_seconds=float(usage.get("wall_seconds", 0.0)),
                llm_calls=int(usage.get("llm_calls", 0)),
            ),
            inbox=dict(data.get("inbox") or {}),
            parked={k: ParkedAction.from_json(v) for k, v in (data.get("parked") or {}).items()},
            started={k: StartedCall.from_json(v) for k, v in (data.get("started") or {}).items()},
            rejected=list(data.get("rejected") or []),
            children=dict(data.get("children") or {}),
            llm_overrides=int(data.get("llm_overrides", 0)),
            case_budget=data.get("case_budget"),
            steps=int(data.get("steps", 0)),
        )


def split_state(state: dict[str, Any]) -> tuple[dict[str, Any] | None, AgentFacts]:
    """The engine JSON (``None`` before the case started) and the agent facts of a stored state."""
    if state.get("schema") != STATE_SCHEMA:
        raise ValueError(f"case state has schema {state.get('schema')!r}; this casepilot reads schema {STATE_SCHEMA}")
    engine = state.get("engine")
    return (engine if isinstance(engine, dict) else None), AgentFacts.from_json(state.get("agent") or {})
