"""Role authorisation of the things people do in a case (CMMN 1.1 ch. 5 EventListener, ch. 5 PlanningTable, ch. 8 planning).

* A user event listener's ``authorizedRoleRefs`` name the roles that may make it occur.
* A discretionary item's ``authorizedRoleRefs`` name the roles that may plan it, and a
  planning table's name the roles that may plan from it — from it and from the tables nested
  in it. Each one that names roles is a separate condition, like the applicability rules of
  the item and of its tables: a person must hold one role of the item's list *and* one of each
  enclosing table's list. No list anywhere means the model sets no restriction.

The engine checks only when the caller says who acts (``roles=``); without it the caller
(the agent's governance) is responsible, as before. Roles are matched by id or by name,
names without regard to case.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from casepilot.cmmn.definitions import UserEventListener
from casepilot.errors import NotAuthorized

if TYPE_CHECKING:
    from casepilot.cmmn.runtime.machine import CaseMachine

__all__ = ["check", "groups_for", "holds", "role_names"]


def groups_for(m: CaseMachine, element: str) -> tuple[tuple[str, ...], ...]:
    """The role-ref lists a person must each match to act on ``element`` (empty: anyone)."""
    info = m.ix.items.get(element)
    if info is None:
        return ()
    groups: list[tuple[str, ...]] = []
    if isinstance(info.definition, UserEventListener) and info.definition.authorized_role_refs:
        groups.append(info.definition.authorized_role_refs)
    if info.discretionary:
        for table in m.ix.table_chain.get(element, ()):
            if table.authorized_role_refs:
                groups.append(table.authorized_role_refs)
        item = m.case.discretionary_items[element]
        if item.authorized_role_refs:
            groups.append(item.authorized_role_refs)
    return tuple(groups)


def role_names(m: CaseMachine, refs: Collection[str]) -> list[str]:
    """Display names of role refs (the id for an unnamed or unknown role)."""
    by_id = {r.id: r for r in m.case.roles}
    return [(by_id[r].name or r) if r in by_id else r for r in refs]


def _unmet(m: CaseMachine, element: str, roles: Collection[str]) -> list[tuple[str, ...]]:
    held = {r.casefold() for r in roles}
    by_id = {r.id: r for r in m.case.roles}
    return [
        group
        for group in groups_for(m, element)
        if not any(
            ref.casefold() in held or (ref in by_id and (by_id[ref].name or ref).casefold() in held)
            for ref in group
        )
    ]


def holds(m: CaseMachine, element: str, roles: Collection[str]) -> bool:
    """Whether someone holding ``roles`` (ids or names) may act on ``element``."""
    return not _unmet(m, element, roles)


def check(m: CaseMachine, element: str, roles: Collection[str] | None, action: str) -> None:
    """Raise ``NotAuthorized`` naming the missing roles unless ``roles`` may act (``None``: no check)."""
    unmet = [] if roles is None else _unmet(m, element, roles)
    if roles is None or not unmet:
        return
    missing = [" or ".join(role_names(m, g)) for g in unmet]
    name = m.ix.items[element].name
    raise NotAuthorized(
        f"{action} {name!r} needs the role {' and the role '.join(missing)} "
        f"(CMMN authorizedRoleRefs); held: {', '.join(sorted(roles)) or 'none'}"
    )
