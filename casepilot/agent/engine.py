"""The agent's narrow view of the CMMN engine.

The orchestrator needs a handful of operations of ``casepilot.cmmn.CaseInstance``; this
module names them once, with the plain views the agent shows to planners and records in
the history, so the rest of the agent never depends on engine internals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from casepilot.agent._case_reveal import CaseReveal, Unavailable
from casepilot.agent._case_reveal import unavailable as listed_unavailable
from casepilot.cmmn import CaseInstance
from casepilot.cmmn.definitions import Case
from casepilot.cmmn.runtime.actions import Action, PlanDiscretionary
from casepilot.cmmn.runtime.events import TransitionEvent
from casepilot.cmmn.runtime.instance import ItemView as EngineItemView
from casepilot.errors import CasepilotError, UnknownPlanItem

__all__ = ["EngineCase", "ItemView"]


@dataclass(frozen=True, slots=True)
class ItemView:
    """One plan-item instance as the agent sees it."""

    instance_id: str
    element_id: str
    definition_id: str
    name: str
    kind: str
    state: str
    """Lower-case CMMN state: available, enabled, disabled, active, suspended, completed, terminated, failed."""
    stage_instance: str | None
    required: bool

    def to_json(self) -> dict[str, Any]:
        return {"id": self.instance_id, "name": self.name, "kind": self.kind, "state": self.state}


class EngineCase:
    """A running CMMN case instance, wrapped."""

    def __init__(self, case: Case, instance: CaseInstance, reveal: CaseReveal | None = None) -> None:
        self.case = case
        self.instance = instance
        self.reveal = reveal
        """What the case's conditions and decision tasks are evaluated on: the clear values behind
        the case file's pseudonyms (``_case_reveal``); None without a privacy layer."""
        self._items: list[ItemView] | None = None
        """Views of the current state; every changing operation below drops them."""
        self._views: dict[str, tuple[EngineItemView, ItemView]] = {}
        """The agent's view of each instance beside the engine's view it was made from: the engine
        hands out the same view while an instance is unchanged, and so does this."""

    @classmethod
    def start(cls, case: Case, variables: Mapping[str, Any], now: dt.datetime, *,
              reveal: CaseReveal | None = None) -> tuple[EngineCase, list[dict[str, Any]]]:
        with nullcontext() if reveal is None else reveal.batch():
            instance = CaseInstance.start(case, dict(variables), now=now, view=reveal)
        return cls(case, instance, reveal), [e.to_dict() for e in instance.last_events]

    @classmethod
    def load(cls, case: Case, data: Mapping[str, Any], *, reveal: CaseReveal | None = None) -> EngineCase:
        return cls(case, CaseInstance.from_json(case, dict(data), view=reveal), reveal)

    def dump(self) -> dict[str, Any]:
        return self.instance.to_dict()

    @property
    def state(self) -> str:
        return self.instance.state.lower()

    @property
    def now(self) -> dt.datetime:
        return self.instance.now

    @property
    def finished(self) -> bool:
        return self.state in ("completed", "terminated", "failed", "closed")

    def variables(self) -> dict[str, Any]:
        return dict(self.instance.variables)

    def items(self) -> list[ItemView]:
        if self._items is None:
            self._items = [self._view(inst) for inst in self.instance.items()]
        return self._items

    def active_items(self) -> list[ItemView]:
        """Active instances only (the engine indexes them: no view of every item is built)."""
        return [self._view(inst) for inst in self.instance.in_state("Active")]

    def item(self, instance_id: str) -> ItemView | None:
        """The view of one instance, or None when it no longer exists (without viewing every item)."""
        try:
            return self._view(self.instance.item(instance_id))
        except UnknownPlanItem:
            return None

    def _view(self, inst: EngineItemView) -> ItemView:
        last = self._views.get(inst.id)
        if last is not None and last[0] is inst:
            return last[1]
        element = self.case.plan_items.get(inst.element) or self.case.discretionary_items.get(inst.element)
        view = ItemView(
            instance_id=inst.id,
            element_id=inst.element,
            definition_id=element.definition_ref if element is not None else inst.element,
            name=inst.name,
            kind=inst.kind,
            state=inst.state.lower(),
            stage_instance=inst.parent,
            required=inst.required,
        )
        self._views[inst.id] = (inst, view)
        return view

    def _operation(self, run: Callable[[], Iterable[TransitionEvent]]) -> list[dict[str, Any]]:
        """Run one engine operation; the personal data its conditions read is revealed once for it
        and forgotten after it (``_case_reveal``)."""
        self._items = None
        if self.reveal is None:
            return [e.to_dict() for e in run()]
        with self.reveal.batch():
            return [e.to_dict() for e in run()]

    def activatable(self) -> list[Action]:
        if self.reveal is None:
            return list(self.instance.activatable())
        with self.reveal.batch():  # applicability rules may read personal data
            return list(self.instance.activatable())

    def listable(self) -> tuple[list[Action], list[tuple[PlanDiscretionary, CasepilotError]]]:
        """``activatable`` for a read-only listing, which must not fail: a discretionary item whose
        applicability rule reads personal data that cannot be revealed is not offered but returned
        apart, with the error (``_case_reveal.unavailable``); in a step, ``activatable`` raises."""
        unavailable: list[tuple[PlanDiscretionary, CasepilotError]] = []
        with self.reveal.batch() if self.reveal is not None else nullcontext():
            return list(self.instance.activatable(unavailable=unavailable)), unavailable

    def possible(self, unavailable: list[Unavailable] | None = None) -> list[Action]:
        """``activatable`` — or, with ``unavailable`` (a read-only listing, which must not fail),
        ``listable``, with what it left out put there for people (``_case_reveal.unavailable``)."""
        if unavailable is None:
            return self.activatable()
        actions, left_out = self.listable()
        unavailable.extend(listed_unavailable(left_out))
        return actions

    def apply(self, action: Action) -> list[dict[str, Any]]:
        return self._operation(lambda: self.instance.apply(action))

    def complete(self, instance_id: str) -> list[dict[str, Any]]:
        return self._operation(lambda: self.instance.complete(instance_id))

    def terminate(self, instance_id: str) -> list[dict[str, Any]]:
        return self._operation(lambda: self.instance.terminate(instance_id))

    def fault(self, instance_id: str | None) -> list[dict[str, Any]]:
        """Fault a plan item, or the case itself (``instance_id`` None)."""
        return self._operation(lambda: self.instance.fault(instance_id))

    def lifecycle(self, transition: str, instance_id: str | None = None) -> list[dict[str, Any]]:
        """A CMMN lifecycle transition people ask for: ``suspend``, ``resume``, ``terminate`` or
        ``reactivate`` of the case (``instance_id`` None) or of one plan item."""
        if transition not in ("suspend", "resume", "terminate", "reactivate"):
            raise ValueError(f"{transition!r} is not a lifecycle transition people ask for")
        return self._operation(lambda: getattr(self.instance, transition)(instance_id))

    def set_variables(self, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        return self._operation(lambda: self.instance.set_variables(dict(values)))

    def advance_to(self, now: dt.datetime) -> list[dict[str, Any]]:
        return self._operation(lambda: self.instance.advance_to(now))
