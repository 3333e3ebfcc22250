"""Runs CMMN conformance scenarios (the YAML format of the corpus' ``SCENARIOS.md``).

A scenario names a model, starts one case and drives it step by step (``complete``,
``manual_start``, ``disable``, ``reenable``, ``occur``, ``terminate``, ``set``, ``plan``,
``time``, and — extensions of the corpus format for the case file item transitions of CMMN 1.1
ch. 8 case file item lifecycle that ``set`` cannot make — ``delete: name``, ``replace: {name: value}``,
``add_reference: {from: a, to: b}`` and ``remove_reference: {from: a, to: b}``), checking
``expect`` blocks as multisets of plan-item names per state. With
``roundtrip`` (the default) the instance is serialised and rebuilt after every step and the
run continues on the rebuilt instance, so persistence is tested by every scenario too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from casepilot._scenario_files import ScenarioFailure, ScenarioResult, collect_scenarios
from casepilot.cmmn.definitions import Case, Definitions
from casepilot.cmmn.runtime import CaseInstance
from casepilot.cmmn.runtime.timers import add_period, parse_duration_text
from casepilot.errors import CasepilotError

__all__ = ["ScenarioResult", "collect_scenarios", "run_scenario", "run_scenarios"]

_STATE_KEYS = ("active", "enabled", "disabled", "available", "completed", "terminated", "failed", "suspended")
_STEP_STATES = {
    "complete": ("Active",),
    "manual_start": ("Enabled",),
    "disable": ("Enabled",),
    "reenable": ("Disabled",),
    "occur": ("Available",),
    "terminate": ("Active", "Suspended"),
}
_EVENT_LISTENERS = ("userEventListener", "eventListener")


class _Models:
    """Parses each model file once per run."""

    def __init__(self) -> None:
        self._cache: dict[Path, Definitions] = {}

    def case(self, path: Path, case_id: str | None) -> Case:
        key = path.resolve()
        defs = self._cache.get(key)
        if defs is None:
            from casepilot.cmmn.parser import parse_file

            defs = parse_file(key)
            self._cache[key] = defs
        return defs.case(case_id)


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual or expected == actual
    if isinstance(expected, int | float | Decimal) and isinstance(actual, int | float | Decimal):
        return Decimal(str(expected)) == Decimal(str(actual))
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return expected.keys() == actual.keys() and all(_same(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            _same(a, b) for a, b in zip(expected, actual, strict=True)
        )
    return bool(expected == actual)


def _snapshot(inst: CaseInstance) -> dict[str, Counter[str]]:
    lists: dict[str, Counter[str]] = {key: Counter() for key in (*_STATE_KEYS, "milestones")}
    for view in inst.items():
        if view.kind == "milestone" and view.state == "Completed":
            lists["milestones"][view.name] += 1
        elif view.state.lower() in lists:
            lists[view.state.lower()][view.name] += 1
    return lists


def _check(inst: CaseInstance, expect: Mapping[str, Any]) -> None:
    problems: list[str] = []
    if "case" in expect and str(expect["case"]).lower() != inst.state.lower():
        problems.append(f"case is {inst.state.lower()}, expected {expect['case']}")
    lists = _snapshot(inst)
    for key in (*_STATE_KEYS, "milestones"):
        if key in expect:
            want = Counter(str(n) for n in (expect[key] or []))
            have = lists[key]
            if want != have:
                problems.append(f"{key}: expected {sorted(want.elements())}, got {sorted(have.elements())}")
    for name, value in (expect.get("variables") or {}).items():
        if name not in inst.variables or not _same(value, inst.variables[name]):
            problems.append(
                f"variable {name}: expected {value!r}, got {inst.variables.get(name, '<unset>')!r}"
            )
    unknown = set(expect) - {*_STATE_KEYS, "milestones", "case", "variables"}
    if unknown:
        problems.append(f"unknown expect keys {sorted(unknown)}")
    if problems:
        raise ScenarioFailure("; ".join(problems))


def _target(inst: CaseInstance, verb: str, name: str) -> str:
    states = _STEP_STATES[verb]
    for view in inst.items():
        if view.name != name and view.id != name:
            continue
        if view.state in states and (verb != "occur" or view.kind in _EVENT_LISTENERS):
            return view.id
        if (
            verb == "terminate"
            and view.state == "Available"
            and view.kind in (*_EVENT_LISTENERS, "milestone")
        ):
            # ch. 8 event listener and milestone lifecycle: a waiting milestone or listener can be terminated
            return view.id
    if verb in ("complete", "terminate") and name in _plan_model_names(inst):
        # the case plan model: manual completion (ch. 8 stage completion rule) or termination (ch. 8
        # case instance lifecycle)
        return inst.id
    seen = sorted({f"{v.state}" for v in inst.items() if v.name == name})
    where = f"it is {', '.join(seen)}" if seen else "no plan item has that name"
    raise ScenarioFailure(f"cannot {verb} {name!r}: {where}")


def _plan_model_names(inst: CaseInstance) -> set[str]:
    plan_model = inst.case.plan_model
    if any(v.name == plan_model.name for v in inst.items()):
        return set()  # a plan item of that name wins (it was looked for first)
    return {n for n in (plan_model.name, plan_model.id) if n}


def _step(inst: CaseInstance | None, case: Case, step: Mapping[str, Any]) -> CaseInstance:
    if len(step) != 1:
        raise ScenarioFailure(f"a step has exactly one key, got {sorted(step)}")
    verb, arg = next(iter(step.items()))
    if verb == "start":
        if inst is not None:
            raise ScenarioFailure("the case is already started")
        return CaseInstance.start(case, dict((arg or {}).get("variables") or {}))
    if inst is None:
        raise ScenarioFailure(f"step {verb!r} before start")
    if verb == "expect":
        _check(inst, arg or {})
    elif verb == "set":
        inst.set_variables(dict(arg or {}))
    elif verb == "delete":
        inst.delete_case_file_item(str(arg))
    elif verb == "replace":
        for name, value in dict(arg or {}).items():
            inst.replace_case_file_item(str(name), value)
    elif verb in ("add_reference", "remove_reference"):
        link = dict(arg or {})
        if set(link) != {"from", "to"}:
            raise ScenarioFailure(f"{verb} needs from: and to: (case file item names), got {sorted(link)}")
        change = inst.add_case_file_reference if verb == "add_reference" else inst.remove_case_file_reference
        change(str(link["from"]), str(link["to"]))
    elif verb == "plan":
        inst.plan(str(arg))
    elif verb == "time":
        inst.advance_to(add_period(inst.now, parse_duration_text(str(arg))))
    elif verb in _STEP_STATES:
        iid = _target(inst, verb, str(arg))
        {
            "complete": inst.complete,
            "manual_start": inst.manual_start,
            "disable": inst.disable,
            "reenable": inst.reenable,
            "occur": inst.occur,
            "terminate": inst.terminate,
        }[verb](iid)
    else:
        raise ScenarioFailure(f"unknown step {verb!r}")
    return inst


def _roundtrip(inst: CaseInstance, case: Case) -> CaseInstance:
    text = inst.to_json()
    rebuilt = CaseInstance.from_json(case, text)
    if rebuilt.to_json() != text:
        raise ScenarioFailure("from_json(to_json(x)).to_json() differs from to_json(x)")
    return rebuilt


def run_scenario(
    path: str | Path, *, roundtrip: bool = True, models: _Models | None = None
) -> ScenarioResult:
    """Run one scenario file; never raises for model or scenario problems (they fail the result)."""
    file = Path(path)
    models = models or _Models()
    done = 0
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "model" not in data or "steps" not in data:
            raise ScenarioFailure("not a scenario (needs model: and steps:)")
        case = models.case((file.parent / str(data["model"])), data.get("case"))
        inst: CaseInstance | None = None
        for done, step in enumerate(data["steps"] or [], start=1):
            try:
                inst = _step(inst, case, step)
                if roundtrip:
                    inst = _roundtrip(inst, case)
            except ScenarioFailure as exc:
                raise ScenarioFailure(f"step {done} {_short(step)}: {exc}") from exc
            except CasepilotError as exc:
                raise ScenarioFailure(f"step {done} {_short(step)}: {type(exc).__name__}: {exc}") from exc
    except ScenarioFailure as exc:
        return ScenarioResult(file, False, str(exc), done)
    except (CasepilotError, OSError, yaml.YAMLError, KeyError, ValueError) as exc:
        return ScenarioResult(file, False, f"{type(exc).__name__}: {exc}", done)
    return ScenarioResult(file, True, "", done)


def _short(step: Any) -> str:
    text = repr(dict(step)) if isinstance(step, Mapping) else repr(step)
    return text if len(text) <= 80 else text[:77] + "..."


def run_scenarios(paths: Iterable[str | Path], *, roundtrip: bool = True) -> list[ScenarioResult]:
    """Run every scenario found under ``paths`` (models parsed once)."""
    models = _Models()
    return [run_scenario(p, roundtrip=roundtrip, models=models) for p in collect_scenarios(paths)]
