"""What the governance layer reviews: a proposed action and the context it happens in.

An action is reviewed before it has any effect — plan-item transitions, tool calls, LLM
calls, retrievals and outgoing messages alike — and is identified by a digest of its
canonical arguments, so that an approval given for one action can never be replayed for
a changed one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

from casepilot.governance.budget import BudgetLimits, BudgetUsage
from casepilot.governance.provenance import ProvenanceLike

__all__ = ["ActionKind", "GovernanceContext", "ProposedAction", "canonical_default", "canonical_json"]

ActionKind: TypeAlias = Literal["transition", "tool_call", "llm_call", "retrieval", "message"]


def canonical_default(value: Any) -> Any:
    """How ``canonical_json`` writes what JSON has no type for (decimals exactly, as text)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=canonical_default).encode
"""``json.dumps`` with these settings, without building an encoder per call (digests run on every step)."""


def canonical_json(value: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces) used for digests."""
    return _canonical(value)


@dataclass(frozen=True, slots=True)
class ProposedAction:
    """One thing the agent (or a person through chat) wants to do.

    ``name`` is the transition (``complete``, ``manualStart``…), the tool name, the model
    name, the collection name, or the channel of a message. ``plan_item`` and ``stage``
    name the CMMN plan item and its stage when the action belongs to one.
    """

    kind: ActionKind
    name: str
    case_id: str
    plan_item: str | None = None
    stage: str | None = None
    arguments: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    provenance: Mapping[str, ProvenanceLike] = field(default_factory=lambda: MappingProxyType({}))
    """Per argument: where its value came from."""
    side_effect: Literal["read_only", "idempotent", "non_idempotent"] = "read_only"
    estimated_tokens: int = 0
    """For LLM calls: the prompt's token estimate, so that a budget is checked before spending."""
    tags: tuple[str, ...] = ()
    """For tool calls: the tool's labels (``Tool.tags``, e.g. ``sends_externally``), which guardrails read."""
    targets: tuple[str, ...] = ()
    """For tool calls: the arguments that decide where the effect lands (``Tool.targets``)."""
    named_in_request: tuple[str, ...] = ()
    """The arguments whose value occurs verbatim in a trusted case value (the request, a person's
    words), whether or not a tool result holds it too (every element, for a list). Trust says a
    value could not have come from anywhere else; this says the user did name it — "send it to
    Dana" names Dana even after a channel listing mentioned her."""
    argument_fields: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=lambda: MappingProxyType({}))
    """Per untrusted argument, for each of its values (one for a scalar, each element of a list), the
    untrusted case-file fields (paths, list indices dropped) where it occurs verbatim — an address
    found in ``results.sender`` apart from one found only in a ``results.body`` text."""

    def digest(self) -> str:
        """sha256 of the action's canonical form (kind, name, case, plan item, arguments)."""
        body = {
            "kind": self.kind,
            "name": self.name,
            "case_id": self.case_id,
            "plan_item": self.plan_item,
            "arguments": dict(self.arguments),
        }
        return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()

    @property
    def untrusted_arguments(self) -> tuple[str, ...]:
        """Names of the arguments whose value came from an untrusted source."""
        return tuple(sorted(k for k, p in self.provenance.items() if not p.is_trusted))

    @property
    def untrusted_targets(self) -> tuple[str, ...]:
        """The target arguments (where the effect lands) whose value came from an untrusted source."""
        return tuple(k for k in self.untrusted_arguments if k in self.targets)

    def provenance_lines(self) -> list[str]:
        """One line per argument: its value (shortened) and where it came from — what a person is shown."""
        lines = []
        for name in sorted(self.arguments):
            value = canonical_json(self.arguments[name])
            shown = value if len(value) <= 80 else value[:77] + "…"
            prov = self.provenance.get(name)
            origin = ("trusted" if prov.is_trusted else "UNTRUSTED") + f", from {prov.source}" if prov else "origin unknown"
            lines.append(f"{name} = {shown} [{origin}]")
        return lines


@dataclass(frozen=True, slots=True)
class GovernanceContext:
    """Everything around an action that a policy may read (documented in ``guardrails.INPUTS``)."""

    definition_key: str
    definition_version: int
    actor: str = "agent"
    roles: frozenset[str] = frozenset()
    confidence: float | None = None
    confidence_source: str | None = None
    """Where ``confidence`` comes from: ``logprobs``, ``sample_agreement`` (the share of n answers that
    agree), ``self_reported`` (the number a model wrote),
    ``rule`` (the deterministic planner), ``case_signal`` (the bundle's ``signals.confidence``)."""
    sentiment: float | None = None
    usage: BudgetUsage = field(default_factory=BudgetUsage)
    case_budget: BudgetLimits | None = None
    """Limits set for this one case when it started, checked besides the definition's budget."""
    definition_usage: BudgetUsage | None = None
    """What all cases of the definition have spent (for ``Governor.total_budget``)."""
    case_variables: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    now: datetime | None = None
    times_planned: int = 0
    """Loop guard: how often this case already planned, started or ran the action's plan item."""
    times_called: int = 0
    """Loop guard: how often this case already called this tool with these same arguments."""
    trusted_variables: frozenset[str] = frozenset()
    """The top-level case variables whose whole value is trusted (from the definition, the starting
    request or a person; nothing inside them from a tool or a model), so a policy can rely on one —
    a plan the case was started with, say — only while no tool has written into it."""
    tools_called: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    """Per tool, how many calls of it the case already planned or ran (every plan item), so a policy
    can tell whether the steps a plan puts before this call were taken first."""
