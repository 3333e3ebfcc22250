"""The CMMN 1.1 runtime: a case instance as a pure state machine (chapter 8 of the spec).

Public API: :class:`CaseInstance` (start, operations, ``activatable()``/``apply()``,
``to_json()``/``from_json()``), the typed actions, :class:`TransitionEvent`, and the
transition table in :mod:`casepilot.cmmn.runtime.lifecycle`.
"""

from casepilot.cmmn.runtime.actions import (
    Action,
    CompleteItem,
    DisableItem,
    OccurEvent,
    PlanDiscretionary,
    ReenableItem,
    SetCaseFileItem,
    StartItem,
    TerminateItem,
    action_from_dict,
    action_to_dict,
)
from casepilot.cmmn.runtime.events import TransitionEvent
from casepilot.cmmn.runtime.instance import DEFAULT_EPOCH, CaseInstance, ItemView
from casepilot.cmmn.runtime.lifecycle import TRANSITIONS, State, Transition, next_state
from casepilot.cmmn.runtime.serialization import SCHEMA_VERSION

__all__ = [
    "DEFAULT_EPOCH",
    "SCHEMA_VERSION",
    "TRANSITIONS",
    "Action",
    "CaseInstance",
    "CompleteItem",
    "DisableItem",
    "ItemView",
    "OccurEvent",
    "PlanDiscretionary",
    "ReenableItem",
    "SetCaseFileItem",
    "StartItem",
    "State",
    "TerminateItem",
    "Transition",
    "TransitionEvent",
    "action_from_dict",
    "action_to_dict",
    "next_state",
]
