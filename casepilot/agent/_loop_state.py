"""The orchestrator loop's own state: what LangGraph carries between nodes and checkpoints
when a run ends or pauses (ids, the current plan, the verdict, the tool outcome); the case
itself lives in the store.

Every part is a ``TypedDict``, not a dataclass, on purpose: the state is checkpointed by
LangGraph's serializer (msgpack, with casepilot's JSON fallback), which keeps plain
dictionaries as they are — no class allow-list to maintain, and a checkpoint written by one
casepilot version loads in the next. The types make every node's reads and writes checked
(``mypy --strict``) all the same.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

__all__ = ["ActedData", "DecisionRecord", "LoopState", "OptionData", "OutcomeData", "PendingTask", "PersonData",
           "PlanData", "RequestedOption", "StartedRecord", "VerdictData"]


class OptionData(TypedDict, total=False):
    """One possible action as the observation lists it (``_observation.option_json``)."""

    id: str
    kind: str
    label: str
    plan_item: str | None
    instance_id: str | None
    stage: str | None
    tool: str | None
    arguments_schema: dict[str, Any] | None
    default_arguments: dict[str, Any]
    required: bool
    description: str
    approved_by: str
    """Set on a parked action's option once a person approved it."""


class PersonData(TypedDict):
    """The person an action is done for (a chat instruction, a person's choice)."""

    actor: str
    roles: list[str]


class PlanData(TypedDict, total=False):
    """What the planner (or a person) chose: the option, its arguments and why."""

    option: OptionData
    arguments: dict[str, Any]
    rationale: str | None
    confidence: float | None
    confidence_source: str | None
    self_reported_confidence: float | None
    planner: str
    usage: list[dict[str, Any]]
    """``LLMUsage`` records (``dataclasses.asdict``) of the model calls that made the plan."""
    invalid_attempts: list[Any]
    person: PersonData | None


class VerdictData(TypedDict, total=False):
    """A verdict as recorded (``Verdict.to_json``); ``{"kind": "allow"}`` for an approved action."""

    kind: str
    reason: str
    role: str | None
    question: str | None
    rule_ids: list[str]


class StartedRecord(TypedDict):
    """A tool call to record as started: the ``StartedCall`` and its history payload."""

    call: dict[str, Any]
    payload: dict[str, Any]


class DecisionRecord(TypedDict):
    """What ``govern`` decided, written by ``govern`` itself or — for a call that may safely run
    again — by ``record`` with the outcome (``_node_helpers.recorded_with_outcome``)."""

    actor: str
    version: int
    """The case's version the decision was taken on: ``record`` applies nothing if it moved."""
    usage: list[dict[str, Any]]
    plan: dict[str, Any]
    verdict: dict[str, Any]
    rule_ids: list[str]
    loop_keys: list[str | None] | None
    started: StartedRecord | None


class OutcomeData(TypedDict, total=False):
    """What ``act`` got back from the tool (already pseudonymised)."""

    ok: bool
    result: Any
    changed: list[Any]
    attempts: int
    error: str
    latency_ms: float


class PendingTask(TypedDict):
    """An open inbox item the loop waits for."""

    task_id: str
    role: str | None
    prompt: str
    options: list[str]
    kind: str


class RequestedOption(TypedDict):
    """An action a person chose (``Orchestrator.run_option``): planned instead of asking the planner."""

    option_id: str
    requested_by: str
    person: PersonData | None
    used: NotRequired[bool]


class ActedData(TypedDict):
    """What the last ``govern`` of this run decided, for the caller of a one-action run."""

    option_id: str
    label: str
    verdict: VerdictData


class LoopState(TypedDict, total=False):
    """The loop's own state (the LangGraph checkpoint); the case lives in the store."""

    case_id: str
    max_steps: int
    steps: int
    stop: str | None
    """Why the run ended: ``max_steps``, the case's state, ``waiting_for_events``, ``not_possible``…"""
    observation: dict[str, Any] | None
    """``_observation.observation_json``: what the planner sees (case file values pseudonymised)."""
    plan: PlanData | None
    approved: dict[str, Any] | None
    """An action a person approved (``ParkedAction.to_json``), executed without asking the planner."""
    verdict: VerdictData | None
    call_id: str | None
    deferred: DecisionRecord | None
    """What ``govern`` decided, for ``record`` to write with the outcome (``_node_helpers.recorded_with_outcome``)."""
    outcome: OutcomeData | None
    blocked: list[str]
    """Options blocked by governance during this run: not offered again in it."""
    resume: dict[str, Any] | None
    pending: list[PendingTask] | None
    """Open inbox items the loop waits for (set by ``plan`` before ``wait`` interrupts)."""
    requested: RequestedOption | None
    """A person's choice to carry out instead of asking the planner (one action, then stop)."""
    acted: ActedData | None
