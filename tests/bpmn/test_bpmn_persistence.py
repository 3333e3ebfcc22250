"""A process dumped to JSON at a wait state and loaded back goes on exactly like the original."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from casepilot.bpmn import ManualClock, ProcessInstance, load_processes
from casepilot.errors import CasepilotError, IllegalTransition

MODELS = Path(__file__).parent / "scenarios" / "models"


def _drive(instance: ProcessInstance, clock: ManualClock) -> list[tuple[str, ...]]:
    """Walk the caller → callee process to its end, recording what is open at each step."""
    trace: list[tuple[str, ...]] = []
    while not instance.completed:
        trace.append(tuple(instance.active_elements()))
        calls = instance.service_calls()
        assert calls, f"stuck at {instance.active_elements()}"
        instance.complete_service(calls[0].call_id, {"amount": calls[0].arguments["amount"]})
    trace.append(("done", json.dumps(instance.data, sort_keys=True)))
    return trace


def test_dump_and_load_mid_process_continues_identically() -> None:
    defs = load_processes([MODELS / "activities.bpmn"], decisions=[MODELS / "approval.dmn"])
    clock = ManualClock()
    original = ProcessInstance.start(defs, "caller", data={"amount": 3}, clock=clock)
    state = original.dump()
    copy = ProcessInstance.load(defs, state, clock=clock)
    assert copy.service_calls()[0].call_id == original.service_calls()[0].call_id
    assert copy.service_calls() == original.service_calls()
    assert _drive(copy, clock) == _drive(original, clock)
    assert copy.data == {"amount": 3, "charged": 3}


def test_the_dump_holds_state_not_the_definition() -> None:
    defs = load_processes([MODELS / "activities.bpmn"], decisions=[MODELS / "approval.dmn"])
    state = json.loads(ProcessInstance.start(defs, "caller", data={"amount": 3}).dump())
    assert state["spec"] == "caller"
    assert "subprocess_specs" not in state
    assert "task_specs" not in json.dumps(state)  # no serialised spec anywhere, sub-processes included
    assert state["subprocesses"]  # the called process's state is in it


def test_a_timer_waiting_across_a_dump_fires_after_load() -> None:
    defs = load_processes([MODELS / "events.bpmn"])
    clock = ManualClock()
    instance = ProcessInstance.start(defs, "timers", data={"hours": 2}, clock=clock)
    clock.advance(datetime.timedelta(hours=1))
    loaded = ProcessInstance.load(defs, instance.dump(), clock=clock)
    loaded.advance()
    assert loaded.active_elements() == ["wait"]
    clock.advance(datetime.timedelta(hours=1))
    loaded.advance()
    assert loaded.active_elements() == ["until"]


def test_state_of_another_process_is_refused() -> None:
    defs = load_processes([MODELS / "gateways.bpmn"])
    state = ProcessInstance.start(defs, "parallel").dump()
    with pytest.raises(CasepilotError, match="another process"):
        ProcessInstance.load(defs, state, process_id="inclusive")


def test_answering_something_that_is_not_waiting_is_refused() -> None:
    defs = load_processes([MODELS / "gateways.bpmn"])
    instance = ProcessInstance.start(defs, "parallel")
    task = instance.user_tasks()[0]
    with pytest.raises(IllegalTransition):
        instance.complete_service(task.task_id, {})
    instance.complete_user_task(task.task_id)
    with pytest.raises(IllegalTransition):
        instance.complete_user_task(task.task_id)


def test_a_message_nobody_waits_for_is_refused_without_failing_the_process() -> None:
    from casepilot.errors import UnknownPlanItem

    defs = load_processes([MODELS / "events.bpmn"])
    instance = ProcessInstance.start(defs, "boundaries")
    with pytest.raises(UnknownPlanItem, match=r"not waiting for message 'nonsense'.*note, withdrawn"):
        instance.send_message("nonsense")
    assert instance.failure is None
    instance.send_message("withdrawn")
    assert instance.completed


def test_host_values_are_kept_as_json_so_the_state_always_dumps() -> None:
    from decimal import Decimal

    defs = load_processes([MODELS / "activities.bpmn"], decisions=[MODELS / "approval.dmn"])
    instance = ProcessInstance.start(defs, "caller", data={"amount": Decimal("2.50"),
                                                           "when": datetime.date(2026, 3, 1)})
    call = instance.service_calls()[0]
    assert call.arguments == {"amount": 250}
    instance.complete_service(call.call_id, {"amount": Decimal("250"), "at": datetime.datetime(
        2026, 3, 1, 12, 0, tzinfo=datetime.UTC)})
    assert instance.data["charged"] == 2.5
    assert instance.data["when"] == "2026-03-01"
    json.loads(instance.dump())
