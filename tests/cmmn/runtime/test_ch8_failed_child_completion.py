"""CMMN 1.1 ch. 8: a Failed child does not hold its stage (or the case plan model) open; an Active one does.

What the specification (OMG CMMN 1.1, formal/16-12-01) says, cited by chapter and subject as
tests/cmmn/CONVENTIONS.md asks:

* **ch. 8 stage and task lifecycle.** ``fault`` takes an Active task or stage to Failed;
  ``reactivate`` takes it back to Active; ``exit`` (the parent terminated or exited) takes it to
  Terminated. Failed is therefore *semi-terminal* (like Disabled), not terminal (Completed,
  Terminated): it can still be left while its parent runs.
* **ch. 8 stage completion rule** (the stage completion table, autoComplete true and false):
  with ``autoComplete`` true a stage completes when no child is Active and every *required*
  child is Completed, Terminated, Failed or Disabled; with ``autoComplete`` false when no child
  is Active and *all* children are Completed, Terminated, Failed or Disabled — or manually, with
  no child Active and every required child Completed, Terminated, Failed or Disabled.
* **ch. 5 CasePlanModel / ch. 8 case instance lifecycle.** The case plan model is a stage; the
  case completes by the same rule.
* Nothing in ch. 8 moves a stage on a child's ``fault``: a stage's own ``fault`` is a transition
  of the stage (its own work failed), and there is no ``parentFault``-like transition the other way.

So a Failed child, required or not, blocks neither automatic nor manual completion, and the
completed stage leaves it Failed (CONVENTIONS.md, "What a parent's ending does to its
children"). A model that must not complete over a failure says so with what ch. 5 gives it: a
*required* item reached only on the task's ``complete`` (a milestone with an entry criterion on
it) is pending while the task is Failed and holds the case open until the task is reactivated
and completes — or a person terminates the case. casepilot's bundles do this (``Paid`` in
``tests/bpmn/_process_bundle.py``; the agent's ``retry`` reactivates the failed task).
"""

from __future__ import annotations

import pytest

from casepilot.cmmn import CaseInstance
from casepilot.errors import IllegalTransition
from tests.cmmn.runtime._models import case_of, on

REQUIRED = "<itemControl><requiredRule/></itemControl>"


def _state(inst: CaseInstance, name: str) -> str:
    (view,) = inst.find(name)
    return view.state


def _id(inst: CaseInstance, name: str) -> str:
    (view,) = inst.find(name)
    return view.id


def _stage(auto_complete: bool, a_required: bool) -> str:
    """The case holds Keep (so it stays active) and stage S with humanTasks A and B."""
    control = REQUIRED if a_required else ""
    return (
        '<planItem id="pk" definitionRef="tk"/><humanTask id="tk" name="Keep"/>'
        '<planItem id="ps" definitionRef="st"/>'
        f'<stage id="st" name="S" autoComplete="{str(auto_complete).lower()}">'
        f'<planItem id="pa" definitionRef="ta">{control}</planItem><planItem id="pb" definitionRef="tb"/>'
        '<humanTask id="ta" name="A"/><humanTask id="tb" name="B"/></stage>'
    )


@pytest.mark.parametrize("auto_complete", [True, False])
@pytest.mark.parametrize("a_required", [True, False])
def test_every_cell_of_the_completion_table_counts_a_failed_child_as_settled(
    auto_complete: bool, a_required: bool
) -> None:
    """ch. 8 stage completion rule: Failed is among the states a (required) child may be in when its stage
    completes — for autoComplete true and false alike; the stage leaves it Failed."""
    inst = CaseInstance.start(case_of(_stage(auto_complete, a_required)))
    inst.fault(_id(inst, "A"))
    assert _state(inst, "S") == "Active"  # B is Active: an Active child holds any stage open
    inst.complete(_id(inst, "B"))
    assert (_state(inst, "S"), _state(inst, "A"), _state(inst, "B")) == ("Completed", "Failed", "Completed")
    assert inst.state == "Active"  # Keep


@pytest.mark.parametrize("auto_complete", [True, False])
def test_the_case_plan_model_completes_over_a_required_failed_task(auto_complete: bool) -> None:
    """ch. 5 CasePlanModel is a stage: the same rule completes the case, the Failed task stays Failed."""
    body = (
        f'<planItem id="pa" definitionRef="ta">{REQUIRED}</planItem><planItem id="pb" definitionRef="tb"/>'
        '<humanTask id="ta" name="A"/><humanTask id="tb" name="B"/>'
    )
    inst = CaseInstance.start(case_of(body, auto_complete=auto_complete))
    events = inst.fault(_id(inst, "A"))
    assert [(e.name, e.transition) for e in events if e.subject == "planItem"] == [("A", "fault")]
    assert inst.state == "Active"
    inst.complete(_id(inst, "B"))
    assert (inst.state, _state(inst, "A")) == ("Completed", "Failed")


def test_a_childs_fault_does_not_fault_or_end_its_stage_or_the_case() -> None:
    """ch. 8 stage and task lifecycle: ``fault`` is the child's own transition; no transition of the parent follows."""
    inst = CaseInstance.start(case_of(_stage(True, True)))
    events = inst.fault(_id(inst, "A"))
    assert [(e.name, e.transition) for e in events if e.subject == "planItem"] == [("A", "fault")]
    assert (_state(inst, "S"), _state(inst, "B"), inst.state) == ("Active", "Active", "Active")


def test_manual_completion_is_allowed_over_a_required_failed_child() -> None:
    """ch. 8 stage completion rule, manual completion: no Active child and every required child Completed,
    Terminated, Failed or Disabled. B waits for an entry criterion (Available, not required): the stage
    (autoComplete false) does not complete by itself, but may be completed."""
    body = (
        '<planItem id="pk" definitionRef="tk"/><humanTask id="tk" name="Keep"/>'
        '<planItem id="pgo" definitionRef="lgo"/><userEventListener id="lgo" name="Go"/>'
        '<planItem id="ps" definitionRef="st"/>'
        '<stage id="st" name="S" autoComplete="false">'
        f'<planItem id="pa" definitionRef="ta">{REQUIRED}</planItem>'
        '<planItem id="pb" definitionRef="tb"><entryCriterion sentryRef="s_go"/></planItem>'
        + on("s_go", "pgo", "occur")
        + '<humanTask id="ta" name="A"/><humanTask id="tb" name="B"/></stage>'
    )
    inst = CaseInstance.start(case_of(body))
    inst.fault(_id(inst, "A"))
    assert (_state(inst, "S"), _state(inst, "B")) == ("Active", "Available")
    inst.complete(_id(inst, "S"))
    assert (_state(inst, "S"), _state(inst, "A")) == ("Completed", "Failed")


def test_a_failed_child_reactivated_is_active_again_and_holds_the_stage_open() -> None:
    """ch. 8 stage and task lifecycle: ``reactivate`` Failed -> Active — Failed was not terminal."""
    inst = CaseInstance.start(case_of(_stage(True, True)))
    a = _id(inst, "A")
    inst.fault(a)
    inst.reactivate(a)
    inst.complete(_id(inst, "B"))
    assert (_state(inst, "S"), _state(inst, "A")) == ("Active", "Active")
    with pytest.raises(IllegalTransition, match="active or required unfinished children"):
        inst.complete(_id(inst, "S"))  # manual completion too: an Active child
    inst.complete(a)
    assert _state(inst, "S") == "Completed"


PAID = (
    '<planItem id="ppay" definitionRef="tpay"/><humanTask id="tpay" name="Pay"/>'
    f'<planItem id="ppaid" definitionRef="mpaid">{REQUIRED}<entryCriterion sentryRef="s_paid"/></planItem>'
    + on("s_paid", "ppay", "complete")
    + '<milestone id="mpaid" name="Paid"/>'
)
"""An autoComplete case whose payment must be made: a required milestone reached on Pay's ``complete``."""


def test_a_required_milestone_on_complete_keeps_the_case_open_while_the_task_is_failed() -> None:
    """The model's way (ch. 5 requiredRule, Sentry) to not complete over a failure: Paid is required and
    Available (pending) while Pay is Failed, so neither autoComplete nor manual completion ends the case;
    reactivating and completing Pay reaches Paid, and the case completes."""
    inst = CaseInstance.start(case_of(PAID, auto_complete=True))
    pay = _id(inst, "Pay")
    inst.fault(pay)
    assert (inst.state, _state(inst, "Pay"), _state(inst, "Paid")) == ("Active", "Failed", "Available")
    with pytest.raises(IllegalTransition, match="required unfinished children"):
        inst.complete(inst.id)  # manual completion of the case plan model: a required child is pending
    inst.reactivate(pay)
    inst.complete(pay)
    assert (inst.state, _state(inst, "Paid")) == ("Completed", "Completed")


def test_terminating_the_case_ends_a_failed_task_and_its_waiting_milestone() -> None:
    """ch. 8 case instance lifecycle: a person may end such a case instead; ``exit`` takes Failed to Terminated."""
    inst = CaseInstance.start(case_of(PAID, auto_complete=True))
    inst.fault(_id(inst, "Pay"))
    inst.terminate()
    assert (inst.state, _state(inst, "Pay"), _state(inst, "Paid")) == ("Terminated", "Terminated", "Terminated")
