"""The store's boundary types: immutable pydantic models, never ORM rows.

Callers (agent, governance, api, cli) see only these; the SQLModel tables stay
private to ``casepilot.store`` so that the schema can change without rippling out.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Actor",
    "Anchor",
    "CaseRecord",
    "DefinitionBundle",
    "DefinitionSummary",
    "DefinitionVersion",
    "EventKind",
    "HistoryEvent",
    "HumanTask",
    "JsonObject",
    "NewEvent",
    "StepResult",
    "TaskStatus",
    "VerifyReport",
]

JsonObject = dict[str, Any]
"""A JSON object as Python values (str keys; values str/int/float/bool/None/list/dict)."""

EventKind = Literal[
    "case_created",
    "state",
    "state_delta",
    "transition",
    "plan",
    "verdict",
    "tool_call_started",
    "tool_call_completed",
    "tool_call_failed",
    "llm_call",
    "human_task_created",
    "human_task_decided",
    "chat_message",
    "error",
    "erasure",
    "pii_revealed",
]
"""What a history event records. ``case_created`` and ``state`` carry the case state
snapshot, ``state_delta`` what a step changed in it (see ``casepilot.store.history``); ``erasure`` records a retention erase; ``pii_revealed`` records that a person saw clear
personal data (who, which pseudonyms)."""

STATE_EVENT_KINDS: frozenset[str] = frozenset({"case_created", "state"})

Actor = str
"""Who caused an event: ``"agent"``, ``"system"`` or ``"person:<name>"`` (free text, not parsed)."""

TaskStatus = Literal["open", "decided", "expired", "cancelled"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DefinitionBundle(_Frozen):
    """What gets deployed under a key: the CMMN file, its DMN models, tool bindings and policies.

    ``files`` maps a file name to its content (text or bytes); the store never parses them.
    """

    files: dict[str, str | bytes]
    metadata: JsonObject = Field(default_factory=dict)


class DefinitionSummary(_Frozen):
    """One deployed version, without its file contents."""

    key: str
    version: int
    content_hash: str
    deployed_at: datetime
    metadata: JsonObject


class DefinitionVersion(DefinitionSummary):
    """One deployed version with its bundle."""

    files: dict[str, str | bytes]

    @property
    def bundle(self) -> DefinitionBundle:
        return DefinitionBundle(files=self.files, metadata=self.metadata)


class CaseRecord(_Frozen):
    """A case as stored: the engine's state JSON plus bookkeeping.

    ``version`` is the optimistic-concurrency counter: pass it to ``Store.step``.
    ``last_seq``/``head_hash`` are the history chain head, kept on the row so an append
    never reads the history.
    """

    id: str
    definition_key: str
    definition_version: int
    state: JsonObject
    business_key: str | None
    tenant: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    last_seq: int
    head_hash: str
    state_bytes: int = Field(default=0, exclude=True)
    """The size of the stored state JSON (a hint for caches; not part of the case)."""


class NewEvent(_Frozen):
    """An event to append; the store assigns sequence, timestamp and hash."""

    kind: EventKind
    actor: Actor = "system"
    payload: JsonObject = Field(default_factory=dict)
    rule_ids: tuple[str, ...] = ()
    tokens: int | None = None
    cost: Decimal | float | None = None
    """Money: give a ``Decimal`` (exact); the store keeps it exactly for sums (``llm_spend``)."""
    latency_ms: float | None = None


class HistoryEvent(_Frozen):
    """One appended event with its chain link."""

    case_id: str
    seq: int
    at: datetime
    kind: EventKind
    actor: Actor
    payload: JsonObject
    rule_ids: tuple[str, ...]
    tokens: int | None
    cost: float | None
    latency_ms: float | None
    prev_hash: str
    hash: str


class HumanTask(_Frozen):
    """An inbox item: a CMMN human task or a governance checkpoint awaiting a person."""

    id: str
    case_id: str
    plan_item: str | None
    kind: Literal["human_task", "checkpoint"]
    role: str | None
    prompt: str
    options: tuple[str, ...]
    status: TaskStatus
    created_at: datetime
    expires_at: datetime | None
    action_digest: str | None
    decided_by: str | None
    decided_at: datetime | None
    decision: str | None
    comment: str | None


class StepResult(_Frozen):
    """What a committed step wrote."""

    case_id: str
    version: int
    events: tuple[HistoryEvent, ...]
    updated_at: datetime | None = None
    """The case row's new ``updated_at`` (None when the step wrote nothing)."""


class Anchor(_Frozen):
    """A case's chain head written down outside the database (``Store.anchors``).

    The chain proves every change inside a history, but someone with write access could cut
    the tail off and rewrite the case row's head to match: nothing inside the database would
    show it. An anchor kept elsewhere (a file, a ticket, a signed log) does: ``Store.verify``
    with the anchor checks the anchored event is still there, unchanged.
    """

    case_id: str
    seq: int
    hash: str
    taken_at: datetime


class VerifyReport(_Frozen):
    """Outcome of checking a case's hash chain.

    ``first_bad_seq`` names the first event that was changed, removed or reordered;
    ``problem`` says which, in words a person can act on.
    """

    case_id: str
    ok: bool
    events_checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
