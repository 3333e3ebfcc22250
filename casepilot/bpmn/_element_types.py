"""What kind of BPMN element a step was, in the words of the specification, for people.

History lines, the CLI and the case page say ``payment/level (business-rule task): complete``.
SpiffWorkflow's own descriptions are labels of its classes — ``BPMN Task`` for any task class
it has no label for (casepilot's business-rule task is one), ``Default End Event`` for a plain
end event — so the name is made here from what the element is: its kind, its event
definition and, for a boundary event, whether it interrupts.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    CallActivity,
    EndEvent,
    EventBasedGateway,
    ExclusiveGateway,
    InclusiveGateway,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    ManualTask,
    NoneTask,
    ParallelGateway,
    ParallelMultiInstanceTask,
    ReceiveTask,
    SendTask,
    SequentialMultiInstanceTask,
    StandardLoopTask,
    StartEvent,
    SubWorkflowTask,
    TransactionSubprocess,
)
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition

from ._specs import CpBusinessRuleTask, CpServiceTask, CpUserTask

__all__ = ["element_type"]

_KINDS: tuple[tuple[type, str], ...] = (
    (CpBusinessRuleTask, "business-rule task"),
    (CpServiceTask, "service task"),
    (CpUserTask, "user task"),
    (ManualTask, "manual task"),
    (ReceiveTask, "receive task"),
    (SendTask, "send task"),
    (CallActivity, "call activity"),
    (TransactionSubprocess, "transaction"),
    (SubWorkflowTask, "sub-process"),
    (ParallelMultiInstanceTask, "parallel multi-instance activity"),
    (SequentialMultiInstanceTask, "sequential multi-instance activity"),
    (StandardLoopTask, "loop activity"),
    (ExclusiveGateway, "exclusive gateway"),
    (InclusiveGateway, "inclusive gateway"),
    (EventBasedGateway, "event-based gateway"),
    (ParallelGateway, "parallel gateway"),
    (BoundaryEvent, "boundary event"),
    (StartEvent, "start event"),
    (EndEvent, "end event"),
    (IntermediateCatchEvent, "intermediate catch event"),
    (IntermediateThrowEvent, "intermediate throw event"),
    (NoneTask, "task"),
)
"""Most specific first (a business-rule task is a casepilot class; a transaction is a sub-process)."""

_EVENTS = {
    "CancelEventDefinition": "cancel",
    "CompensationEventDefinition": "compensation",
    "ConditionalEventDefinition": "conditional",
    "ErrorEventDefinition": "error",
    "EscalationEventDefinition": "escalation",
    "MessageEventDefinition": "message",
    "MultipleEventDefinition": "multiple",
    "SignalEventDefinition": "signal",
    "TerminateEventDefinition": "terminate",
    "TimerEventDefinition": "timer",
    "TimeDateEventDefinition": "timer",
    "DurationTimerEventDefinition": "timer",
    "CycleTimerEventDefinition": "timer",
}
"""Event definition class (or a base of it: casepilot's timers subclass SpiffWorkflow's) -> its word."""


def _event_word(definition: Any) -> str:
    if definition is None:
        return ""
    if isinstance(definition, NoneEventDefinition):  # casepilot's compensation throws carry one so described
        return "compensation" if getattr(definition, "description", None) == "Compensation" else ""
    for cls in type(definition).__mro__:
        word = _EVENTS.get(cls.__name__)
        if word is not None:
            return word
    return ""


def _described_word(spec: Any) -> str:
    """The event word SpiffWorkflow's parser wrote into the description (an event after an event-based
    gateway keeps its definition on the gateway and has none of its own)."""
    first = str(getattr(spec, "description", "") or "").split(" ", 1)[0].lower()
    return first if first in _EVENTS.values() else ""


def element_type(spec: Any) -> str:
    """The readable kind of the element behind a SpiffWorkflow task spec, e.g. ``service task``,
    ``interrupting error boundary event``, ``timer intermediate catch event``, ``end event``."""
    kind = next((name for cls, name in _KINDS if isinstance(spec, cls)), None)
    if kind is None:
        description = str(getattr(spec, "description", "") or "").removeprefix("Default ").strip()
        return description.lower() if description and description != "BPMN Task" else "element"
    if not kind.endswith("event"):
        return kind
    word = _event_word(getattr(spec, "event_definition", None)) or _described_word(spec)
    name = f"{word} {kind}" if word else kind
    if isinstance(spec, BoundaryEvent):
        name = ("interrupting " if getattr(spec, "cancel_activity", True) else "non-interrupting ") + name
    return name
