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

from casepilot.agent._case_reveal import Unavailable
from casepilot.agent.engine import EngineCase
from casepilot.cmmn.definitions import Case, HumanTask, PlanningTable, Stage, UserEventListener
from casepilot.cmmn.runtime.actions import Action, OccurEvent, PlanDiscretionary

__all__ = ["PersonAction", "authorised", "discretionary_role_groups", "discretionary_roles", "person_actions",
           "role_names"]


@dataclass(frozen=True, slots=True)
class PersonAction:
    """One thing a person may do now."""

    id: str
    kind: Literal["occur", "plan"]
    label: str
    roles: tuple[str, ...]
    """Every role name (or id, for unnamed roles) the model names for it; empty: anyone."""
    action: Action
    role_groups: tuple[tuple[str, ...], ...] = ()
    """The lists a person must each match (one role of every list): a discretionary item's own
    ``authorizedRoleRefs`` and each enclosing planning table's that names roles — the engine's
    rule (``casepilot.cmmn.runtime.roles``)."""

    @property
    def roles_wanted(self) -> str:
        """The roles in words: ``claims handler or team lead, and auditor``."""
        return ", and ".join(" or ".join(group) for group in self.role_groups) or "anyone"


def role_names(case: Case, refs: tuple[str, ...]) -> tuple[str, ...]:
    by_id = {r.id: r for r in case.roles}
    return tuple((by_id[r].name or r) if r in by_id else r for r in refs)


def _tables(case: Case) -> Iterator[tuple[PlanningTable, tuple[tuple[str, ...], ...]]]:
    """Every planning table with the role lists of its enclosing tables and its own (those naming roles)."""

    def nested(table: PlanningTable, outer: tuple[tuple[str, ...], ...]
               ) -> Iterator[tuple[PlanningTable, tuple[tuple[str, ...], ...]]]:
        lists = (*outer, table.authorized_role_refs) if table.authorized_role_refs else outer
        yield table, lists
        for entry in table.items:
            if isinstance(entry, PlanningTable):
                yield from nested(entry, lists)

    for definition in case.definitions.values():
        if isinstance(definition, (Stage, HumanTask)) and definition.planning_table is not None:
            yield from nested(definition.planning_table, ())


def discretionary_role_groups(case: Case) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Discretionary item id -> the role-ref lists a person must each match to plan it (empty: anyone)."""
    groups: dict[str, tuple[tuple[str, ...], ...]] = {}
    for table, lists in _tables(case):
        for entry in table.items:
            if not isinstance(entry, PlanningTable):
                groups[entry.id] = (*lists, entry.authorized_role_refs) if entry.authorized_role_refs else lists
    return groups


def discretionary_roles(case: Case) -> dict[str, tuple[str, ...]]:
    """Discretionary item id -> every role ref its lists name (empty: anyone may plan it)."""
    return {item: tuple(r for group in groups for r in group)
            for item, groups in discretionary_role_groups(case).items()}


def person_actions(engine: EngineCase, unavailable: list[Unavailable] | None = None) -> list[PersonAction]:
    """User events that may occur and discretionary items that may be planned, now.

    With ``unavailable`` (a read-only listing): a discretionary item whose applicability rule
    reads erased personal data is not listed but put there, with the reason; without, such a
    rule raises ``PersonalDataErased`` (``_case_reveal``)."""
    case = engine.case
    discretionary = discretionary_role_groups(case)
    out: list[PersonAction] = []
    for action in engine.possible(unavailable):
        if isinstance(action, OccurEvent):
            view = engine.item(action.instance)
            item = case.plan_items.get(view.element_id) if view is not None else None
            definition = case.definitions.get(item.definition_ref) if item is not None else None
            if isinstance(definition, UserEventListener):
                refs = definition.authorized_role_refs
                groups: tuple[tuple[str, ...], ...] = (role_names(case, refs),) if refs else ()
                out.append(PersonAction(f"occur:{action.instance}", "occur", action.name,
                                        role_names(case, refs), action, groups))
        elif isinstance(action, PlanDiscretionary):
            groups = tuple(role_names(case, g) for g in discretionary.get(action.item, ()))
            out.append(PersonAction(f"plan:{action.item}:{action.owner}", "plan", action.name,
                                    tuple(dict.fromkeys(r for g in groups for r in g)), action, groups))
    return out


def listed_actions(engine: EngineCase | None) -> tuple[list[PersonAction], list[Unavailable]]:
    """People's actions for a read-only listing (a page, ``GET /cases/{id}/actions``, ``casepilot
    actions``): what they may do now, and the discretionary items not offered because their
    applicability rule reads erased personal data, with the reason. Never raises for that, and
    records nothing (``_case_reveal``)."""
    if engine is None:
        return [], []
    unavailable: list[Unavailable] = []
    return person_actions(engine, unavailable), unavailable


def unavailable_roles(engine: EngineCase, item: Unavailable) -> tuple[str, ...]:
    """The role names the model authorises to plan an item a listing could not offer."""
    groups = discretionary_role_groups(engine.case).get(item.item, ())
    return tuple(dict.fromkeys(r for g in groups for r in role_names(engine.case, g)))


def authorised(action: PersonAction, roles: frozenset[str]) -> bool:
    """Whether someone with ``roles`` may take ``action``: one role of each of its lists (names
    compare case-insensitively) — the CMMN engine's rule, so the agent and the engine agree."""
    held = {r.casefold() for r in roles}
    return all(any(r.casefold() in held for r in group) for group in action.role_groups)
