"""CMMN 1.1 rules checked one by one on small models (chapter 5 and 8 references per test)."""

from __future__ import annotations

import datetime as dt

import pytest

from casepilot.cmmn import CaseInstance
from casepilot.errors import IllegalTransition
from tests.cmmn.runtime._models import MANUAL, case_of, on


def states(inst: CaseInstance) -> list[tuple[str, str]]:
    return sorted((v.name, v.state) for v in inst.items())


def one(inst: CaseInstance, name: str, state: str | None = None) -> str:
    found = inst.find(name, state=state)
    assert len(found) == 1, found
    return found[0].id


REPEAT = "<itemControl><repetitionRule><condition>true</condition></repetitionRule></itemControl>"
NEVER = '<userEventListener id="never" name="Never"/><planItem id="pn" definitionRef="never"/>'


def test_a_repeated_instance_remembers_only_events_after_its_creation() -> None:
    """ch. 5 Sentry / ch. 8 repetition rule: on-parts are remembered per instance and forgotten when the sentry
    fires; the new instance of a repeatable item starts with an empty memory."""
    body = (
        f'<planItem id="ea" definitionRef="la">{REPEAT}</planItem><userEventListener id="la" name="A"/>'
        f'<planItem id="eb" definitionRef="lb">{REPEAT}</planItem><userEventListener id="lb" name="B"/>'
        f'<planItem id="x" definitionRef="tx">{REPEAT}<entryCriterion sentryRef="s"/></planItem>'
        '<humanTask id="tx" name="X"/>'
        '<sentry id="s"><planItemOnPart sourceRef="ea"><standardEvent>occur</standardEvent></planItemOnPart>'
        '<planItemOnPart sourceRef="eb"><standardEvent>occur</standardEvent></planItemOnPart></sentry>'
    )
    inst = CaseInstance.start(case_of(body))
    inst.occur(one(inst, "A", "Available"))
    inst.occur(one(inst, "A", "Available"))
    assert inst.find("X", state="Active") == []
    inst.occur(one(inst, "B", "Available"))
    assert len(inst.find("X", state="Active")) == 1
    inst.occur(one(inst, "B", "Available"))  # the new X heard no A since it was created
    assert len(inst.find("X", state="Active")) == 1
    inst.occur(one(inst, "A", "Available"))
    assert len(inst.find("X", state="Active")) == 2
    assert len(inst.find("X", state="Available")) == 1


def test_exit_criterion_ends_disabled_items_and_available_stages() -> None:
    """ch. 8 stage and task lifecycle: ``exit`` leaves Available, Enabled, Disabled, Active (and Suspended, Failed)."""
    body = (
        '<userEventListener id="le" name="Stop"/><planItem id="e" definitionRef="le"/>'
        f'<planItem id="t" definitionRef="tt">{MANUAL}<exitCriterion sentryRef="s_stop"/></planItem>'
        '<humanTask id="tt" name="T"/>'
        '<planItem id="st" definitionRef="stg"><entryCriterion sentryRef="s_never"/>'
        '<exitCriterion sentryRef="s_stop2"/></planItem>'
        '<stage id="stg" name="S"><planItem id="in" definitionRef="ti"/><humanTask id="ti" name="Inner"/></stage>'
        + NEVER + on("s_stop", "e", "occur") + on("s_stop2", "e", "occur") + on("s_never", "pn", "occur")
        + '<planItem id="w" definitionRef="tw"/><humanTask id="tw" name="Work"/>'
    )
    inst = CaseInstance.start(case_of(body))
    inst.disable(one(inst, "T"))
    assert inst.state_of("T") == "Disabled" and inst.state_of("S") == "Available"
    inst.occur(one(inst, "Stop"))
    assert inst.state_of("T") == "Terminated" and inst.state_of("S") == "Terminated"
    assert inst.find("Inner") == []  # children of a stage exist only once it is active


_STAGE = (
    '<planItem id="st" definitionRef="stg"/>'
    '<stage id="stg" name="S" autoComplete="false">'
    '<planItem id="a" definitionRef="ta"/><humanTask id="ta" name="A"/>'
    f'<planItem id="o" definitionRef="to">{MANUAL}</planItem><humanTask id="to" name="Optional"/>'
    '<planItem id="r" definitionRef="tr"><itemControl><requiredRule><condition>${need}</condition></requiredRule>'
    '<manualActivationRule><condition>true</condition></manualActivationRule></itemControl></planItem>'
    '<humanTask id="tr" name="Req"/></stage>'
)


def test_manual_stage_completion_follows_the_stage_completion_rule() -> None:
    """the ch. 8 stage completion rule: a stage may be completed by hand when no child is active and every
    required child is done; optional enabled children do not hold it back."""
    inst = CaseInstance.start(case_of(_STAGE), {"need": True})
    stage = one(inst, "S")
    with pytest.raises(IllegalTransition):
        inst.complete(stage)  # A is active
    inst.complete(one(inst, "A"))
    assert inst.state_of("S") == "Active"  # autoComplete false: enabled children keep it open
    with pytest.raises(IllegalTransition):
        inst.complete(stage)  # the required child is not done
    inst.disable(one(inst, "Req"))
    inst.reenable(one(inst, "Req"))
    inst.manual_start(one(inst, "Req"))
    inst.complete(one(inst, "Req"))
    assert inst.state_of("S") == "Active"
    inst.complete(stage)
    assert inst.state_of("S") == "Completed"
    assert inst.state == "Completed"  # the plan model's last child is done


def test_required_rule_is_evaluated_once_when_the_item_is_created() -> None:
    """ch. 5 RequiredRule: the required rule is evaluated when the item is created; later changes of
    its variables do not make a required item optional."""
    inst = CaseInstance.start(case_of(_STAGE), {"need": True})
    assert inst.item(one(inst, "Req")).required
    inst.set_variables({"need": False})
    assert inst.item(one(inst, "Req")).required
    inst.complete(one(inst, "A"))
    with pytest.raises(IllegalTransition):
        inst.complete(one(inst, "S"))
    other = CaseInstance.start(case_of(_STAGE), {"need": False})
    other.complete(one(other, "A"))
    other.complete(one(other, "S"))
    assert other.state_of("S") == "Completed"


def test_auto_complete_waits_for_required_children_only() -> None:
    """the ch. 8 stage completion rule, autoComplete true: complete once no child is active and all required are done."""
    body = _STAGE.replace('autoComplete="false"', 'autoComplete="true"')
    inst = CaseInstance.start(case_of(body), {"need": True})
    inst.complete(one(inst, "A"))
    assert inst.state_of("S") == "Active"
    inst.manual_start(one(inst, "Req"))
    inst.complete(one(inst, "Req"))
    assert inst.state_of("S") == "Completed"


def test_case_plan_model_manual_completion() -> None:
    """ch. 8 case instance lifecycle / the ch. 8 stage completion rule for the case plan model: ``complete`` of the case itself."""
    inst = CaseInstance.start(case_of(_STAGE), {"need": False})
    with pytest.raises(IllegalTransition):
        inst.complete(inst.id)  # stage S is active
    inst.complete(one(inst, "A"))
    inst.complete(one(inst, "S"))
    assert inst.state == "Completed"


def test_non_blocking_human_task_completes_when_it_starts() -> None:
    """ch. 5 Task, isBlocking: a non-blocking task completes as soon as it becomes active."""
    body = (
        '<planItem id="n" definitionRef="tn"/><humanTask id="tn" name="Notify" isBlocking="false"/>'
        f'<planItem id="m" definitionRef="tm">{MANUAL}</planItem><humanTask id="tm" name="Later" isBlocking="false"/>'
        '<planItem id="w" definitionRef="tw"/><humanTask id="tw" name="Work"/>'
    )
    inst = CaseInstance.start(case_of(body))
    assert states(inst) == [("Later", "Enabled"), ("Notify", "Completed"), ("Work", "Active")]
    events = inst.manual_start(one(inst, "Later"))
    assert [(e.name, e.transition) for e in events if e.subject == "planItem"] == [
        ("Later", "manualStart"), ("Later", "complete")]


def test_timer_started_by_a_case_file_item() -> None:
    """ch. 5 EventListener / ch. 8 event listener and milestone lifecycle: a timer with a caseFileItemStartTrigger counts from that event."""
    body = (
        '<planItem id="tl" definitionRef="timer"/><timerEventListener id="timer" name="Reminder">'
        "<timerExpression>PT1H</timerExpression>"
        '<caseFileItemStartTrigger sourceRef="doc"><standardEvent>create</standardEvent></caseFileItemStartTrigger>'
        '</timerEventListener><planItem id="t" definitionRef="tt"><entryCriterion sentryRef="s"/></planItem>'
        '<humanTask id="tt" name="Chase"/>' + on("s", "tl", "occur")
    )
    cfm = '<caseFileModel><caseFileItem id="doc" name="document" definitionRef="cfd"/></caseFileModel>'
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    inst = CaseInstance.start(case_of(body, case_file=cfm), now=start)
    inst.advance_to(start + dt.timedelta(hours=5))
    assert inst.state_of("Reminder") == "Available" and inst.item(one(inst, "Reminder")).due is None
    inst.set_variables({"document": {"pages": 2}})
    inst.advance_to(start + dt.timedelta(hours=5, minutes=59))
    assert inst.state_of("Chase") == "Available"
    inst.advance_to(start + dt.timedelta(hours=6))
    assert inst.state_of("Reminder") == "Completed" and inst.state_of("Chase") == "Active"


_SUSPEND = (
    '<planItem id="st" definitionRef="stg"/><stage id="stg" name="S">'
    '<planItem id="h1" definitionRef="t1"/><humanTask id="t1" name="One"/>'
    '<planItem id="h2" definitionRef="t2"><{kind}Criterion sentryRef="s"/></planItem><humanTask id="t2" name="Two"/>'
    '<sentry id="s"><planItemOnPart sourceRef="h1"><standardEvent>{event}</standardEvent></planItemOnPart></sentry>'
    "</stage>"
)


def test_on_parts_hear_parent_suspend_and_parent_resume() -> None:
    """ch. 8 stage and task lifecycle: suspending a stage moves its children by ``parentSuspend``, resuming by
    ``parentResume`` (back to their prior state); sentries hear both transitions."""
    exit_on_suspend = CaseInstance.start(case_of(_SUSPEND.format(kind="exit", event="parentSuspend")))
    exit_on_suspend.suspend(one(exit_on_suspend, "S"))
    assert exit_on_suspend.state_of("Two") == "Terminated" and exit_on_suspend.state_of("One") == "Suspended"
    exit_on_suspend.resume(one(exit_on_suspend, "S"))
    assert exit_on_suspend.state_of("One") == "Active" and exit_on_suspend.state_of("Two") == "Terminated"

    enter_on_resume = CaseInstance.start(case_of(_SUSPEND.format(kind="entry", event="parentResume")))
    assert enter_on_resume.state_of("Two") == "Available"
    enter_on_resume.suspend(one(enter_on_resume, "S"))
    assert {v.state for v in enter_on_resume.items() if v.name != "S"} == {"Suspended"}
    enter_on_resume.resume(one(enter_on_resume, "S"))
    assert enter_on_resume.state_of("One") == "Active" and enter_on_resume.state_of("Two") == "Active"


def test_suspended_case_resumes_and_a_failed_stage_is_reactivated() -> None:
    """Case suspend/resume/close (ch. 8 case instance lifecycle); fault and reactivate of a stage (ch. 8 stage
    and task lifecycle)."""
    body = _STAGE + '<planItem id="w" definitionRef="tw"/><humanTask id="tw" name="Work"/>'
    inst = CaseInstance.start(case_of(body), {"need": False})
    inst.suspend()
    assert inst.state == "Suspended" and inst.state_of("A") == "Suspended"
    with pytest.raises(IllegalTransition):
        inst.complete(one(inst, "A"))
    inst.resume()
    assert inst.state == "Active" and inst.state_of("A") == "Active" and inst.state_of("Optional") == "Enabled"
    inst.fault(one(inst, "S"))
    assert inst.state_of("S") == "Failed" and inst.state == "Active"
    inst.reactivate(one(inst, "S"))
    assert inst.state_of("S") == "Active"
    inst.terminate()
    assert inst.state == "Terminated"
    assert {v.state for v in inst.items()} <= {"Terminated", "Completed"}
    inst.close()
    assert inst.state == "Closed"
    with pytest.raises(IllegalTransition):
        inst.resume()
    again = CaseInstance.from_json(inst.case, inst.to_json())
    assert again.to_json() == inst.to_json()
