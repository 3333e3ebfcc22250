"""Domain events: what each transition of a case produced, in order.

Every public operation of :class:`~casepilot.cmmn.runtime.instance.CaseInstance` returns the
events it caused (the transition asked for and all its consequences: sentries that fired,
stages that completed, timers that occurred). The store appends them to the case history.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal, TypeAlias

__all__ = ["EventSubject", "TransitionEvent"]

EventSubject: TypeAlias = Literal["case", "planItem", "caseFileItem"]
"""What changed: the case instance, a plan-item instance, or a case file item."""


@dataclass(frozen=True, slots=True)
class TransitionEvent:
    """One transition: ``instance`` went from ``from_state`` to ``to_state`` by ``transition``.

    ``element`` is the model element (plan item, discretionary item, case plan model or case
    file item id) so sentries and readers need no instance lookup; ``cause`` says why
    (``"user"``, ``"sentry:<id>"``, ``"parent"``, ``"timer"``, ``"repetition"``, ``"auto"``…)
    and ``criterion`` names the entry/exit criterion that fired, which ``exitCriterionRef``
    on-parts test.
    """

    seq: int
    """Position in the case's event sequence (1-based, gap-free)."""
    subject: EventSubject
    instance: str
    element: str
    name: str
    transition: str
    from_state: str | None
    to_state: str | None
    at: str
    """ISO-8601 time of the case clock when the transition happened."""
    cause: str | None = None
    criterion: str | None = None
    parent: str | None = None
    """On ``create`` events: the stage instance the new instance belongs to."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data for the history (every field is a scalar: no deep copy needed,
        and ``dataclasses.asdict``'s recursive copy costs a measurable part of an agent step)."""
        return {f: getattr(self, f) for f in _FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransitionEvent:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(TransitionEvent))
