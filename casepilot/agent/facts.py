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

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from casepilot.governance.actions import ProposedAction, canonical_json
from casepilot.governance.budget import BudgetUsage

__all__ = ["STATE_SCHEMA", "AgentFacts", "ParkedAction", "StartedCall", "loop_keys", "split_state"]

STATE_SCHEMA = 1


@dataclass
class ParkedAction:
    """A governed action waiting for a person's decision on inbox item ``task_id``.

    The approval covers exactly this action (``digest``, the one the person was shown) and
    answers exactly the findings in ``answered`` (the policies and rules that asked): when
    the approved action runs it is reviewed again, and any other objection still stands.
    """

    task_id: str
    option_id: str
    option: dict[str, Any]
    arguments: dict[str, Any]
    digest: str
    verdict_reason: str
    answered: list[dict[str, Any]] = field(default_factory=list)
    """The findings the person saw and answered: ``{"policy", "rule_ids", "role"}`` each."""
    planner: str = "agent"
    """Who wrote the arguments (for the provenance of values the planner wrote itself)."""
    requested_by: dict[str, Any] | None = None
    """The person who asked for the action (a chat instruction): ``{"actor", "roles"}``; the
    action is reviewed again as them when it runs."""

    def to_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "option_id": self.option_id,
            "option": self.option,
            "arguments": self.arguments,
            "digest": self.digest,
            "verdict_reason": self.verdict_reason,
            "answered": self.answered,
            "planner": self.planner,
            "requested_by": self.requested_by,
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
    processes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Process task instance id -> its running BPMN process: ``{"runner": ProcessRunner.state(),
    "next_timer": ISO time or None}``, with ``"run_on": True`` while a decision recorded without
    running on waits for a worker's run (``casepilot.agent._process_tasks``); gone when it ends."""
    processes_ended: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Process task instance id -> how its BPMN process ended: ``{"process_id", "status",
    "completed": [element ids]}`` — what the case page draws once the runner state is gone."""
    process: str | None = None
    """The BPMN process this case runs on its own (``casepilot.agent._process_cases``): its plan
    is the one-task wrapper around it. None: a CMMN case."""
    case_budget: dict[str, Any] | None = None
    """Budget limits set for this case when it started (``BudgetLimits.to_json``)."""
    llm_overrides: int = 0
    """LLM calls a person approved past a ``require_human`` verdict (e.g. over budget), not yet used."""
    steps: int = 0
    planned: dict[str, int] = field(default_factory=dict)
    """Loop guard: ``kind:name:plan item`` -> how often that action was done in this case."""
    called: dict[str, int] = field(default_factory=dict)
    """Loop guard: digest of (tool, arguments) -> how often the case called that tool with them."""
    chat_requests: list[dict[str, Any]] = field(default_factory=list)
    """Chat proposals a person confirmed where workers work the cases, oldest first, each waiting
    for a worker to carry it out (``casepilot.agent.chat_queued``): ``{"proposal", "option_id",
    "label", "actor", "roles", "question_seq", "after_seq"}``; gone once answered."""

    def set_provenance(self, path: str, trust: str, source: str) -> None:
        """Record where the value now at ``path`` came from; what was recorded inside it is gone.

        A value written over a variable replaces everything in it, so the provenance of its
        old parts (``claim.amount`` when ``claim`` is written) must not outlive them — a
        trusted old part would otherwise vouch for an untrusted new one.
        """
        prefix = f"{path}."
        for old in [k for k in self.provenance if k.startswith(prefix)]:
            del self.provenance[old]
        self.provenance[path] = {"trust": "trusted" if trust == "trusted" else "untrusted", "source": source}

    def within(self, name: str) -> dict[str, dict[str, Any]]:
        """The recorded provenance of variable ``name`` and of every part recorded inside it."""
        prefix = f"{name}."
        return {k: dict(v) for k, v in self.provenance.items() if k == name or k.startswith(prefix)}

    def taint(self, names: Iterable[str]) -> dict[str, Any] | None:
        """The provenance of an untrusted value among variables ``names`` (parts inside them
        included; a variable with no record is untrusted), or ``None`` when all are trusted.

        What is computed from case-file values (a DMN decision's result) is only as
        trustworthy as the least trusted value it could read.
        """
        for name in names:
            entries = self.within(name)
            if name not in entries:
                return {"trust": "untrusted", "source": "unknown"}
            for entry in entries.values():
                if entry.get("trust") != "trusted":
                    return entry
        return None

    def times(self, action: ProposedAction) -> tuple[int, int]:
        """How often this case already did ``action``'s plan item and made its exact tool call.

        Governance reads both (``GovernanceContext.times_planned`` / ``times_called``) so a
        loop — an agent or a confused model planning the same item again and again — is a
        policy decision (``max_repeats``), not something only ``max_steps`` ends.
        """
        plan_key, call_key = loop_keys(action)
        return (self.planned.get(plan_key, 0) if plan_key else 0,
                self.called.get(call_key, 0) if call_key else 0)

    def tools_called(self) -> dict[str, int]:
        """Per tool, how many calls of it the case already planned or ran, over all its plan items."""
        found: dict[str, int] = {}
        for key, times in self.planned.items():
            kind, _, rest = key.partition(":")
            if kind == "tool_call":
                tool = rest.split(":", 1)[0]
                found[tool] = found.get(tool, 0) + times
        return found

    def count(self, action: ProposedAction) -> None:
        """Record that ``action`` is being done (called in the step that lets it happen)."""
        self.count_keys(*loop_keys(action))

    def count_keys(self, plan_key: str | None, call_key: str | None) -> None:
        """``count`` by the action's loop keys (``loop_keys``), for a step recorded after the action ran."""
        if plan_key:
            self.planned[plan_key] = self.planned.get(plan_key, 0) + 1
        if call_key:
            self.called[call_key] = self.called.get(call_key, 0) + 1

    def to_json(self) -> dict[str, Any]:
        return {
            "provenance": self.provenance,
            "usage": self.usage.to_json(),
            "inbox": self.inbox,
            "parked": {k: v.to_json() for k, v in self.parked.items()},
            "started": {k: v.to_json() for k, v in self.started.items()},
            "rejected": self.rejected,
            "children": self.children,
            "processes": self.processes,
            "processes_ended": self.processes_ended,
            "process": self.process,
            "llm_overrides": self.llm_overrides,
            "case_budget": self.case_budget,
            "steps": self.steps,
            "planned": self.planned,
            "called": self.called,
            **({"chat_requests": self.chat_requests} if self.chat_requests else {}),
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
            processes=dict(data.get("processes") or {}),
            processes_ended=dict(data.get("processes_ended") or {}),
            process=data.get("process"),
            llm_overrides=int(data.get("llm_overrides", 0)),
            case_budget=data.get("case_budget"),
            steps=int(data.get("steps", 0)),
            # States written before the loop guard have no counters: they start at zero.
            planned={k: int(v) for k, v in (data.get("planned") or {}).items()},
            called={k: int(v) for k, v in (data.get("called") or {}).items()},
            chat_requests=[dict(r) for r in data.get("chat_requests") or ()],
        )


def loop_keys(action: ProposedAction) -> tuple[str | None, str | None]:
    """The loop-guard counters ``action`` belongs to: its plan item's, and (tool calls) its call's.

    A plan item counts per kind of action (``transition:plan:Request documents`` apart from
    ``tool_call:ocr:Request documents``), so planning an item and then running it are two
    different things done once each. Plan items are named by label, as governance sees
    them; two items with the same name share a counter (it can only count sooner). A call
    is the tool with its canonical arguments, wherever in the case it is made.
    """
    plan_key = f"{action.kind}:{action.name}:{action.plan_item}" if action.plan_item is not None else None
    call_key = None
    if action.kind == "tool_call":
        body = canonical_json({"tool": action.name, "arguments": dict(action.arguments)})
        call_key = hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]
    return plan_key, call_key


def split_state(state: dict[str, Any]) -> tuple[dict[str, Any] | None, AgentFacts]:
    """The engine JSON (``None`` before the case started) and the agent facts of a stored state."""
    if state.get("schema") != STATE_SCHEMA:
        raise ValueError(f"case state has schema {state.get('schema')!r}; this casepilot reads schema {STATE_SCHEMA}")
    engine = state.get("engine")
    return (engine if isinstance(engine, dict) else None), AgentFacts.from_json(state.get("agent") or {})
