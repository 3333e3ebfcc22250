"""What a planner sees and what it returns.

The orchestrator turns the case's ``activatable()`` actions into ``ActionOption``s — each
with a stable id, a human label, and, when the action runs a tool, the tool's JSON
argument schema — and hands them to a ``Planner`` inside a redacted ``Observation``. The
planner returns a ``Plan`` naming one option. Whatever a planner returns is checked
against the options actually offered: a hallucinated choice is rejected and recorded,
never executed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias

if TYPE_CHECKING:
    from casepilot.agent.model_routing import ModelCall

__all__ = [
    "ActionOption",
    "ChatMessage",
    "LLMUsage",
    "Observation",
    "OptionKind",
    "Plan",
    "Planner",
    "PlannerError",
]

OptionKind: TypeAlias = Literal["run_task", "start", "plan", "complete", "decide", "start_child", "start_process",
                                 "wait"]
"""``run_task``: run the tool bound to an active task and complete it with the result;
``start``: manually start an enabled item; ``plan``: add a discretionary item;
``complete``: complete an active item that needs no tool (e.g. a stage by hand);
``decide``: evaluate the DMN decision of a decision task; ``start_child``: start the child
case of a case task; ``start_process``: run the BPMN process of a process task
(``casepilot.agent._process_tasks``); ``wait``: nothing to do now."""


@dataclass(frozen=True, slots=True)
class ActionOption:
    """One thing the agent may do now."""

    id: str
    kind: OptionKind
    label: str
    plan_item: str | None = None
    """The plan item (definition-level) id, e.g. ``pi_extract``."""
    instance_id: str | None = None
    """The runtime instance the option acts on (or the discretionary item id for ``plan``)."""
    stage: str | None = None
    tool: str | None = None
    arguments_schema: Mapping[str, Any] | None = None
    """JSON schema of the tool's arguments (for LLM planners)."""
    default_arguments: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """Arguments filled from the case file by the binding's mappings."""
    required: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One chat turn attached to the case."""

    role: Literal["user", "assistant", "system"]
    actor: str
    text: str


@dataclass(frozen=True, slots=True)
class Observation:
    """What the planner may see — already redacted (no raw PII)."""

    case_id: str
    definition_key: str
    case_state: str
    items: tuple[Mapping[str, Any], ...]
    """Plan-item instances: name, state, kind."""
    variables: Mapping[str, Any]
    options: tuple[ActionOption, ...]
    recent_history: tuple[Mapping[str, Any], ...] = ()
    chat: tuple[ChatMessage, ...] = ()
    rejected: tuple[str, ...] = ()
    """Messages about earlier invalid choices in this step (for re-asking an LLM)."""
    call: ModelCall | None = None
    """For a model: the call's routing context, the definition's model settings and its router
    (set by the loop after governance; not part of the checkpointed observation)."""

    def option(self, option_id: str) -> ActionOption | None:
        for opt in self.options:
            if opt.id == option_id:
                return opt
        return None


@dataclass(frozen=True, slots=True)
class LLMUsage:
    """Cost of one model call, recorded in the history."""

    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    cost: str | None = "0"
    """Exact decimal text; ``None`` when the model has no price (unknown — never reported as 0)."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """Where the call went and how: endpoint, route (decision, rule ids), attempts, failures retried."""


@dataclass(frozen=True, slots=True)
class Plan:
    """A planner's choice: which option, with which arguments, why, and how sure."""

    option_id: str
    arguments: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    rationale: str = ""
    confidence: float = 1.0
    planner: str = "rule"
    confidence_source: str | None = None
    """Where ``confidence`` comes from: ``logprobs`` (the model's token probabilities),
    ``sample_agreement`` (the share of n answers choosing the same action), ``self_reported``
    (the number the model wrote), ``rule`` … ``None``: not said."""
    self_reported_confidence: float | None = None
    """The number the model wrote, kept (and labelled) even when ``confidence`` is calibrated."""
    usage: tuple[LLMUsage, ...] = ()
    invalid_attempts: tuple[str, ...] = ()
    """Replies rejected before this plan (hallucinated options, bad arguments), for the history."""


class PlannerError(Exception):
    """A planner could not produce a valid plan (after its retries)."""

    def __init__(self, message: str, *, usage: Sequence[LLMUsage] = (), invalid_attempts: Sequence[str] = (),
                 detail: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.usage = tuple(usage)
        self.invalid_attempts = tuple(invalid_attempts)
        self.detail: Mapping[str, Any] = dict(detail or {})
        """What failed, for the history and ``RunOutcome``: the endpoint failure (kind, HTTP status,
        message, endpoint, model), the route, or why no route could be taken."""


class Planner(Protocol):
    """Chooses the next action. Must be pure with respect to the case: it only proposes."""

    name: str

    def plan(self, observation: Observation) -> Plan: ...
