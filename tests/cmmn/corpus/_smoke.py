"""Drive a case by always taking the next possible step, checking invariants after each.

Used by the corpus smoke test: every parsed model is started and driven for a bounded number
of steps (occur listeners, start enabled items, complete active tasks, plan discretionary
items, complete stages manually, let time pass for timers), and after every step the state
must be one the CMMN 1.1 lifecycle allows and the JSON snapshot must round-trip exactly.
"""

from __future__ import annotations

import datetime as dt

from casepilot.cmmn.definitions import Case
from casepilot.cmmn.runtime import CaseInstance
from casepilot.cmmn.runtime.actions import (
    Action,
    CompleteItem,
    OccurEvent,
    PlanDiscretionary,
    ReenableItem,
    StartItem,
)

STATES = frozenset({"Available", "Enabled", "Disabled", "Active", "Suspended", "Completed", "Terminated", "Failed"})
CASE_STATES = frozenset({"Active", "Suspended", "Completed", "Terminated", "Failed", "Closed"})
_PREFERRED = (OccurEvent, StartItem, ReenableItem, CompleteItem, PlanDiscretionary)


def check(inst: CaseInstance, case: Case) -> None:
    """Invariants that hold after every operation, whatever the model."""
    assert inst.state in CASE_STATES, inst.state
    views = {v.id: v for v in inst.items()}
    for v in views.values():
        assert v.state in STATES, (v.name, v.state)
        parent_state = inst.state if v.parent == inst.id else views[v.parent].state if v.parent else None
        if parent_state in ("Terminated",):
            # an ended parent leaves no child waiting or running
            assert v.state in ("Completed", "Terminated", "Failed", "Disabled"), (v.name, v.state)
        if v.state == "Active":
            assert parent_state in ("Active",), (v.name, "active under", parent_state)
    text = inst.to_json()
    again = CaseInstance.from_json(case, text)
    assert again.to_json() == text


def _pick(actions: list[Action], turn: int, case_id: str) -> Action | None:
    for kind in _PREFERRED:
        options = [a for a in actions if isinstance(a, kind)]
        if kind is CompleteItem:
            # the case itself last: items first, so that sentries get their chance
            items = [a for a in options if a.instance != case_id]
            options = items or options
        if options:
            return options[turn % len(options)]
    return None


def drive(case: Case, *, steps: int = 40) -> tuple[CaseInstance, int]:
    """Start ``case`` and take up to ``steps`` steps; returns the instance and steps taken."""
    inst = CaseInstance.start(case, {})
    check(inst, case)
    taken = 0
    for turn in range(steps):
        action = _pick(inst.activatable(), turn, inst.id)
        if action is None:
            due = [v for v in inst.items() if v.due is not None and v.state == "Available"]
            if not due:
                break
            inst.advance_to(max(inst.now, min(dt.datetime.fromisoformat(v.due) for v in due if v.due)))
        else:
            inst.apply(action)
        taken += 1
        check(inst, case)
        inst = CaseInstance.from_json(case, inst.to_json())
    return inst, taken
