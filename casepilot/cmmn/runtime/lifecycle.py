"""The ONE transition table of CMMN 1.1 chapter 8: the case instance lifecycle, the stage and task
lifecycle and the event listener and milestone lifecycle.

Every state change of the runtime goes through :func:`next_state`, so an illegal transition
is refused in exactly one place with :class:`casepilot.errors.IllegalTransition` naming the
item, its state and the transition (DESIGN.md, example 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, TypeAlias, cast

from casepilot.errors import IllegalTransition

__all__ = [
    "ACTIVE",
    "AVAILABLE",
    "CLOSED",
    "COMPLETED",
    "DISABLED",
    "ENABLED",
    "FAILED",
    "SUSPENDED",
    "TERMINATED",
    "TRANSITIONS",
    "LifecycleKind",
    "State",
    "Transition",
    "allowed_transitions",
    "is_done",
    "lifecycle_kind",
    "next_state",
]

State: TypeAlias = Literal[
    "Available", "Enabled", "Disabled", "Active", "Suspended", "Completed", "Terminated", "Failed", "Closed"
]
"""States of plan items (ch. 8 stage and task lifecycle; event listener and milestone lifecycle) and
of the case instance (ch. 8 case instance lifecycle)."""

Transition: TypeAlias = Literal[
    "create",
    "enable",
    "disable",
    "reenable",
    "start",
    "manualStart",
    "complete",
    "terminate",
    "exit",
    "fault",
    "reactivate",
    "suspend",
    "resume",
    "parentSuspend",
    "parentResume",
    "parentTerminate",
    "occur",
    "close",
]
"""Plan-item and case transitions; ``parentTerminate`` is the name the event listener and milestone
lifecycle (ch. 8) gives the termination of a milestone or listener by its parent."""

LifecycleKind: TypeAlias = Literal["case", "work", "event"]
"""``case``: the case instance; ``work``: tasks and stages; ``event``: milestones and event listeners."""

AVAILABLE: State = "Available"
ENABLED: State = "Enabled"
DISABLED: State = "Disabled"
ACTIVE: State = "Active"
SUSPENDED: State = "Suspended"
COMPLETED: State = "Completed"
TERMINATED: State = "Terminated"
FAILED: State = "Failed"
CLOSED: State = "Closed"

_PRIOR = "<prior>"
"""Marker target: ``parentResume`` returns to the state the item had before ``parentSuspend``."""

_Row: TypeAlias = Mapping[str, tuple[frozenset[str], str]]


def _row(entries: dict[str, tuple[tuple[str, ...], str]]) -> _Row:
    return MappingProxyType({t: (frozenset(src), dst) for t, (src, dst) in entries.items()})


TRANSITIONS: Mapping[LifecycleKind, _Row] = MappingProxyType(
    {
        "case": _row(
            {
                "complete": (("Active",), "Completed"),
                "terminate": (("Active", "Suspended"), "Terminated"),
                "fault": (("Active",), "Failed"),
                "suspend": (("Active",), "Suspended"),
                "resume": (("Suspended",), "Active"),
                "reactivate": (("Completed", "Terminated", "Failed", "Suspended"), "Active"),
                "close": (("Completed", "Terminated", "Failed", "Suspended"), "Closed"),
            }
        ),
        "work": _row(
            {
                "enable": (("Available",), "Enabled"),
                "disable": (("Enabled",), "Disabled"),
                "reenable": (("Disabled",), "Enabled"),
                "start": (("Available",), "Active"),
                "manualStart": (("Enabled",), "Active"),
                "complete": (("Active",), "Completed"),
                "terminate": (("Active", "Suspended"), "Terminated"),
                "exit": (("Available", "Enabled", "Disabled", "Active", "Suspended", "Failed"), "Terminated"),
                "fault": (("Active",), "Failed"),
                "reactivate": (("Failed",), "Active"),
                "suspend": (("Active",), "Suspended"),
                "resume": (("Suspended",), "Active"),
                "parentSuspend": (("Available", "Enabled", "Disabled", "Active"), "Suspended"),
                "parentResume": (("Suspended",), _PRIOR),
            }
        ),
        "event": _row(
            {
                "occur": (("Available",), "Completed"),
                "terminate": (("Available",), "Terminated"),
                "parentTerminate": (("Available", "Suspended"), "Terminated"),
                "exit": (("Available", "Suspended"), "Terminated"),
                "suspend": (("Available",), "Suspended"),
                "resume": (("Suspended",), "Available"),
                "parentSuspend": (("Available",), "Suspended"),
                "parentResume": (("Suspended",), _PRIOR),
            }
        ),
    }
)
"""lifecycle kind -> transition -> (allowed source states, target state)."""

_EVENT_KINDS = frozenset({"milestone", "userEventListener", "timerEventListener", "eventListener"})
_DONE = frozenset({"Completed", "Terminated", "Failed", "Closed"})


def lifecycle_kind(item_kind: str, *, is_case: bool = False) -> LifecycleKind:
    """Which lifecycle an item of ``item_kind`` (an ``ItemKind``) follows."""
    if is_case:
        return "case"
    return "event" if item_kind in _EVENT_KINDS else "work"


def allowed_transitions(kind: LifecycleKind, state: str) -> list[str]:
    """Transitions the table allows from ``state`` (sorted, for error messages and planners)."""
    return sorted(t for t, (src, _) in TRANSITIONS[kind].items() if state in src)


def next_state(
    kind: LifecycleKind, state: str, transition: str, *, item: str, prior: str | None = None
) -> State:
    """The state after ``transition``; raises ``IllegalTransition`` naming item, state and transition."""
    entry = TRANSITIONS[kind].get(transition)
    if entry is None or state not in entry[0]:
        raise IllegalTransition(item, state, transition, allowed=allowed_transitions(kind, state))
    target = entry[1]
    if target == _PRIOR:
        target = prior or ("Available" if kind == "event" else "Active")
    return cast(State, target)


def is_done(state: str) -> bool:
    """Completed, Terminated, Failed or Closed: nothing happens to the item any more by itself."""
    return state in _DONE
