"""CaseInstance behaviour that the corpus scenarios do not show directly."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from decimal import Decimal

import pytest

from casepilot.cmmn import (
    CaseInstance,
    CompleteItem,
    DisableItem,
    OccurEvent,
    PlanDiscretionary,
    SetCaseFileItem,
    StartItem,
    TerminateItem,
    action_from_dict,
    action_to_dict,
)
from casepilot.cmmn.runtime import machine
from casepilot.errors import DefinitionError, IllegalTransition, UnknownPlanItem
from tests.cmmn.runtime._models import MANUAL, case_of, on

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

SEQ = (
    '<planItem id="a" definitionRef="ta"/>'
    '<planItem id="b" definitionRef="tb"><entryCriterion id="ec_b" sentryRef="s_a"/></planItem>'
    + on("s_a", "a", "complete")
    + '<humanTask id="ta" name="A"/><humanTask id="tb" name="B"/>'
)


def one(inst: CaseInstance, name: str, state: str | None = None) -> str:
    found = inst.find(name, state=state)
    assert len(found) == 1, found
    return found[0].id


def test_transitions_return_events_with_states_and_cause() -> None:
    inst = CaseInstance.start(case_of(SEQ), now=T0)
    assert [(e.name, e.transition, e.to_state) for e in inst.last_events] == [
        ("Plan", "create", "Active"),
        ("A", "create", "Available"),
        ("B", "create", "Available"),
        ("A", "start", "Active"),
    ]
    events = inst.complete(one(inst, "A"))
    assert [(e.name, e.transition, e.from_state, e.to_state, e.cause) for e in events] == [
        ("A", "complete", "Active", "Completed", "user"),
        ("B", "start", "Available", "Active", "sentry:s_a"),
    ]
    assert events[1].criterion == "ec_b"
    assert [e.seq for e in events] == [5, 6]
    assert all(e.at == T0.isoformat() for e in events)


def test_illegal_operation_raises_typed_error_and_changes_nothing() -> None:
    inst = CaseInstance.start(case_of(SEQ))
    before = inst.to_json()
    with pytest.raises(IllegalTransition) as info:
        inst.manual_start(one(inst, "B"))
    assert info.value.state == "Available" and info.value.transition == "manualStart"
    assert inst.to_json() == before
    with pytest.raises(UnknownPlanItem):
        inst.complete("nope")


def test_default_ids_are_deterministic_and_injected_ids_are_used() -> None:
    case = case_of(SEQ)
    assert [v.id for v in CaseInstance.start(case).items()] == ["case.1", "case.2"]
    counter = itertools.count(100)
    inst = CaseInstance.start(case, ids=lambda: f"x{next(counter)}")
    assert inst.id == "x100"
    assert [v.id for v in inst.items()] == ["x101", "x102"]


def test_activatable_lists_typed_actions_and_apply_performs_them() -> None:
    body = (
        f'<planItem id="a" definitionRef="ta">{MANUAL}</planItem>'
        '<planItem id="u" definitionRef="ue"/>'
        '<planItem id="b" definitionRef="tb"/>'
        '<humanTask id="ta" name="A"/><humanTask id="tb" name="B"/><userEventListener id="ue" name="Go"/>'
        '<planningTable id="pt"><discretionaryItem id="di" definitionRef="tx"/></planningTable>'
        '<humanTask id="tx" name="Extra"/>'
    )
    cfm = '<caseFileModel><caseFileItem id="cf_doc" name="doc" definitionRef="cfd"/></caseFileModel>'
    inst = CaseInstance.start(case_of(body, case_file=cfm))
    actions = inst.activatable()
    kinds = sorted((a.kind, a.name) for a in actions)
    assert kinds == [
        ("complete", "B"),
        ("disable", "A"),
        ("occur", "Go"),
        ("plan", "Extra"),
        ("set", "doc"),
        ("start", "A"),
        ("terminate", "B"),
    ]
    start = next(a for a in actions if isinstance(a, StartItem))
    assert action_from_dict(action_to_dict(start)) == start
    inst.apply(start)
    assert inst.state_of("A") == "Active"
    plan = next(a for a in inst.activatable() if isinstance(a, PlanDiscretionary))
    inst.apply(plan)
    assert inst.state_of("Extra") == "Active"
    setter = next(a for a in inst.activatable() if isinstance(a, SetCaseFileItem))
    assert not setter.exists
    inst.apply(SetCaseFileItem(setter.item, setter.name, setter.exists, value={"pages": 3}))
    assert inst.case_file == {"cf_doc": "Available"} and inst.variables["doc"] == {"pages": 3}
    occur = next(a for a in inst.activatable() if isinstance(a, OccurEvent))
    inst.apply(occur)
    assert not any(isinstance(a, OccurEvent) for a in inst.activatable())
    for action in [a for a in inst.activatable() if isinstance(a, CompleteItem)]:
        inst.apply(action)
    assert inst.state == "Completed"
    assert inst.activatable() == []


def test_stage_completion_is_offered_only_when_allowed() -> None:
    body = (
        '<planItem id="s" definitionRef="st"/>'
        '<stage id="st" name="S"><planItem id="x" definitionRef="tx"/>'
        f'<planItem id="y" definitionRef="ty">{MANUAL}</planItem>'
        '<humanTask id="tx" name="X"/><humanTask id="ty" name="Y"/></stage>'
    )
    inst = CaseInstance.start(case_of(body))
    stage = one(inst, "S")
    assert CompleteItem(stage, "S") not in inst.activatable()
    with pytest.raises(IllegalTransition):
        inst.complete(stage)
    inst.complete(one(inst, "X"))
    assert inst.state_of("S") == "Active"  # autoComplete false: enabled Y keeps it open
    assert CompleteItem(stage, "S") in inst.activatable()
    inst.complete(stage)
    assert inst.state_of("S") == "Completed"
    assert inst.state == "Completed"


def test_terminate_case_and_disable_actions() -> None:
    body = f'<planItem id="a" definitionRef="ta">{MANUAL}</planItem><humanTask id="ta" name="A"/>'
    inst = CaseInstance.start(case_of(body))
    assert DisableItem(one(inst, "A"), "A") in inst.activatable()
    inst.terminate()
    assert inst.state == "Terminated"
    assert inst.state_of("A") == "Terminated"
    assert inst.activatable() == []
    inst.close()
    assert inst.state == "Closed"
    with pytest.raises(IllegalTransition):
        inst.reactivate()


def test_suspend_and_resume_restore_each_child_state() -> None:
    body = SEQ + f'<planItem id="m" definitionRef="tm">{MANUAL}</planItem><humanTask id="tm" name="M"/>'
    inst = CaseInstance.start(case_of(body))
    events = inst.suspend()
    assert inst.state == "Suspended"
    assert {e.name: e.transition for e in events if e.subject == "planItem"} == {
        "A": "parentSuspend",
        "B": "parentSuspend",
        "M": "parentSuspend",
    }
    assert {v.state for v in inst.items()} == {"Suspended"}
    assert inst.activatable() == []
    inst.resume()
    assert [(v.name, v.state) for v in inst.items()] == [
        ("A", "Active"),
        ("B", "Available"),
        ("M", "Enabled"),
    ]


def test_fault_and_reactivate_of_a_task() -> None:
    inst = CaseInstance.start(case_of(SEQ))
    a = one(inst, "A")
    inst.fault(a)
    assert inst.state_of(a) == "Failed"
    assert inst.state == "Active"
    inst.reactivate(a)
    inst.complete(a)
    assert inst.state_of("B") == "Active"


def test_exit_criterion_ref_only_counts_exits_by_that_criterion() -> None:
    body = (
        '<planItem id="a" definitionRef="ta"><exitCriterion id="xa1" sentryRef="s_u1"/>'
        '<exitCriterion id="xa2" sentryRef="s_u2"/></planItem>'
        '<planItem id="u1" definitionRef="ue1"/><planItem id="u2" definitionRef="ue2"/>'
        '<planItem id="b" definitionRef="tb"><entryCriterion sentryRef="s_ax"/></planItem>'
        + on("s_u1", "u1", "occur")
        + on("s_u2", "u2", "occur")
        + on("s_ax", "a", "exit", ' exitCriterionRef="xa1"')
        + '<humanTask id="ta" name="A"/><humanTask id="tb" name="B"/>'
        '<userEventListener id="ue1" name="U1"/><userEventListener id="ue2" name="U2"/>'
    )
    case = case_of(body)
    inst = CaseInstance.start(case)
    inst.occur(one(inst, "U2"))
    assert inst.state_of("A") == "Terminated" and inst.state_of("B") == "Available"
    inst = CaseInstance.start(case)
    inst.occur(one(inst, "U1"))
    assert inst.state_of("A") == "Terminated" and inst.state_of("B") == "Active"


def test_on_part_memory_waits_for_if_part_and_fires_on_a_later_set() -> None:
    body = (
        '<planItem id="a" definitionRef="ta"/>'
        '<planItem id="b" definitionRef="tb"><entryCriterion sentryRef="s"/></planItem>'
        + on("s", "a", "complete", if_part="ok = true")
        + '<humanTask id="ta" name="A"/><humanTask id="tb" name="B"/>'
    )
    case = case_of(body)
    inst = CaseInstance.start(case, {"ok": False})
    inst.complete(one(inst, "A"))
    assert inst.state_of("B") == "Available"
    inst = CaseInstance.from_json(case, inst.to_json())  # the armed sentry survives persistence
    inst.set_variables({"other": 1})
    assert inst.state_of("B") == "Available"
    inst.set_variables({"ok": True})
    assert inst.state_of("B") == "Active"


def test_case_file_update_and_delete_on_parts_and_context_ref() -> None:
    cfm = '<caseFileModel><caseFileItem id="cf" name="claim" definitionRef="cfd"/></caseFileModel>'
    body = (
        '<planItem id="u" definitionRef="tu"><entryCriterion sentryRef="s_upd"/></planItem>'
        '<planItem id="pd" definitionRef="td"><entryCriterion sentryRef="s_del"/></planItem>'
        '<sentry id="s_upd"><caseFileItemOnPart sourceRef="cf"><standardEvent>update</standardEvent>'
        '</caseFileItemOnPart><ifPart contextRef="cf"><condition>amount &gt; 100</condition></ifPart></sentry>'
        '<sentry id="s_del"><caseFileItemOnPart sourceRef="cf"><standardEvent>delete</standardEvent>'
        "</caseFileItemOnPart></sentry>"
        '<humanTask id="tu" name="Big update"/><humanTask id="td" name="Deleted"/>'
    )
    inst = CaseInstance.start(case_of(body, case_file=cfm))
    events = inst.set_variables({"claim": {"amount": 500}})
    assert [(e.subject, e.transition) for e in events] == [("caseFileItem", "create")]
    inst.set_variables({"claim": {"amount": 50}})
    assert inst.state_of("Big update") == "Available"
    inst.set_variables({"claim": {"amount": 150}})
    assert inst.state_of("Big update") == "Active"
    inst.delete_case_file_item("claim")
    assert inst.state_of("Deleted") == "Active"
    assert "claim" not in inst.variables and inst.case_file == {"cf": "Discarded"}
    with pytest.raises(IllegalTransition):
        inst.delete_case_file_item("claim")


def test_repeating_timer_occurs_each_period_and_clock_never_goes_back() -> None:
    body = (
        '<planItem id="t" definitionRef="tl"/>'
        '<timerEventListener id="tl" name="Tick"><timerExpression>R2/PT1H</timerExpression></timerEventListener>'
    )
    inst = CaseInstance.start(case_of(body), now=T0)
    assert inst.items()[0].due == (T0 + dt.timedelta(hours=1)).isoformat()
    events = inst.advance_to(T0 + dt.timedelta(hours=5))
    occurred = [e.at for e in events if e.transition == "occur"]
    assert occurred == [(T0 + dt.timedelta(hours=h)).isoformat() for h in (1, 2)]
    assert inst.state == "Completed"
    assert inst.now == T0 + dt.timedelta(hours=5)
    with pytest.raises(ValueError):
        inst.advance_to(T0)


def test_planning_from_a_task_table_needs_the_task_active() -> None:
    body = (
        f'<planItem id="h" definitionRef="th">{MANUAL}</planItem>'
        '<humanTask id="th" name="H"><planningTable id="pt">'
        '<discretionaryItem id="di" definitionRef="tx"/></planningTable></humanTask>'
        '<humanTask id="tx" name="Extra"/>'
    )
    inst = CaseInstance.start(case_of(body))
    with pytest.raises(IllegalTransition):
        inst.plan("Extra")
    with pytest.raises(UnknownPlanItem):
        inst.plan("Nothing like it")
    inst.manual_start(one(inst, "H"))
    inst.plan("di")
    extra = inst.find("Extra")[0]
    assert extra.discretionary and extra.parent == inst.id and extra.state == "Active"


def test_terminate_item_action_and_required_rule() -> None:
    body = (
        '<planItem id="a" definitionRef="ta"><itemControl><requiredRule/></itemControl></planItem>'
        '<humanTask id="ta" name="A"/>'
    )
    inst = CaseInstance.start(case_of(body, auto_complete=True))
    assert inst.items()[0].required
    inst.apply(TerminateItem(one(inst, "A"), "A"))
    assert inst.state == "Completed"


def test_json_round_trip_keeps_feel_values_and_rejects_other_cases() -> None:
    case = case_of(SEQ)
    values = {
        "n": Decimal("1.50"),
        "f": 0.25,
        "d": dt.date(2025, 1, 2),
        "t": dt.datetime(2025, 1, 2, 3, 4, tzinfo=dt.UTC),
        "dur": dt.timedelta(hours=3),
        "nested": {"$weird": [1, "x", None]},
    }
    inst = CaseInstance.start(case, values)
    text = inst.to_json()
    again = CaseInstance.from_json(case, text)
    assert again.to_json() == text
    assert dict(again.variables) == values
    assert '"schema":1' in text
    with pytest.raises(DefinitionError):
        CaseInstance.from_json(dataclasses.replace(case, id="other"), text)


def test_a_model_that_never_settles_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine, "MAX_STEPS", 500)
    body = (
        '<planItem id="a" definitionRef="ta"><itemControl><repetitionRule/></itemControl></planItem>'
        '<humanTask id="ta" name="A" isBlocking="false"/>'
    )
    with pytest.raises(DefinitionError, match="does not settle"):
        CaseInstance.start(case_of(body))


def test_sentries_see_events_of_items_in_sibling_stages() -> None:
    body = (
        '<planItem id="s1" definitionRef="st1"/><planItem id="s2" definitionRef="st2"/>'
        '<stage id="st1" name="S1"><planItem id="a" definitionRef="ta"/><humanTask id="ta" name="A"/></stage>'
        '<stage id="st2" name="S2"><planItem id="b" definitionRef="tb"><entryCriterion sentryRef="s_a"/></planItem>'
        + on("s_a", "a", "complete")
        + '<humanTask id="tb" name="B"/></stage>'
    )
    inst = CaseInstance.start(case_of(body))
    assert inst.state_of("B") == "Available"
    inst.complete(one(inst, "A"))
    assert inst.state_of("S1") == "Completed"
    assert inst.state_of("B") == "Active"


def test_case_file_items_given_at_start_are_created_after_the_plan_exists() -> None:
    cfm = '<caseFileModel><caseFileItem id="cf" name="report" definitionRef="cfd"/></caseFileModel>'
    body = (
        '<planItem id="r" definitionRef="tr"><entryCriterion sentryRef="s_cf"/></planItem>'
        '<sentry id="s_cf"><caseFileItemOnPart sourceRef="cf"><standardEvent>create</standardEvent>'
        '</caseFileItemOnPart></sentry><humanTask id="tr" name="Read report"/>'
    )
    inst = CaseInstance.start(case_of(body, case_file=cfm), {"report": "text"})
    assert inst.state_of("Read report") == "Active"
    assert inst.case_file == {"cf": "Available"}


def test_replaying_the_same_operations_rebuilds_the_same_state() -> None:
    case = case_of(SEQ)
    first = CaseInstance.start(case)
    events = list(first.last_events)
    events += first.complete(one(first, "A"))
    second = CaseInstance.start(case)
    second.apply(action_from_dict(action_to_dict(CompleteItem(one(second, "A"), "A"))))
    assert second.to_json() == first.to_json()
    creates = {e.instance: e.parent for e in events if e.transition == "create" and e.subject == "planItem"}
    assert creates == {v.id: first.id for v in first.items()}
    assert type(events[0]).from_dict(events[0].to_dict()) == events[0]


def test_in_state_lists_what_the_index_holds_and_agrees_with_items() -> None:
    inst = CaseInstance.start(case_of(SEQ))
    a = one(inst, "A")
    assert [v.name for v in inst.in_state("Active")] == ["A"]  # the case plan model is not an item
    assert [v.name for v in inst.in_state("Available")] == ["B"]
    inst.complete(a)
    for state in ("Active", "Available", "Completed"):
        assert inst.in_state(state) == [v for v in inst.items() if v.state == state]
    assert [v.name for v in inst.in_state("Completed")] == ["A"]
    assert inst.in_state("Suspended") == []


def test_activatable_lists_actions_in_creation_order_live_and_after_a_reload() -> None:
    """The same state offers the same list: Early (manual) becomes Active after Late did, yet both
    the live instance and one rebuilt from its snapshot list Early first (a planner that picks by
    position, or a governance log, sees one order)."""
    body = (
        f'<planItem id="e" definitionRef="te">{MANUAL}</planItem><humanTask id="te" name="Early"/>'
        '<planItem id="l" definitionRef="tl"/><humanTask id="tl" name="Late"/>'
        '<planItem id="u" definitionRef="ue"/><userEventListener id="ue" name="Ping"/>'
    )
    case = case_of(body)
    inst = CaseInstance.start(case)
    inst.manual_start(one(inst, "Early"))
    live = [(a.kind, a.name) for a in inst.activatable()]
    again = CaseInstance.from_json(case, inst.to_json())
    assert [(a.kind, a.name) for a in again.activatable()] == live
    assert live[:4] == [("complete", "Early"), ("terminate", "Early"), ("complete", "Late"), ("terminate", "Late")]


def test_a_view_is_handed_out_again_only_while_its_instance_is_unchanged() -> None:
    body = SEQ + f'<planItem id="m" definitionRef="tm">{MANUAL}</planItem><humanTask id="tm" name="M"/>'
    inst = CaseInstance.start(case_of(body))
    first = {v.name: v for v in inst.items()}
    assert {n: v.state for n, v in first.items()} == {"A": "Active", "B": "Available", "M": "Enabled"}
    inst.complete(first["A"].id)
    again = {v.name: v for v in inst.items()}
    # What moved is viewed anew, with its new state; what did not is the same view.
    assert (again["A"].state, again["B"].state) == ("Completed", "Active")
    assert again["A"] is not first["A"] and again["B"] is not first["B"]
    assert again["M"] is first["M"]
    assert inst.item(first["B"].id) is again["B"] and inst.in_state("Active") == [again["B"]]
    inst.suspend()  # every child moves (parentSuspend), none is shown as it was
    assert {v.state for v in inst.items()} == {"Completed", "Suspended"}
    assert all(v is not again[v.name] for v in inst.items() if v.name != "A")
