"""Indexed sentry evaluation (CMMN 1.1 ch. 5 Sentry, ch. 8 sentry semantics).

A sentry is satisfied for a target instance when all its on-parts have occurred (remembered
per sentry per target instance, forgotten when the sentry fires) and its if-part holds.
Entry criteria are OR-ed: any satisfied one enters the item.

Cost is kept independent of the number of plan items:

* an event looks up only the sentries listening to ``(source element, transition)``
  (``CaseIndex.on_parts``), then only the live instances of the targets in the stage instances
  that can see the source (the source's own ancestors, or stages below it);
* a target whose on-parts have all occurred but whose if-part was false — and every target of
  an if-part-only sentry — is *armed*; a variable change re-evaluates only armed targets of
  sentries whose if-part reads that variable (``CaseIndex.by_variable``, from ``free_names``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from casepilot.cmmn.definitions import PlanItemOnPart
from casepilot.cmmn.runtime.conditions import evaluate, truthy
from casepilot.cmmn.runtime.events import TransitionEvent
from casepilot.cmmn.runtime.lifecycle import is_done
from casepilot.cmmn.runtime.model import SentryTarget
from casepilot.cmmn.runtime.state import ItemInstance

if TYPE_CHECKING:
    from casepilot.cmmn.runtime.machine import CaseMachine

__all__ = ["dispatch", "initial_entry", "initial_exit", "on_variables", "rebuild_armed"]

_EXITABLE_WORK = frozenset({"Available", "Enabled", "Disabled", "Active", "Suspended", "Failed"})
_EXITABLE_EVENT = frozenset({"Available", "Suspended"})


def eligible(m: CaseMachine, inst: ItemInstance, kind: str) -> bool:
    """Whether a criterion of ``kind`` (entry/exit) can still act on ``inst``."""
    if inst.id == m.root:
        return kind == "exit" and inst.state == "Active"
    if inst.parent is not None and is_done(m.items[inst.parent].state):
        return False  # the stage is over: what its completion left (Disabled, Failed) stays
    if kind == "entry":
        return inst.state == "Available"
    return inst.state in (_EXITABLE_EVENT if m.info(inst).lifecycle == "event" else _EXITABLE_WORK)


def if_holds(m: CaseMachine, sentry_id: str) -> bool:
    """Whether the sentry's if-part holds with the current variables (absent = true)."""
    cond = m.ix.if_conditions[sentry_id]
    if cond is None:
        return True
    return truthy(evaluate(cond, m.ix.context_variables(m.ix.if_context[sentry_id], m.variables), m.view))


def fire(m: CaseMachine, inst: ItemInstance, target: SentryTarget) -> None:
    """The criterion is satisfied: forget the sentry's memory and enter or exit the target."""
    if inst.memory.pop(target.sentry, None) is not None:
        m.touched.add(inst.id)
    armed = m.armed.get(target.sentry)
    if armed is not None:
        armed.pop((inst.id, target.kind, target.criterion), None)
    cause = f"sentry:{target.sentry}"
    if target.kind == "entry":
        m.enter(inst, cause=cause, criterion=target.criterion)
    elif inst.id == m.root:
        m.transition(inst, "terminate", cause=cause, criterion=target.criterion)
    else:
        m.transition(inst, "exit", cause=cause, criterion=target.criterion)


def _arm(m: CaseMachine, inst: ItemInstance, target: SentryTarget) -> None:
    m.armed.setdefault(target.sentry, {})[(inst.id, target.kind, target.criterion)] = None


def _below(m: CaseMachine, stage_id: str, ancestor: str) -> bool:
    up = m.items[stage_id].parent
    while up is not None and up != ancestor:
        up = m.items[up].parent
    return up == ancestor


def _scope_instances(m: CaseMachine, source: ItemInstance | None, scope_def: str) -> Sequence[str]:
    """Instances of stage definition ``scope_def`` that can see an event of ``source``.

    The nearest relatives win: walking up from the source's stage, the first ancestor that runs
    ``scope_def`` — or else the instances of ``scope_def`` below the first ancestor that has
    any — so an event inside one instance of a reused or repeated stage reaches only the
    sentries of that instance, while sibling and cousin stages still see each other's events.
    A case file event (no source) reaches every instance.
    """
    if source is None:
        return m.stages_by_def.get(scope_def, ())
    cursor: str | None = source.parent if source.parent is not None else source.id
    while cursor is not None:
        inst = m.items[cursor]
        if m.stage_definition(inst) == scope_def:
            return (cursor,)
        below = [
            sid
            for sid in m.stages_by_def.get(scope_def, ())
            if m.items[sid].state not in ("Completed", "Terminated") and _below(m, sid, cursor)
        ]
        if below:
            return below
        cursor = inst.parent
    return ()


def _targets_in(m: CaseMachine, stage_id: str, element: str) -> Iterable[str]:
    if element == m.ix.root_id:
        return (m.root,) if stage_id == m.root else ()
    return tuple(m.live.get((stage_id, element), ()))


def dispatch(m: CaseMachine, event: TransitionEvent) -> None:
    """Deliver one event to the on-parts listening to it and to timers it starts."""
    key = (event.element, event.transition)
    parts = m.ix.on_parts.get(key)
    triggers = m.ix.timer_triggers.get(key)
    if not parts and not triggers:
        return
    source = m.items.get(event.instance) if event.subject != "caseFileItem" else None
    for sentry_id, index in parts or ():
        part = m.case.sentries[sentry_id].on_parts[index]
        is_cfi = event.subject == "caseFileItem"
        if is_cfi != (not isinstance(part, PlanItemOnPart)):
            continue
        if (
            isinstance(part, PlanItemOnPart)
            and part.exit_criterion_ref
            and part.exit_criterion_ref != event.criterion
        ):
            continue
        for target in m.ix.targets.get(sentry_id, ()):
            for stage_id in _scope_instances(m, source, target.scope):
                for tid in _targets_in(m, stage_id, target.item):
                    inst = m.items[tid]
                    if inst.born >= event.seq or not eligible(m, inst, target.kind):
                        continue
                    memory = inst.memory.setdefault(sentry_id, [])
                    if index not in memory:
                        memory.append(index)
                        memory.sort()
                        m.touched.add(inst.id)
                    if len(memory) < m.ix.sentry_parts[sentry_id]:
                        continue
                    if if_holds(m, sentry_id):
                        fire(m, inst, target)
                    else:
                        _arm(m, inst, target)
    for timer_item in triggers or ():
        for stage_id in _scope_instances(m, source, m.ix.scope_of(timer_item)):
            for tid in _targets_in(m, stage_id, timer_item):
                inst = m.items[tid]
                if inst.state == "Available" and inst.due is None and inst.born < event.seq:
                    m.start_timer(inst)


def _if_only(m: CaseMachine, inst: ItemInstance, kind: str) -> list[SentryTarget]:
    return [
        t
        for t in m.ix.item_targets.get(inst.element, ())
        if t.kind == kind and m.ix.sentry_parts[t.sentry] == 0
    ]


def initial_exit(m: CaseMachine, inst: ItemInstance, *, evaluate: bool) -> bool:
    """Arm (and with ``evaluate`` test) a new instance's if-part-only exit sentries; True if it exited."""
    for target in _if_only(m, inst, "exit"):
        if evaluate and if_holds(m, target.sentry):
            fire(m, inst, target)
            return True
        _arm(m, inst, target)
    return False


def initial_entry(m: CaseMachine, inst: ItemInstance, *, evaluate: bool) -> None:
    """Arm (and with ``evaluate`` test) a new instance's if-part-only entry sentries."""
    for target in _if_only(m, inst, "entry"):
        if inst.state != "Available":
            return
        if evaluate and if_holds(m, target.sentry):
            fire(m, inst, target)
        else:
            _arm(m, inst, target)


def on_variables(m: CaseMachine, names: Iterable[str]) -> None:
    """Re-evaluate armed targets of the sentries whose if-part reads one of ``names``."""
    seen: dict[str, None] = {}
    for name in names:
        for sentry_id in m.ix.by_variable.get(name, ()):
            seen[sentry_id] = None
    targets = {(t.item, t.kind, t.criterion): t for s in seen for t in m.ix.targets.get(s, ())}
    for sentry_id in seen:
        armed = m.armed.get(sentry_id)
        if not armed:
            continue
        for key in sorted(armed, key=lambda k: (m.order[k[0]], k[1], k[2])):
            tid, kind, criterion = key
            inst = m.items[tid]
            if not eligible(m, inst, kind):
                armed.pop(key, None)
                continue
            target = targets.get((inst.element, kind, criterion))
            if target is not None and target.sentry == sentry_id and if_holds(m, sentry_id):
                fire(m, inst, target)


def rebuild_armed(m: CaseMachine) -> None:
    """Recompute the armed set from instance data after loading (it is derived state)."""
    for inst in m.items.values():
        for target in m.ix.item_targets.get(inst.element, ()):
            if not eligible(m, inst, target.kind):
                continue
            parts = m.ix.sentry_parts[target.sentry]
            if parts == 0 or len(inst.memory.get(target.sentry, ())) >= parts:
                _arm(m, inst, target)
