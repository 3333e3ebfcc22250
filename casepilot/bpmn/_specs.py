"""casepilot's task specs and event definitions on top of SpiffWorkflow's.

They keep everything casepilot adds in ``spec.extensions`` (a JSON dict SpiffWorkflow's
serializer already carries), so a serialised process restores them unchanged:

* service tasks do not call anything: running one records the :class:`ServiceCall` the
  host must execute (tool + FEEL-evaluated arguments) and waits; the host answers it;
* user tasks carry the role that may complete them (``cp:role``, else the lane's name);
* business-rule tasks evaluate a decision through the engine's ``decide`` hook
  (casepilot.dmn), never SpiffWorkflow's Python DMN engine;
* timer definitions read the engine's clock instead of ``datetime.now``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter, EventConverter
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask, UserTask
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin

from casepilot.governance.pii.reveal import conceal_derived, reveal_names

from ._compensation import CpCompensateEnd, CpCompensateThrow
from .engine import evaluate_feel

__all__ = ["CASEPILOT_SPEC_CONFIG", "CpBusinessRuleTask", "CpServiceTask", "CpUserTask"]

CALL_KEY = "cp_call"
"""internal_data key of a started service task's pending call."""


def _ext(spec: Any) -> dict[str, Any]:
    ext = getattr(spec, "extensions", None)
    if not isinstance(ext, dict):
        ext = {}
        spec.extensions = ext
    return ext


def _now(task: Any) -> datetime:
    engine = task.workflow.script_engine
    now = getattr(engine, "now", None)
    if now is None:  # pragma: no cover - every casepilot workflow runs a FeelScriptEngine
        raise RuntimeError("casepilot BPMN workflows must run with casepilot.bpmn.FeelScriptEngine")
    result: datetime = now()
    return result


def _revealer(task: Any) -> Any:
    """The host's revealer the task's engine carries (None: values as stored; ``casepilot.governance.pii.reveal``)."""
    return getattr(task.workflow.script_engine, "revealer", None)


def _kept(expression: str, task: Any, extra: Any = None) -> Any:
    """A mapping's value, which becomes process data or a stored call: evaluated on the clear values,
    kept pseudonymised."""
    return evaluate_feel(expression, task.data, extra, revealer=_revealer(task), kept=True)


def apply_outputs(spec: Any, task: Any, result: Any) -> None:
    """Write a task's result into the process data (``cp:resultVariable`` and ``cp:output``s)."""
    ext = _ext(spec)
    variable = ext.get("result_variable")
    if variable:
        task.data[variable] = result
    for name, expression in ext.get("outputs", []):
        task.data[name] = _kept(expression, task, {"result": result})


class CpServiceTask(ServiceTask):  # type: ignore[misc]
    """A service task: records the call for the host and waits for its answer."""

    def _run_hook(self, my_task: Any) -> bool | None:
        ext = _ext(self)
        arguments = {name: _kept(expr, my_task) for name, expr in ext.get("inputs", [])}
        my_task.internal_data[CALL_KEY] = {"tool": ext.get("tool", ""), "arguments": arguments}
        return None  # STARTED: the host executes the call and answers it


class CpUserTask(UserTask):  # type: ignore[misc]
    """A user task, surfaced as pending work for its role."""

    @property
    def role(self) -> str | None:
        role = _ext(self).get("role") or self.lane
        return str(role) if role else None


class CpBusinessRuleTask(BpmnSpecMixin):  # type: ignore[misc]
    """A business-rule task evaluating a casepilot.dmn decision."""

    def __init__(self, wf_spec: Any, bpmn_id: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)

    def _run_hook(self, my_task: Any) -> bool:
        ext = _ext(self)
        decide = getattr(my_task.workflow.script_engine, "decide", None)
        decision = ext.get("decision")
        if decide is None or not decision:
            raise RuntimeError(f"business-rule task {self.bpmn_id} has no decision to evaluate")
        inputs = dict(my_task.data)
        for name, expr in ext.get("inputs", []):
            inputs[name] = _kept(expr, my_task)
        result = _decide_revealed(decide, decision, inputs, _revealer(my_task))
        if not ext.get("result_variable") and not ext.get("outputs"):
            if isinstance(result, dict):
                my_task.data.update(result)
            else:
                my_task.data[decision] = result
        apply_outputs(self, my_task, result)
        return True


def _decide_revealed(decide: Any, decision: str, inputs: dict[str, Any], revealer: Any) -> Any:
    """The decision evaluated on the clear values of its inputs (which it reads is the DMN model's
    business: all are revealed, in one read); its result as it may be stored (``conceal_derived``:
    a copied clear value back as its pseudonym, derived text through the case's PII detector, a
    fragment of a clear value pseudonymised whole)."""
    if revealer is None:
        return decide(decision, inputs)
    view, clear = reveal_names(inputs, list(inputs), revealer)
    if not clear:
        return decide(decision, inputs)
    return conceal_derived(decide(decision, view), clear, revealer)


# --------------------------------------------------------------------------- timers on the engine's clock


class CpTimeDate(TimeDateEventDefinition):  # type: ignore[misc]
    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.parse_time_or_duration(event_value) <= _now(my_task):
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class CpDuration(DurationTimerEventDefinition):  # type: ignore[misc]
    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        now = _now(my_task)
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            parsed = TimerEventDefinition.parse_iso_duration(expression)
            event_value = (now + TimerEventDefinition.get_timedelta_from_start(parsed, now)).isoformat()
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.get_datetime(event_value) <= now:
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class CpCycle(CycleTimerEventDefinition):  # type: ignore[misc]
    def cycle_complete(self, my_task: Any) -> bool:
        now = _now(my_task)
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            cycles, start, duration = _recurring(expression, now)
            event_value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
        ready = False
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if next_event <= now:
                event_value["next"] = (next_event + timedelta(seconds=event_value["duration"])).isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=event_value)
        return ready


def _recurring(expression: str, now: datetime) -> tuple[int, datetime, timedelta]:
    """``R[n]/…`` like SpiffWorkflow's parser, with 'now' from the engine's clock."""
    components = expression.upper().replace("--", "/").strip("R").split("/")
    if len(components) == 2 and components[1].startswith("P"):
        cycles = int(components[0]) if components[0] else -1
        parsed = TimerEventDefinition.parse_iso_duration(components[1])
        duration = TimerEventDefinition.get_timedelta_from_start(parsed, now)
        return cycles, now + duration, duration
    cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(expression)
    return int(cycles), start, duration


TIMER_CLASSES: dict[type, type] = {
    TimeDateEventDefinition: CpTimeDate,
    DurationTimerEventDefinition: CpDuration,
    CycleTimerEventDefinition: CpCycle,
}

CASEPILOT_SPEC_CONFIG: dict[type, type] = {
    CpServiceTask: BpmnTaskSpecConverter,
    CpUserTask: BpmnTaskSpecConverter,
    CpBusinessRuleTask: BpmnTaskSpecConverter,
    CpTimeDate: TimerConditionalEventDefinitionConverter,
    CpDuration: TimerConditionalEventDefinitionConverter,
    CpCycle: TimerConditionalEventDefinitionConverter,
    CpCompensateThrow: EventConverter,
    CpCompensateEnd: EventConverter,
}
"""Serializer converters for the classes above (added to SpiffWorkflow's default config)."""

