"""CMMN 1.1 ch. 5 Sentry (PlanItemOnPart) with the ch. 8 lifecycles: an on-part names a standard
event — a transition of its source's lifecycle, as the schema's PlanItemTransition enumeration
spells it — and hears exactly that transition.

For every transition of the stage and task lifecycle and of the event listener and milestone
lifecycle, a task W waits for an on-part on that transition of T; each test drives T through the
transition (by the operation a caller has for it, or through T's stage for the ``parent…``
ones) and checks that W started — and, for the transitions that need a step before them, that
the step before did not start W.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from casepilot.cmmn import CaseInstance
from casepilot.errors import DefinitionError
from tests.cmmn.runtime._models import MANUAL, case_of, on


def _one(inst: CaseInstance, name: str) -> str:
    found = [v for v in inst.items() if v.name == name and v.state not in ("Completed", "Terminated")]
    assert len(found) == 1, found
    return found[0].id


def _task_model(event: str, *, manual: bool) -> CaseInstance:
    """T (manual activation as asked) in stage S, with an exit criterion on listener X; W
    outside S enters on ``event`` of T."""
    body = (
        '<planItem id="ps" definitionRef="S"/><stage id="S" name="S">'
        f'<planItem id="pt" definitionRef="t">{MANUAL if manual else ""}<exitCriterion sentryRef="x"/></planItem>'
        '<humanTask id="t" name="T"/><planItem id="px" definitionRef="lx"/><userEventListener id="lx" name="X"/>'
        f'{on("x", "px", "occur")}</stage>'
        '<planItem id="pw" definitionRef="w"><entryCriterion sentryRef="s"/></planItem><humanTask id="w" name="W"/>'
        f'{on("s", "pt", event)}'
    )
    return CaseInstance.start(case_of(body))


Drive = Callable[[CaseInstance], object]


def _t(op: str) -> Drive:
    return lambda inst: getattr(inst, op)(_one(inst, "T"))


def _s(op: str) -> Drive:
    return lambda inst: getattr(inst, op)(_one(inst, "S"))


# transition -> (manual activation of T, steps before, the step that makes the transition)
TASK_CASES: dict[str, tuple[bool, list[Drive], Drive | None]] = {
    "create": (True, [], None),
    "enable": (True, [], None),
    "start": (False, [], None),
    "disable": (True, [], _t("disable")),
    "reenable": (True, [_t("disable")], _t("reenable")),
    "manualStart": (True, [], _t("manual_start")),
    "complete": (True, [_t("manual_start")], _t("complete")),
    "terminate": (True, [_t("manual_start")], _t("terminate")),
    "exit": (True, [], lambda inst: inst.occur(_one(inst, "X"))),
    "fault": (True, [_t("manual_start")], _t("fault")),
    "reactivate": (True, [_t("manual_start"), _t("fault")], _t("reactivate")),
    "suspend": (True, [_t("manual_start")], _t("suspend")),
    "resume": (True, [_t("manual_start"), _t("suspend")], _t("resume")),
    "parentSuspend": (True, [], _s("suspend")),
    "parentResume": (True, [_s("suspend")], _s("resume")),
}


@pytest.mark.parametrize("event", sorted(TASK_CASES))
def test_every_task_transition_is_heard_by_an_on_part_naming_it(event: str) -> None:
    manual, before, step = TASK_CASES[event]
    inst = _task_model(event, manual=manual)
    for drive in before:
        drive(inst)
    if step is not None:
        assert [v.state for v in inst.items() if v.name == "W"] == ["Available"]
        step(inst)
    assert [v.state for v in inst.items() if v.name == "W"] == ["Active"]


def _event_model(kind: str, event: str) -> CaseInstance:
    """T (a user event listener or a milestone whose entry waits on listener E) in stage S,
    which listener Y exits; W outside S enters on ``event`` of T."""
    if kind == "milestone":
        inner = (
            '<planItem id="pt" definitionRef="t"><entryCriterion sentryRef="e"/></planItem><milestone id="t" name="T"/>'
            '<planItem id="pe" definitionRef="le"/><userEventListener id="le" name="E"/>' + on("e", "pe", "occur")
        )
    else:
        inner = '<planItem id="pt" definitionRef="t"/><userEventListener id="t" name="T"/>'
    body = (
        '<planItem id="ps" definitionRef="S"><exitCriterion sentryRef="y"/></planItem>'
        f'<stage id="S" name="S">{inner}'
        '<planItem id="pk" definitionRef="k"/><humanTask id="k" name="Keep open"/></stage>'
        '<planItem id="py" definitionRef="ly"/><userEventListener id="ly" name="Y"/>' + on("y", "py", "occur") +
        '<planItem id="pw" definitionRef="w"><entryCriterion sentryRef="s"/></planItem><humanTask id="w" name="W"/>'
        + on("s", "pt", event)
    )
    return CaseInstance.start(case_of(body))


def _occur(inst: CaseInstance) -> None:
    name = "E" if inst.find("E") else "T"
    inst.occur(_one(inst, name))


EVENT_CASES: dict[str, tuple[list[Drive], Drive | None]] = {
    "create": ([], None),
    "occur": ([], _occur),
    "terminate": ([], _t("terminate")),
    "suspend": ([], _t("suspend")),
    "resume": ([_t("suspend")], _t("resume")),
    "parentSuspend": ([], _s("suspend")),
    "parentResume": ([_s("suspend")], _s("resume")),
}


@pytest.mark.parametrize("kind", ["userEventListener", "milestone"])
@pytest.mark.parametrize("event", sorted(EVENT_CASES))
def test_every_listener_and_milestone_transition_is_heard_by_an_on_part_naming_it(kind: str, event: str) -> None:
    before, step = EVENT_CASES[event]
    inst = _event_model(kind, event)
    for drive in before:
        drive(inst)
    if step is not None:
        assert [v.state for v in inst.items() if v.name == "W"] == ["Available"]
        step(inst)
    assert [v.state for v in inst.items() if v.name == "W"] == ["Active"]


def test_parent_terminate_is_recorded_but_cannot_be_named_by_an_on_part() -> None:
    """The stage's end terminates its waiting listener by ``parentTerminate`` (the lifecycle's
    name, in the events the engine returns); the schema's PlanItemTransition has no such value,
    so a model naming it is refused at load, and an on-part on the listener's ``exit`` (the
    transition of an exit criterion) does not hear it. Listen to the stage's end instead."""
    with pytest.raises(DefinitionError, match="'parentTerminate' is not a standard event of a plan item"):
        _event_model("userEventListener", "parentTerminate")
    inst = _event_model("userEventListener", "exit")
    events = inst.occur(_one(inst, "Y"))
    assert [(e.name, e.transition) for e in events if e.name == "T"] == [("T", "parentTerminate")]
    assert sorted((v.name, v.state) for v in inst.items() if v.name in ("T", "W")) == [
        ("T", "Terminated"),
        ("W", "Available"),
    ]


def test_an_exit_criterion_on_a_waiting_milestone_ends_it_with_exit() -> None:
    """The event listener and milestone lifecycle has no exit criterion of its own; models made
    with Flowable put them on milestones. The engine ends a waiting milestone with ``exit`` (to
    Terminated), which an on-part naming ``exit`` hears; an occurred milestone is not exited."""
    body = (
        '<planItem id="pm" definitionRef="m"><entryCriterion sentryRef="e"/><exitCriterion sentryRef="x"/>'
        '</planItem><milestone id="m" name="M"/>'
        '<planItem id="pe" definitionRef="le"/><userEventListener id="le" name="Reach"/>'
        '<planItem id="px" definitionRef="lx"/><userEventListener id="lx" name="Stop"/>'
        '<planItem id="pw" definitionRef="w"><entryCriterion sentryRef="s"/></planItem><humanTask id="w" name="W"/>'
        + on("e", "pe", "occur") + on("x", "px", "occur") + on("s", "pm", "exit")
    )
    case = case_of(body)
    stopped = CaseInstance.start(case)
    stopped.occur(_one(stopped, "Stop"))
    assert [(e.name, e.transition) for e in stopped.last_events if e.name in ("M", "W")] == [
        ("M", "exit"),
        ("W", "start"),
    ]
    reached = CaseInstance.start(case)
    reached.occur(_one(reached, "Reach"))
    reached.occur(_one(reached, "Stop"))
    assert [v.state for v in reached.items() if v.name in ("M", "W")] == ["Completed", "Available"]
