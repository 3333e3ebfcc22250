"""``CaseInstance``: the public face of one running case (a pure state machine).

It never reads the wall clock or makes random ids: time is passed in (``start(now=…)``,
``advance_to(now)``) and ids come from an injected generator or a deterministic counter.
Every operation returns the :class:`TransitionEvent` list it caused; ``to_json`` /
``from_json`` persist it exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from casepilot.cmmn.definitions import Case, Stage
from casepilot.cmmn.runtime import case_file, planning, sentries, serialization
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
)
from casepilot.cmmn.runtime.conditions import ExpressionView
from casepilot.cmmn.runtime.events import TransitionEvent
from casepilot.cmmn.runtime.machine import CaseMachine
from casepilot.cmmn.runtime.model import index_for
from casepilot.cmmn.runtime.roles import check as roles_check
from casepilot.cmmn.runtime.roles import holds as roles_holds
from casepilot.cmmn.runtime.state import ItemInstance
from casepilot.errors import CasepilotError, IllegalTransition, UnknownPlanItem

__all__ = ["DEFAULT_EPOCH", "CaseInstance", "ItemView"]

DEFAULT_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
"""The case clock's start when the caller passes no ``now`` (never the wall clock)."""

_OCCURRABLE = frozenset({"userEventListener", "eventListener"})


@dataclass(frozen=True, slots=True)
class ItemView:
    """A read-only snapshot of one plan-item instance."""

    id: str
    element: str
    """Plan item or discretionary item id in the definition."""
    name: str
    kind: str
    state: str
    parent: str | None
    required: bool
    discretionary: bool
    due: str | None = None


def _aware(now: dt.datetime) -> dt.datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=dt.UTC)


class CaseInstance:
    """One case of a ``Case`` definition; create with :meth:`start` or :meth:`from_json`."""

    __slots__ = ("_m", "_views", "last_events")

    def __init__(self, machine: CaseMachine) -> None:
        self._m = machine
        self.last_events: list[TransitionEvent] = []
        """Events of the most recent operation (including :meth:`start`)."""
        self._views: dict[str, ItemView] = {}
        """The last view of each instance, handed out again while the instance is unchanged: a
        planner lists every item at every step, and most of them did not move."""

    # -- creation and persistence -------------------------------------------------------------

    @classmethod
    def start(
        cls,
        case: Case,
        variables: Mapping[str, Any] | None = None,
        *,
        now: dt.datetime | None = None,
        ids: Callable[[], str] | None = None,
        instance_id: str | None = None,
        view: ExpressionView | None = None,
    ) -> CaseInstance:
        """Create and start a case: its plan model becomes active and its items are created.

        ``variables`` that name case file items create them (their ``create`` event fires).
        ``view``: what the case's conditions and rules are evaluated on (see :attr:`view`).
        """
        clock = _aware(now) if now is not None else DEFAULT_EPOCH
        m = CaseMachine(case, index_for(case), instance_id or "case", clock, ids)
        m.view = view
        if instance_id is None and ids is not None:
            m.id = ids()
        self = cls(m)

        def begin() -> None:
            root = ItemInstance(m.id, case.plan_model.id, None, "Active")
            m.root = root.id
            m.register(root)
            name = m.ix.items[root.element].name
            m.emit("case", root.id, root.element, name, "create", None, "Active", "user")
            # variables first (rules and if-parts of new items read them), case file events
            # after the items exist, so that their on-parts see the create events
            pending = case_file.assign(m, dict(variables or {}), emit=False)
            m.start_children(root)
            case_file.emit_pending(m, pending)
            # the case plan model is created here, not by CaseMachine.create, so its own
            # if-part-only exit criteria are armed (and tested) here, as initial() does for items
            sentries.initial_exit(m, root, evaluate=True)

        self.last_events = m.run(begin)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The snapshot as plain JSON data (``schema`` field = version)."""
        return serialization.dump(self._m)

    def changes(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """What changed since the last snapshot or ``changes()``: (the snapshot without ``items``,
        the changed and new items); see ``serialization.dump_changes``."""
        return serialization.dump_changes(self._m)

    def to_json(self) -> str:
        """The snapshot as canonical JSON text."""
        return serialization.to_text(self.to_dict())

    @classmethod
    def from_json(
        cls, case: Case, data: str | Mapping[str, Any], *, ids: Callable[[], str] | None = None,
        view: ExpressionView | None = None,
    ) -> CaseInstance:
        """Rebuild an instance of ``case`` from :meth:`to_json` / :meth:`to_dict` output (``view``: see :attr:`view`)."""
        machine = serialization.load(case, data if isinstance(data, str) else dict(data), ids)
        machine.view = view
        return cls(machine)

    @property
    def view(self) -> ExpressionView | None:
        """The host's view of the variables a sentry if-part, an item's rule or a timer expression
        reads (``conditions.ExpressionView``): e.g. the clear values behind pseudonyms. It is not
        part of the snapshot; what the case stores stays as stored. None: the stored variables."""
        return self._m.view

    # -- reading -----------------------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The case instance id (also the id of its case plan model instance)."""
        return self._m.id

    @property
    def case(self) -> Case:
        """The definition this instance runs."""
        return self._m.case

    @property
    def state(self) -> str:
        """The case state: Active, Suspended, Completed, Terminated, Failed or Closed."""
        return self._m.items[self._m.root].state

    @property
    def now(self) -> dt.datetime:
        """The case clock."""
        return self._m.now

    @property
    def variables(self) -> Mapping[str, Any]:
        """Case variables, case file item values included (read-only view)."""
        return MappingProxyType(self._m.variables)

    @property
    def case_file(self) -> Mapping[str, str]:
        """Case file item id -> state (``Available`` after create/update, ``Discarded`` after delete)."""
        return MappingProxyType(self._m.case_file)

    def _view(self, inst: ItemInstance) -> ItemView:
        last = self._views.get(inst.id)
        if (last is not None and last.state == inst.state and last.required == inst.required
                and last.due == inst.due and last.parent == inst.parent and last.element == inst.element):
            return last
        info = self._m.info(inst)
        view = self._views[inst.id] = ItemView(
            inst.id,
            inst.element,
            info.name,
            info.kind,
            inst.state,
            inst.parent,
            inst.required,
            info.discretionary,
            inst.due,
        )
        return view

    def items(self) -> list[ItemView]:
        """Every plan-item instance (not the case plan model), in creation order."""
        return [self._view(i) for i in self._m.items.values() if i.id != self._m.root]

    def in_state(self, state: str) -> list[ItemView]:
        """Plan-item instances now in ``state`` (e.g. ``"Active"``), in the order they entered it.

        Read from the engine's state index: costs what is in that state, not the size of the case.
        """
        m = self._m
        return [self._view(m.items[i]) for i in m.by_state.get(state, {}) if i != m.root]

    def item(self, instance_id: str) -> ItemView:
        """One instance by id."""
        return self._view(self._get(instance_id))

    def find(self, ref: str, *, state: str | None = None) -> list[ItemView]:
        """Instances whose id, element id or name is ``ref`` (optionally only in ``state``)."""
        return [
            v
            for v in self.items()
            if ref in (v.id, v.element, v.name) and (state is None or v.state == state)
        ]

    def state_of(self, ref: str) -> str:
        """State of instance ``ref``, or of the latest instance of the element / name ``ref``."""
        if ref == self._m.id:
            return self.state
        found = self.find(ref)
        if not found:
            raise UnknownPlanItem(f"no plan item instance {ref!r} in case {self._m.id!r}")
        exact = [v for v in found if v.id == ref]
        return (exact or found)[-1].state

    def _get(self, instance_id: str) -> ItemInstance:
        inst = self._m.items.get(instance_id)
        if inst is None:
            raise UnknownPlanItem(f"no plan item instance {instance_id!r} in case {self._m.id!r}")
        return inst

    # -- planner interface ---------------------------------------------------------------------

    def activatable(self, *, roles: Collection[str] | None = None,
                    unavailable: list[tuple[PlanDiscretionary, CasepilotError]] | None = None) -> list[Action]:
        """Every action possible now, ready for a planner to choose from; with ``roles``, the
        user events and discretionary items only if someone holding them is authorised; with
        ``unavailable``, a discretionary item whose applicability rules cannot be evaluated is
        listed there instead of failing the whole list (``planning.plan_options``)."""
        m = self._m
        root = m.items[m.root]
        if root.state != "Active":
            return []
        out: list[Action] = []

        def in_order(ids: Collection[str]) -> list[str]:
            # creation order, the same on a live instance and on one rebuilt from its snapshot
            return sorted(ids, key=m.order.__getitem__)

        for iid in in_order(m.by_state.get("Enabled", {})):
            name = m.info(m.items[iid]).name
            out += [StartItem(iid, name), DisableItem(iid, name)]
        out += [
            ReenableItem(iid, m.info(m.items[iid]).name)
            for iid in in_order(m.by_state.get("Disabled", {}))
            if self._parent_active(m.items[iid])
        ]
        for iid in in_order(m.by_state.get("Active", {})):
            inst = m.items[iid]
            info = m.info(inst)
            if not isinstance(info.definition, Stage) or m.can_complete(inst, manual=True):
                out.append(CompleteItem(iid, info.name))
            out.append(TerminateItem(iid, info.name))
        out += [
            OccurEvent(iid, m.info(m.items[iid]).name)
            for iid in in_order(m.listeners)
            if roles is None or roles_holds(m, m.items[iid].element, roles)
        ]
        if m.can_complete(root, manual=True):
            out.append(CompleteItem(root.id, m.info(root).name))
        out += planning.plan_options(m, roles, unavailable)
        for cfi in m.case.case_file_items_by_id.values():
            out.append(SetCaseFileItem(cfi.id, cfi.name or cfi.id, m.case_file.get(cfi.id) == "Available"))
        return out

    def apply(self, action: Action) -> list[TransitionEvent]:
        """Perform one action from :meth:`activatable` (or built by hand)."""
        if isinstance(action, StartItem):
            return self.manual_start(action.instance)
        if isinstance(action, CompleteItem):
            return self.complete(action.instance)
        if isinstance(action, TerminateItem):
            return self.terminate(action.instance)
        if isinstance(action, DisableItem):
            return self.disable(action.instance)
        if isinstance(action, ReenableItem):
            return self.reenable(action.instance)
        if isinstance(action, OccurEvent):
            return self.occur(action.instance)
        if isinstance(action, PlanDiscretionary):
            return self.plan(action.item, owner=action.owner)
        return self.set_variables({action.name: action.value})

    # -- operations --------------------------------------------------------------------------------

    def _do(self, action: Callable[[], None]) -> list[TransitionEvent]:
        self.last_events = self._m.run(action)
        return self.last_events

    def _parent_active(self, inst: ItemInstance) -> bool:
        return inst.parent is None or self._m.items[inst.parent].state == "Active"

    def _act(self, inst: ItemInstance, transition: str) -> list[TransitionEvent]:
        """Apply a caller's transition. A plan item is acted on only inside an active stage
        (ch. 8 stage and task lifecycle): a completed stage leaves a Disabled or Failed child as it is for good — it may
        not be re-enabled or reactivated into a stage that is over — and the children of a
        suspended stage wait for it to resume."""
        m = self._m
        if not self._parent_active(inst):
            assert inst.parent is not None
            parent = m.items[inst.parent]
            raise IllegalTransition(
                f"{m.info(inst).name} ({inst.id})",
                f"{inst.state} in {m.info(parent).name} ({parent.id}), which is {parent.state}",
                transition,
            )
        return self._do(lambda: m.transition(inst, transition))

    def _item_transition(self, instance_id: str, transition: str) -> list[TransitionEvent]:
        inst = self._get(instance_id)
        if inst.id == self._m.root:
            raise IllegalTransition(self._m.info(inst).name, self.state, transition)
        return self._act(inst, transition)

    def complete(self, instance_id: str) -> list[TransitionEvent]:
        """Complete an active task; manually complete an active stage or the case (the ch. 8 stage completion rule)."""
        m = self._m
        inst = self._get(instance_id)
        info = m.info(inst)
        if (
            isinstance(info.definition, Stage)
            and inst.state == "Active"
            and not m.can_complete(inst, manual=True)
        ):
            raise IllegalTransition(
                f"{info.name} ({inst.id})", "Active with active or required unfinished children", "complete"
            )
        return self._act(inst, "complete")

    def manual_start(self, instance_id: str) -> list[TransitionEvent]:
        """Start an enabled task or stage (``manualStart``)."""
        return self._item_transition(instance_id, "manualStart")

    def disable(self, instance_id: str) -> list[TransitionEvent]:
        """Disable an enabled task or stage."""
        return self._item_transition(instance_id, "disable")

    def reenable(self, instance_id: str) -> list[TransitionEvent]:
        """Re-enable a disabled task or stage."""
        return self._item_transition(instance_id, "reenable")

    def terminate(self, instance_id: str | None = None) -> list[TransitionEvent]:
        """Terminate an active task or stage, or (``None`` / the case id) the whole case."""
        return self._act(self._get(instance_id or self._m.root), "terminate")

    def occur(self, instance_id: str, *, roles: Collection[str] | None = None) -> list[TransitionEvent]:
        """Let an available user (or generic) event listener occur; with ``roles`` (who makes it
        occur), refused with ``NotAuthorized`` unless one is among its ``authorizedRoleRefs``."""
        inst = self._get(instance_id)
        info = self._m.info(inst)
        if info.kind not in _OCCURRABLE:
            raise IllegalTransition(f"{info.name} ({inst.id})", f"{inst.state} {info.kind}", "occur")
        roles_check(self._m, inst.element, roles, "making occur")
        return self._act(inst, "occur")

    def suspend(self, instance_id: str | None = None) -> list[TransitionEvent]:
        """Suspend an active task or stage, or the case (children follow with ``parentSuspend``)."""
        return self._act(self._get(instance_id or self._m.root), "suspend")

    def resume(self, instance_id: str | None = None) -> list[TransitionEvent]:
        """Resume a suspended task, stage or case."""
        return self._act(self._get(instance_id or self._m.root), "resume")

    def fault(self, instance_id: str | None = None) -> list[TransitionEvent]:
        """Record that an active task, stage or the case failed."""
        return self._act(self._get(instance_id or self._m.root), "fault")

    def reactivate(self, instance_id: str | None = None) -> list[TransitionEvent]:
        """Reactivate a failed item, or a completed/terminated/failed/suspended case."""
        return self._act(self._get(instance_id or self._m.root), "reactivate")

    def close(self) -> list[TransitionEvent]:
        """Close a completed, terminated, failed or suspended case for good."""
        root = self._m.items[self._m.root]
        return self._do(lambda: self._m.transition(root, "close"))

    def plan(
        self, discretionary_item: str, *, owner: str | None = None, roles: Collection[str] | None = None
    ) -> list[TransitionEvent]:
        """Plan one new instance of a discretionary item (id or name) from an applicable table;
        with ``roles`` (who plans), refused with ``NotAuthorized`` unless the item's and its
        tables' ``authorizedRoleRefs`` allow them."""

        def act() -> None:
            planning.plan(self._m, discretionary_item, owner, roles)

        return self._do(act)

    def set_variables(self, values: Mapping[str, Any]) -> list[TransitionEvent]:
        """Set variables; a name of a case file item creates it the first time, updates it after."""

        def act() -> None:
            self._assign(dict(values), settle=True)

        return self._do(act)

    def delete_case_file_item(self, name: str) -> list[TransitionEvent]:
        """Delete a case file item and its children (``delete``; ``removeChild`` on its parent;
        the variables disappear)."""
        return self._do(lambda: case_file.delete(self._m, name))

    def replace_case_file_item(self, name: str, value: Any) -> list[TransitionEvent]:
        """Replace an available case file item's value as a whole (``replace``, not ``update``)."""
        return self._do(lambda: case_file.replace(self._m, name, value))

    def add_case_file_reference(self, source: str, target: str) -> list[TransitionEvent]:
        """Let case file item ``source`` refer to ``target`` (``addReference`` on ``source``);
        the model must allow it (``targetRefs`` of source or ``sourceRefs`` of target)."""
        return self._do(lambda: case_file.add_reference(self._m, source, target))

    def remove_case_file_reference(self, source: str, target: str) -> list[TransitionEvent]:
        """Remove a reference added before (``removeReference`` on ``source``)."""
        return self._do(lambda: case_file.remove_reference(self._m, source, target))

    def case_file_references(self, source: str) -> list[str]:
        """Names of the case file items ``source`` refers to now."""
        m = self._m
        by_id = m.case.case_file_items_by_id
        refs = m.case_file_refs.get(case_file.item_id(m, source), [])
        return [by_id[t].name or t for t in refs]

    def advance_to(self, now: dt.datetime) -> list[TransitionEvent]:
        """Move the case clock to ``now``; due timers occur in due order, each settled in turn."""
        target = _aware(now)
        m = self._m
        if target < m.now:
            raise ValueError(
                f"the case clock cannot go back from {m.now.isoformat()} to {target.isoformat()}"
            )

        def act() -> None:
            while (timer := m.next_timer(target)) is not None:
                m.fire_timer(timer)
                m.settle()
            m.now = target

        return self._do(act)

    def _assign(self, values: dict[str, Any], *, settle: bool) -> None:
        m = self._m
        case_file.assign(m, values)
        if settle:
            m.settle()
            sentries.on_variables(m, list(values))
