"""What people may do in a case besides deciding inbox items: make a user event occur, plan a
discretionary item — each only with a role the CMMN model authorises (``authorizedRoleRefs``).

The agent never does these (user events are people's by definition; discretionary items
with authorised roles are planned by people holding them). A person's action is checked
against the model's roles, reviewed by governance like every action, recorded with the
person as actor, and then the loop works the case on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from casepilot.agent.engine import EngineCase
from casepilot.cmmn.definitions import Case, HumanTask, PlanningTable, Stage, UserEventListener
from casepilot.cmmn.runtime.actions import Action, OccurEvent, PlanDiscretionary

__all__ = ["PersonAction", "authorised", "discretionary_roles", "person_actions", "role_names"]


@dataclass(frozen=True, slots=True)
class PersonAction:
    """One thing a person may do now."""

    id: str
    kind: Literal["occur", "plan"]
    label: str
    roles: tuple[str, ...]
    """Role names (or ids, for unnamed roles) that may do it; empty: anyone."""
    action: Action


def role_names(case: Case, refs: tuple[str, ...]) -> tuple[str, ...]:
    by_id = {r.id: r for r in case.roles}
    return tuple((by_id[r].name or r) if r in by_id else r for r in refs)


def _tables(case: Case) -> Iterator[tuple[PlanningTable, tuple[str, ...]]]:
    """Every planning table with the role refs it inherits from enclosing tables."""

    def nested(table: PlanningTable, inherited: tuple[str, ...]) -> Iterator[tuple[PlanningTable, tuple[str, ...]]]:
        own = table.authorized_role_refs or inherited
        yield table, own
        for entry in table.items:
            if isinstance(entry, PlanningTable):
                yield from nested(entry, own)

    for definition in case.definitions.values():
        if isinstance(definition, (Stage, HumanTask)) and definition.planning_table is not None:
            yield from nested(definition.planning_table, ())


def discretionary_roles(case: Case) -> dict[str, tuple[str, ...]]:
    """Discretionary item id -> the role refs that may plan it (its own, else its nearest table's)."""
    roles: dict[str, tuple[str, ...]] = {}
    for table, inherited in _tables(case):
        for entry in table.items:
            if not isinstance(entry, PlanningTable):
                roles[entry.id] = entry.authorized_role_refs or inherited
    return roles


def person_actions(engine: EngineCase) -> list[PersonAction]:
    """User events that may occur and discretionary items that may be planned, now."""
    case = engine.case
    discretionary = discretionary_roles(case)
    out: list[PersonAction] = []
    for action in engine.activatable():
        if isinstance(action, OccurEvent):
            view = engine.item(action.instance)
            item = case.plan_items.get(view.element_id) if view is not None else None
            definition = case.definitions.get(item.definition_ref) if item is not None else None
            if isinstance(definition, UserEventListener):
                out.append(PersonAction(f"occur:{action.instance}", "occur", action.name,
                                        role_names(case, definition.authorized_role_refs), action))
        elif isinstance(action, PlanDiscretionary):
            out.append(PersonAction(f"plan:{action.item}:{action.owner}", "plan", action.name,
                                    role_names(case, discretionary.get(action.item, ())), action))
    return out


def authorised(action: PersonAction, roles: frozenset[str]) -> bool:
    """Whether someone with ``roles`` may take ``action`` (role names compare case-insensitively)."""
    if not action.roles:
        return True
    held = {r.casefold() for r in roles}
    return any(r.casefold() in held for r in action.roles)
