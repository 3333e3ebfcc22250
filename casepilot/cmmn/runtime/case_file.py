"""The case file item lifecycle (CMMN 1.1 ch. 8 case file item lifecycle) and the events its transitions make.

A case file item instance is ``Available`` from its ``create`` until its ``delete`` (then
``Discarded``). Its transitions are the standard events case file item on-parts listen to:

* ``create`` — the first value of the item (``set``); on a nested item its parent, if it
  exists, also makes ``addChild``;
* ``update`` — a later ``set`` of the item's value; ``replace`` — the value replaced as a
  whole (:func:`replace`);
* ``delete`` — the item goes: its children first (parent/child is a composition, ch. 5 CaseFileItem children;
  each child's delete makes ``removeChild`` on the still available parent), then the item;
  a nested item deleted alone makes ``removeChild`` on its parent;
* ``addReference`` / ``removeReference`` — a reference from the item to another one its
  definition allows (``targetRefs``, or the other's ``sourceRefs``) is added or removed;
  the event is the source item's.

Every change of a value ends with a re-evaluation of the if-parts that read it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from casepilot.cmmn.definitions import CaseFileItem
from casepilot.cmmn.runtime import sentries
from casepilot.errors import IllegalTransition, UnknownPlanItem

if TYPE_CHECKING:
    from casepilot.cmmn.runtime.machine import CaseMachine

__all__ = ["Pending", "add_reference", "assign", "delete", "emit_pending", "remove_reference", "replace"]

AVAILABLE = "Available"
DISCARDED = "Discarded"

Pending = tuple[str, str, str, str | None]
"""A case file event not yet emitted: (case file item id, name, transition, old state)."""


def item_id(m: CaseMachine, ref: str) -> str:
    """The id of the case file item named (or with id) ``ref``."""
    cfi_id = m.ix.cfi_by_name.get(ref)
    if cfi_id is None and ref in m.case.case_file_items_by_id:
        cfi_id = ref
    if cfi_id is None:
        raise UnknownPlanItem(f"no case file item {ref!r} in case {m.case.id!r}")
    return cfi_id


def _name(m: CaseMachine, cfi_id: str) -> str:
    cfi = m.case.case_file_items_by_id[cfi_id]
    return cfi.name or cfi.id


def _emit(m: CaseMachine, cfi_id: str, transition: str, old: str | None, new: str) -> None:
    m.emit("caseFileItem", cfi_id, cfi_id, _name(m, cfi_id), transition, old, new, "user")


def emit_pending(m: CaseMachine, pending: list[Pending]) -> None:
    """Emit events :func:`assign` held back (a case's start emits them once its items exist)."""
    for cfi_id, _, transition, old in pending:
        _emit(m, cfi_id, transition, old, AVAILABLE)


def _require(m: CaseMachine, cfi_id: str, transition: str) -> None:
    state = m.case_file.get(cfi_id)
    if state != AVAILABLE:
        raise IllegalTransition(_name(m, cfi_id), state or "not created", transition)


def assign(m: CaseMachine, values: dict[str, Any], *, emit: bool = True) -> list[Pending]:
    """Set variables; a case file item's name (or id) creates it the first time, updates it after.

    With ``emit`` false the case file events are returned instead of emitted.
    """
    pending: list[Pending] = []
    for name, value in values.items():
        cfi_id = m.ix.cfi_by_name.get(name)
        if cfi_id is None and name in m.case.case_file_items_by_id:
            cfi_id = name
            name = _name(m, cfi_id)
        m.variables[name] = value
        if cfi_id is None:
            continue
        old = m.case_file.get(cfi_id)
        created = old != AVAILABLE
        m.case_file[cfi_id] = AVAILABLE
        pending.append((cfi_id, name, "create" if created else "update", old))
        parent = m.ix.cfi_parent.get(cfi_id)
        if created and parent is not None and m.case_file.get(parent) == AVAILABLE:
            pending.append((parent, _name(m, parent), "addChild", AVAILABLE))
    if emit:
        emit_pending(m, pending)
        pending = []
    return pending


def replace(m: CaseMachine, ref: str, value: Any) -> None:
    """``replace``: an available item's value is replaced as a whole."""
    cfi_id = item_id(m, ref)
    _require(m, cfi_id, "replace")
    m.variables[_name(m, cfi_id)] = value
    _emit(m, cfi_id, "replace", AVAILABLE, AVAILABLE)
    m.settle()
    sentries.on_variables(m, [_name(m, cfi_id)])


def delete(m: CaseMachine, ref: str) -> None:
    """``delete``: the item (and, first, its available children) becomes Discarded."""
    cfi_id = item_id(m, ref)
    _require(m, cfi_id, "delete")
    gone: list[str] = []
    _delete(m, cfi_id, gone)
    m.settle()
    sentries.on_variables(m, gone)


def _delete(m: CaseMachine, cfi_id: str, gone: list[str]) -> None:
    for child in m.ix.cfi_children.get(cfi_id, ()):
        if m.case_file.get(child) == AVAILABLE:
            _delete(m, child, gone)
    name = _name(m, cfi_id)
    m.case_file[cfi_id] = DISCARDED
    m.variables.pop(name, None)
    gone.append(name)
    _emit(m, cfi_id, "delete", AVAILABLE, DISCARDED)
    for ref in list(m.case_file_refs.get(cfi_id, ())):
        _unlink(m, cfi_id, ref)  # silent: the source is no longer available
    for source, targets in list(m.case_file_refs.items()):
        if cfi_id in targets:
            _unlink(m, source, cfi_id)
    parent = m.ix.cfi_parent.get(cfi_id)
    if parent is not None and m.case_file.get(parent) == AVAILABLE:
        _emit(m, parent, "removeChild", AVAILABLE, AVAILABLE)


def _allowed(source: CaseFileItem, target: CaseFileItem) -> bool:
    return target.id in source.target_refs or source.id in target.source_refs


def add_reference(m: CaseMachine, source_ref: str, target_ref: str) -> None:
    """``addReference`` on the source: it now refers to the target (both available)."""
    source, target = item_id(m, source_ref), item_id(m, target_ref)
    _require(m, source, "addReference")
    _require(m, target, "addReference")
    by_id = m.case.case_file_items_by_id
    if not _allowed(by_id[source], by_id[target]):
        raise IllegalTransition(
            _name(m, source),
            f"without a reference to {_name(m, target)!r} in the model (targetRefs / sourceRefs)",
            "addReference",
        )
    refs = m.case_file_refs.setdefault(source, [])
    if target in refs:
        raise IllegalTransition(
            _name(m, source), f"already referring to {_name(m, target)!r}", "addReference"
        )
    refs.append(target)
    _emit(m, source, "addReference", AVAILABLE, AVAILABLE)
    m.settle()


def remove_reference(m: CaseMachine, source_ref: str, target_ref: str) -> None:
    """``removeReference`` on the source: it no longer refers to the target."""
    source, target = item_id(m, source_ref), item_id(m, target_ref)
    _require(m, source, "removeReference")
    if target not in m.case_file_refs.get(source, ()):
        raise IllegalTransition(_name(m, source), f"not referring to {_name(m, target)!r}", "removeReference")
    _unlink(m, source, target)
    m.settle()


def _unlink(m: CaseMachine, source: str, target: str) -> None:
    refs = m.case_file_refs[source]
    refs.remove(target)
    if not refs:
        del m.case_file_refs[source]
    if m.case_file.get(source) == AVAILABLE:
        _emit(m, source, "removeReference", AVAILABLE, AVAILABLE)
