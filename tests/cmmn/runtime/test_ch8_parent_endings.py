"""CMMN 1.1 ch. 8 stage and task lifecycle: what a stage's completion, termination and exit do to children in each state
the scenario format cannot reach (Failed, Suspended) — the scenarios in tests/cmmn/scenarios/ch8
cover the others."""

from __future__ import annotations

import pytest

from casepilot.cmmn import CaseInstance
from casepilot.errors import IllegalTransition
from tests.cmmn.runtime._models import case_of, on


def _stage(auto_complete: bool) -> str:
    return (
        '<planItem id="ps" definitionRef="st"><exitCriterion sentryRef="s_stop"/></planItem>'
        '<planItem id="pstop" definitionRef="lstop"/><userEventListener id="lstop" name="Stop"/>'
        + on("s_stop", "pstop", "occur")
        + f'<stage id="st" name="S" autoComplete="{str(auto_complete).lower()}">'
        '<planItem id="pa" definitionRef="ta"/><planItem id="pb" definitionRef="tb"/>'
        '<humanTask id="ta" name="A"/><humanTask id="tb" name="B"/></stage>'
    )


def _state(inst: CaseInstance, name: str) -> str:
    (view,) = inst.find(name)
    return view.state


def test_completion_leaves_a_failed_child_failed() -> None:
    """ch. 8 stage and task lifecycle: Failed is semi-terminal; a stage whose children are all Completed or Failed
    completes (autoComplete false: every child semi-terminal), and completing transitions none."""
    inst = CaseInstance.start(case_of(_stage(False)))
    inst.fault(inst.find("A")[0].id)
    assert _state(inst, "S") == "Active"
    inst.complete(inst.find("B")[0].id)
    assert (_state(inst, "S"), _state(inst, "A"), _state(inst, "B")) == ("Completed", "Failed", "Completed")


def test_autocomplete_stage_completes_with_a_failed_child_that_stays_failed() -> None:
    """the ch. 8 stage completion rule, autoComplete true: no Active child and no required child pending."""
    inst = CaseInstance.start(case_of(_stage(True)))
    inst.fault(inst.find("A")[0].id)
    inst.complete(inst.find("B")[0].id)
    assert (_state(inst, "S"), _state(inst, "A")) == ("Completed", "Failed")


def test_terminate_and_exit_end_a_failed_child() -> None:
    """ch. 8 stage and task lifecycle: ``exit`` leaves Failed for Terminated; a parent's terminate or exit causes it."""
    for how in ("terminate", "exit"):
        inst = CaseInstance.start(case_of(_stage(False)))
        inst.fault(inst.find("A")[0].id)
        if how == "terminate":
            inst.terminate(inst.find("S")[0].id)
        else:
            inst.occur(inst.find("Stop")[0].id)
        assert (_state(inst, "S"), _state(inst, "A"), _state(inst, "B")) == (
            "Terminated",
            "Terminated",
            "Terminated",
        ), how


def test_a_reactivated_failed_child_holds_its_stage_open_again() -> None:
    """ch. 8 stage and task lifecycle: ``reactivate`` takes a Failed item back to Active, which is not semi-terminal."""
    inst = CaseInstance.start(case_of(_stage(False)))
    a = inst.find("A")[0].id
    inst.fault(a)
    inst.reactivate(a)
    inst.complete(inst.find("B")[0].id)
    assert (_state(inst, "S"), _state(inst, "A")) == ("Active", "Active")
    inst.complete(a)
    assert _state(inst, "S") == "Completed"


def test_terminating_a_suspended_stage_exits_its_parent_suspended_children() -> None:
    """ch. 8 stage and task lifecycle: a stage's ``terminate`` is allowed from Suspended, and ``exit`` from Suspended
    ends the children that its ``suspend`` had suspended (``parentSuspend``)."""
    inst = CaseInstance.start(case_of(_stage(False)))
    s = inst.find("S")[0].id
    inst.suspend(s)
    assert (_state(inst, "A"), _state(inst, "B")) == ("Suspended", "Suspended")
    inst.terminate(s)
    assert (_state(inst, "S"), _state(inst, "A"), _state(inst, "B")) == ("Terminated",) * 3


def test_the_case_completes_over_a_failed_child_and_its_terminate_exits_one() -> None:
    """ch. 8 case instance lifecycle with ch. 8 stage and task lifecycle for the case plan model's children."""
    body = (
        '<planItem id="pa" definitionRef="ta"/><planItem id="pb" definitionRef="tb"/>'
        '<humanTask id="ta" name="A"/><humanTask id="tb" name="B"/>'
    )
    done = CaseInstance.start(case_of(body))
    done.fault(done.find("A")[0].id)
    done.complete(done.find("B")[0].id)
    assert (done.state, _state(done, "A")) == ("Completed", "Failed")
    ended = CaseInstance.start(case_of(body))
    ended.fault(ended.find("A")[0].id)
    ended.terminate()
    assert (ended.state, _state(ended, "A"), _state(ended, "B")) == ("Terminated", "Terminated", "Terminated")


def test_a_semi_terminal_child_of_a_completed_stage_stays_so_for_good() -> None:
    """ch. 8 stage and task lifecycle: completion leaves a Disabled or Failed child as it is — and the stage is over, so
    it may not be re-enabled (then started) or reactivated into it; nor is it offered."""
    body = (
        '<planItem id="ps" definitionRef="st"/><planItem id="pk" definitionRef="tk"/>'
        '<humanTask id="tk" name="Keep"/>'
        '<stage id="st" name="S" autoComplete="true">'
        '<planItem id="pa" definitionRef="ta"/><planItem id="pb" definitionRef="tb">'
        "<itemControl><manualActivationRule/></itemControl></planItem>"
        '<planItem id="pc" definitionRef="tc"/>'
        '<humanTask id="ta" name="A"/><humanTask id="tb" name="B"/><humanTask id="tc" name="C"/></stage>'
    )
    inst = CaseInstance.start(case_of(body))
    b, c = inst.find("B")[0].id, inst.find("C")[0].id
    inst.disable(b)
    inst.fault(c)
    inst.complete(inst.find("A")[0].id)
    assert (_state(inst, "S"), _state(inst, "B"), _state(inst, "C")) == ("Completed", "Disabled", "Failed")
    assert inst.state == "Active"  # Keep is still active
    assert [a for a in inst.activatable() if a.instance in (b, c)] == []
    with pytest.raises(IllegalTransition, match="which is Completed"):
        inst.reenable(b)
    with pytest.raises(IllegalTransition, match="which is Completed"):
        inst.reactivate(c)
    assert (_state(inst, "B"), _state(inst, "C")) == ("Disabled", "Failed")


def test_the_children_of_a_suspended_stage_are_not_acted_on() -> None:
    """ch. 8 stage and task lifecycle: a suspended stage's children are suspended with it (``parentSuspend``) and resume
    with it; resuming or terminating one of them alone is refused."""
    inst = CaseInstance.start(case_of(_stage(False)))
    s, a = inst.find("S")[0].id, inst.find("A")[0].id
    inst.suspend(s)
    with pytest.raises(IllegalTransition, match="which is Suspended"):
        inst.resume(a)
    with pytest.raises(IllegalTransition, match="which is Suspended"):
        inst.terminate(a)
    inst.resume(s)
    assert (_state(inst, "A"), _state(inst, "B")) == ("Active", "Active")


def test_no_sentry_ends_what_a_completed_stage_left_disabled() -> None:
    """ch. 8 stage and task lifecycle: an exit criterion of a Disabled child (here on a case file event and on an
    if-part, which reach every stage instance) does not act once its stage has completed."""
    case_file = (
        '<caseFileModel id="cfm"><caseFileItem id="cfi" name="doc" definitionRef="cfd"/></caseFileModel>'
    )
    body = (
        '<planItem id="ps" definitionRef="st"/><planItem id="pk" definitionRef="tk"/><humanTask id="tk" name="Keep"/>'
        '<stage id="st" name="S" autoComplete="true">'
        '<planItem id="pa" definitionRef="ta"/>'
        '<planItem id="pb" definitionRef="tb"><itemControl><manualActivationRule/></itemControl>'
        '<exitCriterion sentryRef="s_doc"/><exitCriterion sentryRef="s_flag"/></planItem>'
        '<sentry id="s_doc"><caseFileItemOnPart sourceRef="cfi"><standardEvent>create</standardEvent>'
        "</caseFileItemOnPart></sentry>"
        '<sentry id="s_flag"><ifPart><condition>flag = true</condition></ifPart></sentry>'
        '<humanTask id="ta" name="A"/><humanTask id="tb" name="B"/></stage>'
    )
    inst = CaseInstance.start(case_of(body, case_file=case_file), {"flag": False})
    inst.disable(inst.find("B")[0].id)
    inst.complete(inst.find("A")[0].id)
    assert (_state(inst, "S"), _state(inst, "B")) == ("Completed", "Disabled")
    inst.set_variables({"doc": 1})
    inst.set_variables({"flag": True})
    assert _state(inst, "B") == "Disabled"
    rebuilt = CaseInstance.from_json(inst.case, inst.to_json())
    rebuilt.set_variables({"flag": True})
    assert rebuilt.state_of("B") == "Disabled"
