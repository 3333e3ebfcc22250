"""The JSON shapes of the HTTP API: request bodies and responses (pydantic, shown in OpenAPI).

Store models (``HumanTask``, ``HistoryEvent``, ``VerifyReport``, ``DefinitionSummary``) are
frozen pydantic models already and are returned as they are; this module adds the shapes
the store has no model for, so the wire format is typed end to end.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from casepilot.store import HistoryEvent, HumanTask

if TYPE_CHECKING:
    from casepilot.agent.orchestrator import RunOutcome

__all__ = [
    "FILE_NAME_PATTERN",
    "BundleIn",
    "CaseItem",
    "CaseKind",
    "CaseListed",
    "CaseSummary",
    "ChatIn",
    "ChatReply",
    "DecisionIn",
    "ErrorBody",
    "HistoryPage",
    "ProcessState",
    "RunIn",
    "RunOutcomeOut",
    "StartCaseIn",
    "outcome_out",
]

FILE_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}$"
"""A plain file name: bundles are flat folders, so a path, ``..`` or a hidden file is refused up front."""


class _In(BaseModel):
    """Request bodies refuse unknown fields, so a typo is a 422 instead of a silent default."""

    model_config = ConfigDict(extra="forbid")


class _Claimed(_In):
    """Who asks, for requests that may also come anonymously on a developer's machine.

    Behind a sign-on proxy both are taken from its headers: leave them out, or they must
    match (another name or more roles is a 403). Without one, a request that claims roles is
    checked against them as a signed-in person's would be; one that claims none is served
    as a developer's.
    """

    actor: str | None = Field(default=None, min_length=1, description=(
        "Who asks; from the sign-on proxy's headers when the service trusts them."))
    roles: list[str] = Field(default_factory=list, description=(
        "The asker's roles, checked against the role the request needs (see the README's HTTP service section)."))


class ErrorBody(BaseModel):
    """Every error response: which kind of error, and a message that says what to do."""

    error: str = Field(description="The error's kind, e.g. NotFound, DefinitionError, DecisionRejected.")
    detail: str = Field(description="What went wrong, in words a user can act on.")
    problems: list[str] = Field(default_factory=list, description="Every problem found (bundles, payloads).")


class BundleIn(_Claimed):
    """A case bundle as its files: the same files a folder like ``examples/claims`` holds."""

    files: dict[Annotated[str, StringConstraints(pattern=FILE_NAME_PATTERN)], str] = Field(
        min_length=1,
        description="File name -> text content: casepilot.yaml, the .cmmn model, .dmn guardrails, bindings.yaml.",
        # A name outside the pattern is refused (422): say so, or the schema would allow any other name.
        json_schema_extra={"additionalProperties": False},
        examples=[{"casepilot.yaml": "key: claim-triage\nmodel: claim-triage.cmmn\n…"}],
    )


class StartCaseIn(_Claimed):
    """Start a case on the latest version of a deployed definition."""

    definition_key: str = Field(min_length=1, description="The key of a deployed definition.")
    variables: dict[str, Any] = Field(default_factory=dict, description="Starting case-file variables (trusted).")
    business_key: str | None = Field(default=None, description="Your own reference, e.g. a claim number.")
    process: str | None = Field(default=None, min_length=1, description=(
        "Start this BPMN process of the bundle on its own (an id of its `processes:` files) instead of its "
        "CMMN case: it runs at once to its first wait state and is then worked like a case."))


class RunIn(_Claimed):
    """How long a run may go on before it stops by itself."""

    max_steps: int = Field(default=50, ge=1, le=10_000, description="Stop after this many steps.")


class DecisionIn(_In):
    """A person's decision on an inbox item."""

    actor: str | None = Field(default=None, min_length=1, description=(
        "Who decides (recorded as person:<actor>). Required unless the service trusts a sign-on "
        "proxy's identity headers; then it may be left out and must match them when given."))
    roles: list[str] = Field(default_factory=list, description=(
        "The decider's roles; the item's role must be one. Behind a sign-on proxy they come from its headers."))
    choice: str = Field(min_length=1, description="One of the item's options, e.g. approve.")
    comment: str | None = Field(default=None, description="Why; kept (pseudonymised) in the history.")


class PersonActionOut(BaseModel):
    """Something people may do in the case now (``POST /cases/{id}/actions/{action_id}``) — or,
    with ``available`` false, a discretionary item that is not offered and why."""

    id: str = Field(description="occur:<instance> for a user event, plan:<item>:<owner> for a discretionary item.")
    kind: Literal["occur", "plan"]
    label: str
    roles: list[str] = Field(description="Roles the case model authorises for it; empty: anyone.")
    available: bool = Field(default=True, description=(
        "False: not offered — its applicability rule reads personal data that was erased, so it cannot be "
        "evaluated (never taken as true or false); the case fails at its next step. Taking it is refused."))
    reason: str | None = Field(default=None, description="Why it is not available (with available false).")


class ActorIn(_In):
    """Who acts (from the sign-on proxy's headers instead, when the service trusts them)."""

    actor: str | None = Field(default=None, min_length=1, description="Recorded as person:<actor>.")
    roles: list[str] = Field(default_factory=list, description="The actor's roles.")


class RevealedCaseFile(BaseModel):
    """A case file with its personal data in clear (``POST /cases/{id}/reveal``; audited)."""

    case_id: str
    revealed_for: str
    variables: dict[str, Any]


class ChatIn(_In):
    """A question to the case, or an instruction naming one of its possible actions."""

    actor: str | None = Field(default=None, min_length=1, description=(
        "Who asks (recorded as person:<actor>); from the sign-on proxy's headers when the service trusts them."))
    roles: list[str] = Field(default_factory=list, description=(
        "The asker's roles: chatting may act on the case, so it needs the bundle's operator role."))
    message: str = Field(min_length=1, description="The question or instruction.")


class ChatReply(BaseModel):
    """The orchestrator's answer."""

    case_id: str
    reply: str


class CaseItem(BaseModel):
    """One plan-item instance of a case."""

    id: str
    name: str
    kind: str
    state: str = Field(description="available, enabled, disabled, active, suspended, completed, terminated, failed.")


CaseKind = Literal["case", "process"]
"""``case``: the bundle's CMMN case; ``process``: one of its BPMN processes started on its own."""


class CaseListed(BaseModel):
    """A case in a listing (``GET /cases``): who it is, not where it stands."""

    id: str
    definition_key: str
    definition_version: int
    business_key: str | None
    tenant: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    kind: CaseKind = Field(default="case", description="case, or process: a BPMN process started on its own.")
    process: str | None = Field(default=None, description="The BPMN process id (kind process).")


class ProcessState(BaseModel):
    """A BPMN process of a case (a process started on its own, or one a process task runs)."""

    instance_id: str = Field(description="The plan item (process task) instance running it.")
    process_id: str
    name: str
    status: Literal["running", "waiting", "completed", "failed"]
    active_elements: list[str] = Field(description="BPMN element ids holding a token now.")
    completed_elements: list[str] = Field(description="BPMN element ids completed so far.")
    variables: dict[str, Any] = Field(description=(
        "The process's variables, pseudonymised like the case file (empty once it ended: its outputs are in "
        "the case file)."))
    next_timer: str | None = Field(description="When its earliest armed timer is due (ISO time), if any.")
    diagram: str | None = Field(description=(
        "Where its diagram with the tokens marked is (SVG, from the model's BPMN DI); null when the model has none."))


class CaseSummary(BaseModel):
    """Where a case stands: its CMMN state, plan items and open inbox items."""

    id: str
    definition_key: str
    definition_version: int
    business_key: str | None
    state: str = Field(description="The case's CMMN state (active, completed, terminated, …).")
    version: int = Field(description="Optimistic-concurrency counter of the stored case.")
    created_at: datetime
    updated_at: datetime
    variables: dict[str, Any] = Field(description="The case file, pseudonymised (PII replaced by tokens).")
    items: list[CaseItem]
    open_tasks: list[HumanTask]
    kind: CaseKind = Field(default="case", description="case, or process: a BPMN process started on its own.")
    process: str | None = Field(default=None, description="The BPMN process id (kind process).")
    processes: list[ProcessState] = Field(default_factory=list, description=(
        "Its BPMN processes, running and ended: the process itself (kind process), or those its process tasks run."))


class RunOutcomeOut(BaseModel):
    """Why a run stopped, and what the case waits for."""

    case_id: str
    reason: str = Field(description="completed | terminated | failed | waiting_for_people | waiting_for_events | "
                                    "max_steps | planner_error | blocked_llm_call")
    steps: int
    case_state: str
    pending: list[HumanTask]
    detail: dict[str, Any] | None = Field(
        default=None,
        description="For planner_error: what failed, as the history recorded it — `problem` (in words), `seq` "
                    "(the history event), `failure` (kind, HTTP status, message, endpoint, model of the last "
                    "attempt), `route` (the routing decision's endpoint, model and rule ids) or `routing_error` "
                    "(why no route could be taken). For a case that completed with plan items still Failed "
                    "(CMMN lets a stage complete over a failed task): `failed_items`, each with `id` and `name`. "
                    "None otherwise.")


def outcome_out(outcome: RunOutcome, case_id: str | None = None) -> RunOutcomeOut:
    """The wire shape of an orchestrator ``RunOutcome`` (its planner failure detail included)."""
    detail: Mapping[str, Any] | None = outcome.detail
    return RunOutcomeOut(case_id=case_id or outcome.case_id, reason=outcome.reason, steps=outcome.steps,
                         case_state=outcome.case_state, pending=list(outcome.pending),
                         detail=dict(detail) if detail is not None else None)


class HistoryPage(BaseModel):
    """A page of the append-only history; pass ``next_after_seq`` as ``after_seq`` for the next page."""

    case_id: str
    events: list[HistoryEvent]
    next_after_seq: int | None = Field(description="None when this page reached the end of the history.")
