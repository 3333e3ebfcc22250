"""What a process runner hands its sink: one batch per persistence point, events shaped for a case history.

A :class:`ProcessRunner <casepilot.bpmn.runner.ProcessRunner>` writes through a
:class:`ProcessSink` after every service task and at every wait state. A batch is *one*
atomic write: the events since the last batch and the runner's whole state (JSON). The
events use the kinds of ``casepilot.store`` history events (``EventKind``) and carry, in
their payload, the BPMN coordinates every step needs to be found again::

    {"engine": "bpmn", "process": "payment", "instance": "<case or process id>",
     "element": "pay", "element_type": "service task", "token": "<SpiffWorkflow task id>", ...}

plus what the kind records (``verdict`` → the verdict's ``to_json()``; ``tool_call_*`` →
``call_id`` (= token), ``tool``, ``arguments`` (as governed: redacted when the verdict
transformed them), ``result`` or ``error``; ``transition`` → ``transition: complete``).

Two kinds are inbox changes rather than plain events: an event with ``opens`` asks the sink
to open an inbox item (a user task, or a checkpoint for a governance verdict or a crash),
one with ``closes`` to close one (decided by a person, or cancelled when the process moved
on without it). With ``casepilot.store`` these are ``Step.create_task`` and
``Step.decide_task`` / ``Step.close_task``, which record ``human_task_created`` /
``human_task_decided`` themselves (:class:`casepilot.bpmn.store_sink.StoreSink` does so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeAlias

__all__ = ["InboxClose", "InboxOpen", "ProcessBatch", "ProcessEvent", "ProcessEventKind", "ProcessSink", "RunStatus"]

ProcessEventKind: TypeAlias = Literal[
    "transition", "verdict", "tool_call_started", "tool_call_completed", "tool_call_failed", "error",
    "human_task_created", "human_task_decided",
]
"""The history kinds a runner emits (a subset of ``casepilot.store.EventKind``)."""

RunStatus: TypeAlias = Literal["running", "waiting", "completed", "failed"]
"""``waiting``: for a person, a checkpoint, a timer or a message; ``running`` only inside a run."""


@dataclass(frozen=True, slots=True)
class InboxOpen:
    """An inbox item to open: a user task (``human_task``) or a checkpoint for a named role."""

    task_id: str
    kind: Literal["human_task", "checkpoint"]
    prompt: str
    role: str | None
    element: str
    options: tuple[str, ...] = ()
    action_digest: str | None = None
    form: tuple[dict[str, Any], ...] = ()
    """A user task's form fields (name, type, label, required)."""


@dataclass(frozen=True, slots=True)
class InboxClose:
    """An inbox item to close: decided by ``decided_by`` (``decision`` set) or cancelled (``decision`` None)."""

    task_id: str
    decided_by: str
    decision: str | None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class ProcessEvent:
    """One history event of a BPMN step (see the module docstring for the payload)."""

    kind: ProcessEventKind
    payload: dict[str, Any]
    actor: str = "system"
    rule_ids: tuple[str, ...] = ()
    latency_ms: float | None = None
    opens: InboxOpen | None = None
    closes: InboxClose | None = None

    @property
    def element(self) -> str | None:
        """The BPMN element id the event is about."""
        value = self.payload.get("element")
        return str(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class ProcessBatch:
    """One atomic write: the events since the last batch and the runner state after them."""

    events: tuple[ProcessEvent, ...]
    state: dict[str, Any]
    """:meth:`ProcessRunner.state` — JSON; :meth:`ProcessRunner.resume` takes it back."""
    status: RunStatus
    reason: Literal["started", "service_task", "wait_state", "resumed", "decided"] = "wait_state"
    """Why the batch was written; ``decided``: a person's decision recorded without running on
    (:meth:`ProcessRunner.hold <casepilot.bpmn.runner.ProcessRunner.hold>`)."""
    waiting_for: tuple[str, ...] = field(default=())
    """Element ids holding a token when the batch was written."""


class ProcessSink(Protocol):
    """Where a runner persists: write the batch atomically (all of it or nothing), or raise."""

    def write(self, batch: ProcessBatch) -> None: ...
