"""CMMN 1.1 ch. 8 case instance lifecycle and stage and task lifecycle: suspension reaches every
level below the suspended stage or case (``parentSuspend`` / ``parentResume``), a timer does not
occur while suspended, ``fault`` and ``reactivate`` of a stage, and ``reactivate`` of a case.

Where the specification names no consequence (a stage's ``fault`` has no ``parent…``
transition for its children; a reactivated case is not completed again by itself), the
readings are recorded in tests/cmmn/CONVENTIONS.md and pinned here.
"""

from __future__ import annotations

import datetime as dt

import pytest

from casepilot.cmmn import CaseInstance
from casepilot.errors import IllegalTransition
from tests.cmmn.runtime._models import MANUAL, case_of


def _states(inst: CaseInstance) -> list[tuple[str, str]]:
    return sorted((v.name, v.state) for v in inst.items())


def _one(inst: CaseInstance, name: str) -> str:
    found = inst.find(name)
    assert len(found) == 1, found
    return found[0].id


NESTED = (
    '<planItem id="po" definitionRef="outer"/>'
    '<stage id="outer" name="Outer"><planItem id="pi" definitionRef="inner"/>'
    '<stage id="inner" name="Inner">'
    '<planItem id="pw" definitionRef="w"/><humanTask id="w" name="Work"/>'
    f'<planItem id="pm" definitionRef="m">{MANUAL}</planItem><humanTask id="m" name="Maybe"/>'
    '<planItem id="pt" definitionRef="tm"/>'
    '<timerEventListener id="tm" name="Hour"><timerExpression>PT1H</timerExpression></timerEventListener>'
    "</stage></stage>"
)


def test_suspending_the_case_reaches_grandchildren_and_holds_their_timers() -> None:
    inst = CaseInstance.start(case_of(NESTED))
    events = inst.suspend()
    assert inst.state == "Suspended"
    assert {(e.name, e.transition) for e in events if e.subject == "planItem"} == {
        ("Outer", "parentSuspend"),
        ("Inner", "parentSuspend"),
        ("Work", "parentSuspend"),
        ("Maybe", "parentSuspend"),
        ("Hour", "parentSuspend"),
    }
    inst.advance_to(inst.now + dt.timedelta(hours=2))
    assert inst.state_of("Hour") == "Suspended"  # no occurrence while suspended
    with pytest.raises(IllegalTransition):
        inst.manual_start(_one(inst, "Maybe"))
    inst.resume()
    assert _states(inst) == [
        ("Hour", "Available"),
        ("Inner", "Active"),
        ("Maybe", "Enabled"),
        ("Outer", "Active"),
        ("Work", "Active"),
    ]
    # its due time passed while suspended: it occurs at the next clock step
    inst.advance_to(inst.now)
    assert inst.state_of("Hour") == "Completed"


def test_a_suspended_inner_stage_is_resumed_by_its_own_resume_only() -> None:
    """A stage suspended by the caller (``suspend``) is not ``parentResume``d when its parent
    resumes: it was not suspended by the parent."""
    inst = CaseInstance.start(case_of(NESTED))
    inst.suspend(_one(inst, "Inner"))
    inst.suspend(_one(inst, "Outer"))
    inst.resume(_one(inst, "Outer"))
    assert inst.state_of("Outer") == "Active" and inst.state_of("Inner") == "Suspended"
    assert inst.state_of("Work") == "Suspended"
    inst.resume(_one(inst, "Inner"))
    assert inst.state_of("Work") == "Active" and inst.state_of("Maybe") == "Enabled"


def test_a_failed_stage_keeps_its_children_and_reactivate_continues_them() -> None:
    body = (
        '<planItem id="ps" definitionRef="S"/><planItem id="pb" definitionRef="b"/><humanTask id="b" name="B"/>'
        '<stage id="S" name="S"><planItem id="pa" definitionRef="a"/><humanTask id="a" name="A"/></stage>'
    )
    inst = CaseInstance.start(case_of(body))
    events = inst.fault(_one(inst, "S"))
    assert [(e.name, e.transition) for e in events if e.subject == "planItem"] == [("S", "fault")]
    assert inst.state_of("S") == "Failed" and inst.state_of("A") == "Active"
    with pytest.raises(IllegalTransition):  # the children wait for their stage
        inst.complete(_one(inst, "A"))
    inst.reactivate(_one(inst, "S"))
    inst.complete(_one(inst, "A"))
    assert inst.state_of("S") == "Completed"
    inst.complete(_one(inst, "B"))
    assert inst.state == "Completed"


def test_a_reactivated_case_stays_active_for_new_work() -> None:
    """``reactivate`` takes a terminated case back to Active; its ended children stay ended and
    the case is not completed again by itself, so work can be planned into it."""
    body = (
        '<planItem id="pa" definitionRef="a"/><humanTask id="a" name="A"/>'
        '<planningTable id="t"><discretionaryItem id="dx" definitionRef="x"/></planningTable>'
        '<humanTask id="x" name="Extra"/>'
    )
    inst = CaseInstance.start(case_of(body))
    inst.terminate()
    assert inst.state == "Terminated" and inst.state_of("A") == "Terminated"
    inst.reactivate()
    assert inst.state == "Active" and inst.state_of("A") == "Terminated"
    inst.plan("Extra")
    assert inst.state_of("Extra") == "Active"
    inst.complete(_one(inst, "Extra"))
    assert inst.state == "Completed"
