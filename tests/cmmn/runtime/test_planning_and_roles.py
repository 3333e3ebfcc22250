"""CMMN 1.1 ch. 5 PlanningTable / ch. 8 planning (planning tables: applicability rules, authorised roles) and ch. 5 EventListener
(a user event listener's authorised roles): what is refused, which the scenario format cannot say."""

from __future__ import annotations

from pathlib import Path

import pytest

from casepilot.cmmn import CaseInstance
from casepilot.cmmn.parser import parse_file
from casepilot.cmmn.runtime.actions import OccurEvent, PlanDiscretionary
from casepilot.errors import IllegalTransition, NotAuthorized

MODEL = Path(__file__).parents[1] / "scenarios/ch8/models/planning-roles.cmmn"


def _case(**variables: object) -> CaseInstance:
    return CaseInstance.start(parse_file(MODEL).case(), {"amount": 5000, "open": True, **variables})


def _plannable(inst: CaseInstance, roles: frozenset[str] | None = None) -> list[str]:
    return sorted(a.name for a in inst.activatable(roles=roles) if isinstance(a, PlanDiscretionary))


def test_an_item_whose_applicability_rule_is_false_is_neither_offered_nor_planned() -> None:
    inst = _case(amount=10)
    assert _plannable(inst) == ["Escalate", "Second opinion"]
    with pytest.raises(IllegalTransition, match="not applicable"):
        inst.plan("Extra check")
    inst.set_variables({"amount": 2000})
    assert _plannable(inst) == ["Escalate", "Extra check", "Second opinion"]


def test_a_nested_table_rule_guards_every_item_in_it() -> None:
    inst = _case(open=False)
    assert "Escalate" not in _plannable(inst)
    with pytest.raises(IllegalTransition):
        inst.plan("Escalate")


def test_a_human_task_table_is_used_only_while_the_task_is_active() -> None:
    inst = _case()
    inst.complete(inst.find("Review")[0].id)
    assert "Second opinion" not in _plannable(inst)
    with pytest.raises(IllegalTransition):
        inst.plan("Second opinion")


def test_roles_of_the_item_and_of_every_enclosing_table_must_all_be_held() -> None:
    """Escalate: the case table (Clerk or Manager), the nested table (Manager), the item
    (Manager or Auditor) — only a Manager may plan it; an Auditor is refused by the tables."""
    inst = _case()
    assert _plannable(inst, frozenset({"Clerk"})) == ["Extra check"]
    assert _plannable(inst, frozenset({"Auditor"})) == []
    assert _plannable(inst, frozenset({"manager"})) == ["Escalate", "Extra check", "Second opinion"]
    with pytest.raises(NotAuthorized, match="Manager") as refused:
        inst.plan("Escalate", roles={"Auditor"})
    assert "Clerk or Manager" in str(refused.value) and "held: Auditor" in str(refused.value)
    assert inst.find("Escalate") == []
    inst.plan("Escalate", roles={"r_manager"})  # a role id works as well as its name
    assert [v.state for v in inst.find("Escalate")] == ["Active"]


def test_a_table_without_roles_lets_anyone_plan_only_what_its_items_allow() -> None:
    inst = _case()
    with pytest.raises(NotAuthorized, match="Second opinion"):
        inst.plan("Second opinion", roles={"Clerk"})
    inst.plan("Extra check", roles={"Clerk"})
    inst.plan("Extra check", roles=None)  # no roles given: the caller's governance decides
    assert len(inst.find("Extra check")) == 2


def test_a_user_event_listener_occurs_only_for_its_authorised_roles() -> None:
    inst = _case()
    (approve,) = inst.find("Approve")
    occurs = [a.name for a in inst.activatable(roles=frozenset({"Clerk"})) if isinstance(a, OccurEvent)]
    assert occurs == []
    with pytest.raises(NotAuthorized, match="making occur 'Approve' needs the role Manager"):
        inst.occur(approve.id, roles={"Clerk"})
    assert inst.item(approve.id).state == "Available"
    inst.occur(approve.id, roles={"Manager"})
    assert [v.state for v in inst.find("Pay")] == ["Active"]
