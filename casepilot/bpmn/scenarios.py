"""Runs BPMN conformance scenarios (YAML): start one process, drive it, check expectations.

A scenario::

    title: what BPMN 2.0 chapter 13 says and this checks
    model: ../models/payment.bpmn        # or models: [a.bpmn, b.bpmn]
    decisions: [approval.dmn]            # DMN models for business-rule tasks (optional)
    process: payment                     # which process (optional when there is one)
    data: {amount: 5000}                 # the start data
    deploy_error: "is not FEEL"          # instead of steps: deploying must fail saying this
    steps:
      - expect: {active: [review], user_tasks: {review: finance}, calls: {pay: {amount: 5000}}}
      - complete: review                 # a user task by element id (data: {...} merged)
        data: {approved: true}
      - answer: pay                      # a service call by element id, with its result
        result: {ok: true}
      - fail: pay                        # a service call failing with a BPMN error code
        code: declined
      - message: payment received        # a message event (payload: {...})
      - time: PT1H                       # move the clock, re-check timers
      - expect: {state: completed, completed: [end], data: {paid: true}}
      - expect_failure: "uncaught BPMN error"   # the previous step failed the process, saying this

``expect`` keys: ``state`` (running / completed / failed), ``active`` (element ids holding a
token, as a set), ``completed`` (ids that must have completed, a subset check), ``not_completed``,
``user_tasks`` (id → role, exactly the open ones), ``calls`` (id → arguments, exactly the open
ones), ``data`` (a subset of the process data). With ``roundtrip`` (the default) the instance is
dumped to JSON (keys sorted, as a store writes it) and loaded back after every step, so every scenario also tests persistence.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from casepilot._scenario_files import ScenarioFailure, ScenarioResult, collect_scenarios
from casepilot.errors import CasepilotError

from .definitions import ProcessDefinitions, load_processes
from .engine import ManualClock
from .instance import ProcessFailed, ProcessInstance

__all__ = ["ScenarioResult", "collect_scenarios", "run_scenario", "run_scenarios"]


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float | Decimal) and isinstance(actual, int | float | Decimal):
        return Decimal(str(expected)) == Decimal(str(actual))
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return expected.keys() == actual.keys() and all(_same(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(_same(a, b) for a, b in zip(expected, actual, strict=True))
    return bool(expected == actual)


def _state(inst: ProcessInstance) -> str:
    if inst.failure is not None:
        return "failed"
    return "completed" if inst.completed else "running"


_EXPECT_KEYS = frozenset({"state", "active", "completed", "not_completed", "user_tasks", "calls", "data"})


def _check(inst: ProcessInstance, expect: Mapping[str, Any]) -> None:
    problems: list[str] = []
    unknown = set(expect) - _EXPECT_KEYS
    if unknown:
        problems.append(f"unknown expect keys {sorted(unknown)}")
    if "state" in expect and expect["state"] != _state(inst):
        problems.append(f"state is {_state(inst)}, expected {expect['state']}")
    if "active" in expect and sorted(expect["active"] or []) != inst.active_elements():
        problems.append(f"active: expected {sorted(expect['active'] or [])}, got {inst.active_elements()}")
    done = set(inst.completed_elements())
    missing = [e for e in expect.get("completed") or [] if e not in done]
    if missing:
        problems.append(f"not completed: {missing} (completed: {sorted(done)})")
    unexpected = [e for e in expect.get("not_completed") or [] if e in done]
    if unexpected:
        problems.append(f"completed but should not have: {unexpected}")
    if "user_tasks" in expect:
        have = {t.element_id: t.role for t in inst.user_tasks()}
        if dict(expect["user_tasks"] or {}) != have:
            problems.append(f"user tasks: expected {expect['user_tasks']}, got {have}")
    if "calls" in expect:
        calls = {c.element_id: dict(c.arguments) for c in inst.service_calls()}
        want = dict(expect["calls"] or {})
        if want.keys() != calls.keys() or not all(_same(want[k] or {}, calls[k]) for k in want):
            problems.append(f"service calls: expected {want}, got {calls}")
    data = inst.data
    for name, value in (expect.get("data") or {}).items():
        if name not in data or not _same(value, data[name]):
            problems.append(f"data {name}: expected {value!r}, got {data.get(name, '<unset>')!r}")
    if problems:
        raise ScenarioFailure("; ".join(problems))


def _one(items: list[Any], what: str, element: str) -> Any:
    if not items:
        raise ScenarioFailure(f"no open {what} {element!r}")
    return items[0]


def _step(inst: ProcessInstance, step: Mapping[str, Any], clock: ManualClock) -> None:
    if "complete" in step:
        task = _one([t for t in inst.user_tasks() if t.element_id == step["complete"]], "user task", step["complete"])
        inst.complete_user_task(task.task_id, step.get("data") or {})
    elif "answer" in step:
        call = _one([c for c in inst.service_calls() if c.element_id == step["answer"]], "service call", step["answer"])
        inst.complete_service(call.call_id, step.get("result"))
    elif "fail" in step:
        call = _one([c for c in inst.service_calls() if c.element_id == step["fail"]], "service call", step["fail"])
        inst.fail_service(call.call_id, str(step.get("code", "")), str(step.get("message", "")))
    elif "message" in step:
        inst.send_message(str(step["message"]), step.get("payload"))
    elif "time" in step:
        parsed = TimerEventDefinition.parse_iso_duration(str(step["time"]))
        clock.advance(TimerEventDefinition.get_timedelta_from_start(parsed, clock.now))
        inst.advance()
    else:
        raise ScenarioFailure(f"unknown step {dict(step)!r}")


def _load_models(spec: Mapping[str, Any], base: Path) -> ProcessDefinitions:
    models = spec.get("models") or [spec["model"]]
    return load_processes([base / str(m) for m in models],
                          decisions=[base / str(d) for d in spec.get("decisions") or []])


def run_scenario(path: Path, *, roundtrip: bool = True) -> ScenarioResult:
    """Run one scenario file."""
    done = 0
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(spec, Mapping) or not ("model" in spec or "models" in spec):
            raise ScenarioFailure("a scenario needs model: (or models:)")
        if "deploy_error" in spec:
            try:
                _load_models(spec, path.parent)
            except CasepilotError as exc:
                if str(spec["deploy_error"]) not in str(exc):
                    raise ScenarioFailure(f"deploying failed, but saying {exc}") from exc
                return ScenarioResult(path, True, steps=1)
            raise ScenarioFailure(f"deploying succeeded; expected it to fail with {spec['deploy_error']!r}")
        defs = _load_models(spec, path.parent)
        clock = ManualClock(dt.datetime.fromisoformat(str(spec["clock"])) if "clock" in spec else None)
        error: str | None = None
        inst: ProcessInstance | None = None
        try:
            inst = ProcessInstance.start(defs, spec.get("process"), data=spec.get("data") or {}, clock=clock)
        except ProcessFailed as exc:
            error = str(exc)
        for step in spec.get("steps") or []:
            done += 1
            if "expect_failure" in step:
                if error is None or str(step["expect_failure"]) not in error:
                    raise ScenarioFailure(f"expected a failure saying {step['expect_failure']!r}, got {error!r}")
                error = None
                continue
            if error is not None:
                raise ScenarioFailure(f"the process failed: {error}")
            assert inst is not None
            if "expect" in step:
                _check(inst, step["expect"] or {})
                continue
            try:
                _step(inst, step, clock)
            except ProcessFailed as exc:
                error = str(exc)
            if roundtrip and inst.failure is None:
                # Sorted keys, as a store writes canonical JSON: the state must not depend on key order.
                text = json.dumps(json.loads(inst.dump()), sort_keys=True)
                inst = ProcessInstance.load(defs, text, clock=clock)
        if error is not None:
            raise ScenarioFailure(f"the process failed: {error}")
    except (ScenarioFailure, CasepilotError, OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        return ScenarioResult(path, False, f"step {done}: {exc}", done)
    return ScenarioResult(path, True, steps=done)


def run_scenarios(paths: Iterable[str | Path], *, roundtrip: bool = True) -> list[ScenarioResult]:
    """Run every scenario found in ``paths``."""
    return [run_scenario(p, roundtrip=roundtrip) for p in collect_scenarios(paths)]
