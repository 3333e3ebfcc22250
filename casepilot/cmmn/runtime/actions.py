"""Activatable actions: typed, immutable descriptions of everything a planner may do next.

``CaseInstance.activatable()`` lists them and ``CaseInstance.apply(action)`` performs one.
Each action carries a ``kind`` literal (a discriminated union) and serialises to a plain
dict, so the agent can show them to a model, a governance policy can match on them, and the
store can record the action that was taken.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, TypeAlias

__all__ = [
    "Action",
    "CompleteItem",
    "DisableItem",
    "OccurEvent",
    "PlanDiscretionary",
    "ReenableItem",
    "SetCaseFileItem",
    "StartItem",
    "TerminateItem",
    "action_from_dict",
    "action_to_dict",
]


@dataclass(frozen=True, slots=True)
class StartItem:
    """Manually start an enabled task or stage (``manualStart``)."""

    instance: str
    name: str
    kind: Literal["start"] = "start"


@dataclass(frozen=True, slots=True)
class CompleteItem:
    """Complete an active task, or manually complete an active stage / the case plan model."""

    instance: str
    name: str
    kind: Literal["complete"] = "complete"


@dataclass(frozen=True, slots=True)
class TerminateItem:
    """Terminate an active task or stage (its children exit)."""

    instance: str
    name: str
    kind: Literal["terminate"] = "terminate"


@dataclass(frozen=True, slots=True)
class DisableItem:
    """Disable an enabled task or stage (it stops blocking its stage's completion)."""

    instance: str
    name: str
    kind: Literal["disable"] = "disable"


@dataclass(frozen=True, slots=True)
class ReenableItem:
    """Re-enable a disabled task or stage."""

    instance: str
    name: str
    kind: Literal["reenable"] = "reenable"


@dataclass(frozen=True, slots=True)
class OccurEvent:
    """Let a user event listener occur."""

    instance: str
    name: str
    kind: Literal["occur"] = "occur"


@dataclass(frozen=True, slots=True)
class PlanDiscretionary:
    """Plan a discretionary item from the planning table of ``owner`` (an active stage or task).

    The new instance joins ``stage`` (the owner itself, or the stage containing the owning task).
    """

    item: str
    name: str
    owner: str
    stage: str
    kind: Literal["plan"] = "plan"


@dataclass(frozen=True, slots=True)
class SetCaseFileItem:
    """Create or update a case file item; the planner supplies ``value``."""

    item: str
    name: str
    exists: bool
    value: Any = None
    kind: Literal["set"] = "set"


Action: TypeAlias = (
    StartItem
    | CompleteItem
    | TerminateItem
    | DisableItem
    | ReenableItem
    | OccurEvent
    | PlanDiscretionary
    | SetCaseFileItem
)
"""Every action a planner can choose; discriminated by ``kind``."""

_BY_KIND: dict[str, type[Action]] = {
    "start": StartItem,
    "complete": CompleteItem,
    "terminate": TerminateItem,
    "disable": DisableItem,
    "reenable": ReenableItem,
    "occur": OccurEvent,
    "plan": PlanDiscretionary,
    "set": SetCaseFileItem,
}


def action_to_dict(action: Action) -> dict[str, Any]:
    """Plain data for an action (``kind`` included)."""
    return asdict(action)


def action_from_dict(data: dict[str, Any]) -> Action:
    """Rebuild an action from :func:`action_to_dict` output; unknown kinds raise ``ValueError``."""
    cls = _BY_KIND.get(str(data.get("kind")))
    if cls is None:
        raise ValueError(f"unknown action kind {data.get('kind')!r}; known: {', '.join(sorted(_BY_KIND))}")
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})
