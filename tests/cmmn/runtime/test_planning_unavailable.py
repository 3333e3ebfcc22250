"""``activatable(unavailable=...)``: a discretionary item whose applicability rule the host's view
cannot show the values of is left out of a listing — never offered on a guess — and listed apart
with the error, while every other action is listed; without ``unavailable`` the listing fails, as
an operation that evaluates the rule must (the host decides what that means)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from casepilot.cmmn.runtime import CaseInstance
from casepilot.cmmn.runtime.actions import OccurEvent, PlanDiscretionary
from casepilot.errors import CasepilotError, PersonalDataErased
from tests.cmmn.runtime._models import case_of

MODEL = (
    '<planItem id="p_hold" definitionRef="uel"/>'
    '<planningTable id="pt">'
    '  <discretionaryItem id="d_listed" definitionRef="t_a" applicabilityRuleRefs="r_payee"/>'
    '  <discretionaryItem id="d_free" definitionRef="t_b"/>'
    '  <applicabilityRule id="r_payee"><condition>payee = "John Smith"</condition></applicabilityRule>'
    '</planningTable>'
    '<userEventListener id="uel" name="Put on hold"/>'
    '<task id="t_a" name="Escalate"/><task id="t_b" name="Call back"/>'
)


def _refusing(variables: Mapping[str, Any], read: frozenset[str]) -> Mapping[str, Any]:
    if "payee" in read:
        raise PersonalDataErased("the payee cannot be revealed")
    return variables


def _instance() -> CaseInstance:
    return CaseInstance.start(case_of(MODEL), {"payee": "<PERSON_1>"}, view=_refusing)


def test_an_operation_that_lists_the_items_fails() -> None:
    with pytest.raises(PersonalDataErased):
        _instance().activatable()


def test_a_listing_leaves_the_item_out_and_says_why() -> None:
    unavailable: list[tuple[PlanDiscretionary, CasepilotError]] = []
    actions = _instance().activatable(unavailable=unavailable)
    assert [a.name for a in actions if isinstance(a, PlanDiscretionary)] == ["Call back"]
    assert [a.name for a in actions if isinstance(a, OccurEvent)] == ["Put on hold"]
    [(item, error)] = unavailable
    assert (item.item, item.name, item.owner) == ("d_listed", "Escalate", "case")
    assert isinstance(error, PersonalDataErased)

