"""Planning discretionary items (CMMN 1.1 ch. 5 PlanningTable, ch. 8 planning).

A discretionary item can be planned from the planning table of an *active* stage (including
the case plan model) or of an *active* human task; an item planned from a task's table joins
the stage that contains the task. It is offered only when every applicability rule it
references — and every rule referenced by the (nested) tables around it — holds now.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from casepilot.cmmn.definitions import Stage
from casepilot.cmmn.runtime import roles as authorisation
from casepilot.cmmn.runtime.actions import PlanDiscretionary
from casepilot.cmmn.runtime.state import ItemInstance
from casepilot.errors import CasepilotError, IllegalTransition, UnknownPlanItem

if TYPE_CHECKING:
    from casepilot.cmmn.runtime.machine import CaseMachine

__all__ = ["applicable", "plan", "plan_options"]


def applicable(m: CaseMachine, item_id: str) -> bool:
    """Whether the applicability rules of a discretionary item (and of its tables) hold now."""
    item = m.case.discretionary_items[item_id]
    refs = list(item.applicability_rule_refs)
    for table in m.ix.table_chain.get(item_id, ()):
        refs.extend(getattr(table, "applicability_rule_refs", ()))
    for ref in refs:
        rule = m.ix.rules.get(ref)
        if rule is not None and not m.ix.conditions.rule_holds(
            rule, m.ix.context_variables(rule.context_ref, m.variables), absent=True, view=m.view
        ):
            return False
    return True


def _owners(m: CaseMachine) -> list[ItemInstance]:
    owners: list[ItemInstance] = []
    root = m.items[m.root]
    if root.state == "Active" and m.info(root).table is not None:
        owners.append(root)
    for iid in sorted(m.by_state.get("Active", {}), key=m.order.__getitem__):  # creation order
        inst = m.items[iid]
        if m.info(inst).table is not None:
            owners.append(inst)
    return owners


def plan_options(m: CaseMachine, roles: Collection[str] | None = None,
                 unavailable: list[tuple[PlanDiscretionary, CasepilotError]] | None = None) -> list[PlanDiscretionary]:
    """Every discretionary item that can be planned now, with the owner and target stage
    (with ``roles``: only those someone holding them is authorised to plan).

    An applicability rule the host's view cannot show the values of (``conditions``: the view
    raises) fails the listing — unless ``unavailable`` is given: then that item is left out
    (never offered on a guess) and listed there with the error, and the others are offered —
    what a read-only listing needs, which must neither fail nor decide for the host."""
    options: list[PlanDiscretionary] = []
    for owner in _owners(m):
        info = m.info(owner)
        assert info.table is not None
        stage = owner.id if isinstance(info.definition, Stage) else owner.parent
        if stage is None or m.items[stage].state != "Active":
            continue
        for item in info.table.discretionary_items():
            if roles is not None and not authorisation.holds(m, item.id, roles):
                continue
            try:
                holds = applicable(m, item.id)
            except CasepilotError as exc:
                if unavailable is None:
                    raise
                unavailable.append((PlanDiscretionary(item.id, m.ix.items[item.id].name, owner.id, stage), exc))
                continue
            if holds:
                options.append(PlanDiscretionary(item.id, m.ix.items[item.id].name, owner.id, stage))
    return options


def plan(
    m: CaseMachine, item_id: str, owner: str | None = None, roles: Collection[str] | None = None
) -> ItemInstance:
    """Add one new instance of discretionary item ``item_id`` (by id or name) to its stage
    (with ``roles``: refused with ``NotAuthorized`` unless they may plan it)."""
    matches = [o for o in plan_options(m) if item_id in (o.item, o.name) and owner in (None, o.owner)]
    if not matches:
        known = item_id in m.case.discretionary_items or any(
            m.ix.items[d].name == item_id for d in m.case.discretionary_items
        )
        if not known:
            raise UnknownPlanItem(f"no discretionary item {item_id!r} in case {m.case.id!r}")
        raise IllegalTransition(item_id, "not plannable (no active owner, or not applicable)", "plan")
    choice = matches[0]
    authorisation.check(m, choice.item, roles, "planning")
    inst = m.create(choice.item, m.items[choice.stage], cause="planned")
    m.initial(inst)
    return inst
