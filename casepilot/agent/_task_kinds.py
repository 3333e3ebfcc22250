"""What the agent does for each kind of CMMN task besides running a bound tool.

* a decision task evaluates its DMN decision (from the bundle's ``decisions:``) on the case
  file and writes the result to the task's output (or a variable named after the decision);
* a case task starts a child case of another deployed definition; when the child finishes,
  the task completes (or ends) and the child's declared outputs come back;
* manual starts, planning discretionary items and manual completion are plain engine
  transitions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from casepilot.agent.context import AgentRuntime, LoadedCase
from casepilot.agent.engine import EngineCase
from casepilot.agent.privacy import jsonable
from casepilot.cmmn.runtime.actions import PlanDiscretionary, StartItem
from casepilot.errors import CasepilotError, PersonalDataErased
from casepilot.governance.pii.reveal import conceal_derived

__all__ = ["Unrevealable", "apply_decision", "definition_of", "engine_transition", "evaluate_decision", "start_child", "sync_children"]


def start_child(rt: AgentRuntime, loaded: LoadedCase, option: Mapping[str, Any], *, actor: str = "agent") -> None:
    """Start the child case of a case task (its variables re-pseudonymised into its own vault).

    Provenance crosses with the values: a variable is trusted in the child only when it
    was trusted in the parent (with everything recorded inside it), so a value read from
    a document cannot become trusted by passing through a child case.
    """
    engine = loaded.engine
    assert engine is not None
    binding = loaded.bundle.case_tasks[definition_of(engine, option["instance_id"])]
    variables = engine.variables()
    passed = {k: v for k, v in variables.items() if not binding.inputs or k in binding.inputs}
    provenance = {path: entry for name in passed for path, entry in loaded.facts.within(name).items()}
    if rt.privacy is not None:
        passed = rt.privacy.reveal_payload(passed, loaded.id)
    child_id = rt.create_case(binding.key, passed, actor=actor, source=f"case:{loaded.id}",
                              parent=(loaded.id, option["instance_id"]), provenance=provenance)
    with rt.step(loaded.id) as (step, fresh):
        fresh.facts.children[option["instance_id"]] = child_id
        step.append("tool_call_completed", actor=actor, payload={
            "tool": f"case:{binding.key}", "result": {"child_case": child_id, "variables": sorted(passed)}})

def sync_children(rt: AgentRuntime, case_id: str) -> bool:
    """Complete (or end) case tasks whose child case finished; True when something changed."""
    loaded = rt.load(case_id)
    changed = False
    for instance_id, child_id in list(loaded.facts.children.items()):
        child = rt.load(child_id)
        if child.engine is None or not child.engine.finished:
            continue
        assert loaded.engine is not None
        binding = loaded.bundle.case_tasks[definition_of(loaded.engine, instance_id)]
        results = {k: v for k, v in child.engine.variables().items() if k in binding.outputs}
        if rt.privacy is not None and results:
            results = rt.privacy.reveal_payload(results, child_id)
            results = rt.privacy.redact_value(results, case_id)[0]
        with rt.step(case_id) as (step, fresh):
            engine = fresh.engine
            assert engine is not None
            del fresh.facts.children[instance_id]
            for name in results:
                # The child's own record of each output comes back with it; none: untrusted.
                carried = child.facts.within(name)
                own = carried.pop(name, {"trust": "untrusted", "source": f"case:{child_id}"})
                fresh.facts.set_provenance(name, str(own.get("trust")), str(own.get("source", f"case:{child_id}")))
                fresh.facts.provenance.update(carried)
            events = engine.set_variables(results) if results else []
            view = engine.item(instance_id)
            if view is not None and view.state == "active":
                if child.engine.state == "completed":
                    events += engine.complete(instance_id)
                elif child.engine.state == "failed":
                    events += engine.fault(instance_id)
                else:
                    events += engine.terminate(instance_id)
            step.append("tool_call_completed", actor="agent", payload={
                "tool": f"case:{child_id}", "result": {"child_state": child.engine.state,
                                                      "variables": sorted(results)}})
            rt.record_transitions(step, events, "agent")
            rt.sync_inbox(step, fresh)
        changed = True
    return changed

@dataclass(frozen=True, slots=True)
class Unrevealable:
    """The value of a decision that was not evaluated: an input's personal data cannot be revealed."""

    problem: str


def evaluate_decision(loaded: LoadedCase, option: Mapping[str, Any]) -> tuple[str, Any, tuple[str, ...], list[str]]:
    """Evaluate a decision task's DMN decision on the case file: (variable, value, rule ids, errors).

    The decision sees the clear values behind the pseudonyms of the inputs its model reads
    (``decision_inputs``, revealed in one vault read; ``_case_reveal``); its value and error
    messages are concealed before anything stores them, as a BPMN business-rule task's
    (``casepilot.governance.pii.reveal.conceal_derived``): a copied clear input gets its
    pseudonym back, text the decision derived from one (``substring(payee, 1, 4)``) goes through
    the case's PII detector, and a fragment of a clear input left in it is pseudonymised whole —
    the output is stored in the case file. When an input cannot be revealed (erased),
    the decision is not evaluated: the value is :class:`Unrevealable` and ``apply_decision``
    faults the task.
    """
    engine = loaded.engine
    assert engine is not None
    binding = loaded.bundle.decision_tasks[definition_of(engine, option["instance_id"])]
    variables: Mapping[str, Any] = engine.variables()
    clear: dict[str, str] = {}
    if engine.reveal is not None:
        try:
            variables, clear = engine.reveal.decision_view(variables, decision_inputs(loaded, option))
        except PersonalDataErased as exc:
            problem = f"decision {binding.decision!r} is not evaluated: {exc}"
            return binding.result_variable, Unrevealable(problem), (), [problem]
    result = binding.model.evaluate(binding.decision, variables)
    rule_ids = tuple(r for ids in result.decision_rule_ids.values() for r in ids) or tuple(result.rule_ids)
    errors = [str(m) for m in result.errors]
    if clear and engine.reveal is not None:  # what it made of clear inputs is stored concealed
        return (binding.result_variable, conceal_derived(result.value, clear, engine.reveal), rule_ids,
                conceal_derived(errors, clear, engine.reveal))
    return binding.result_variable, result.value, rule_ids, errors

def apply_decision(step: Any, loaded: LoadedCase, option: Mapping[str, Any],
                    decision: tuple[str, Any, tuple[str, ...], list[str]]) -> list[dict[str, Any]]:
    engine = loaded.engine
    assert engine is not None
    variable, value, rule_ids, errors = decision
    if isinstance(value, Unrevealable):  # erased inputs: never decided on the pseudonym or null
        step.append("tool_call_failed", actor="agent", payload={
            "tool": f"dmn:{option['label']}", "error": value.problem, "source": "personal_data"})
        view = engine.item(option["instance_id"])
        return engine.fault(option["instance_id"]) if view is not None and view.state == "active" else []
    if errors:
        step.append("tool_call_failed", actor="agent", rule_ids=rule_ids, payload={
            "tool": f"dmn:{option['label']}", "error": "; ".join(errors)})
        loaded.facts.rejected.append(option["id"])
        return []
    step.append("tool_call_completed", actor="agent", rule_ids=rule_ids, payload={
        # The model's outputs, with any clear input in them put back as its pseudonym (evaluate_decision).
        "tool": f"dmn:{option['label']}", "result": jsonable({variable: value})})
    # A decision is only as trustworthy as the least trusted input it could read.
    present = engine.variables()
    inputs = sorted(n for n in decision_inputs(loaded, option) if n in present)
    tainted = loaded.facts.taint(inputs)
    if tainted is None:
        loaded.facts.set_provenance(variable, "trusted", "definition:dmn")
    else:
        loaded.facts.set_provenance(variable, "untrusted", str(tainted.get("source", "unknown")))
    events = engine.set_variables({variable: value})
    view = engine.item(option["instance_id"])
    if view is not None and view.state == "active":
        events += engine.complete(option["instance_id"])
    return events

def decision_inputs(loaded: LoadedCase, option: Mapping[str, Any]) -> set[str]:
    """The case-file names a decision task's DMN model could read: every input data of the model
    and every imported name any of its decisions requires (an over-approximation: fail closed)."""
    assert loaded.engine is not None
    model = loaded.bundle.decision_tasks[definition_of(loaded.engine, option["instance_id"])].model
    names = {i.name for i in model.inputs}
    names.update(r.split(".", 1)[0] for d in model.decisions for r in d.requires if "." in r)
    return names

def definition_of(engine: EngineCase, instance_id: str) -> str:
    view = engine.item(instance_id)
    if view is not None:
        return view.definition_id
    raise CasepilotError(f"plan item instance {instance_id} no longer exists")

def engine_transition(engine: EngineCase, option: Mapping[str, Any]) -> list[dict[str, Any]]:
    if option["kind"] == "start":
        return engine.apply(StartItem(instance=option["instance_id"], name=option["label"]))
    if option["kind"] == "plan":
        for action in engine.activatable():
            if isinstance(action, PlanDiscretionary) and action.item == option["plan_item"] \
                    and action.owner == option["instance_id"]:
                return engine.apply(action)
        raise CasepilotError(f"discretionary item {option['label']!r} can no longer be planned")
    if option["kind"] == "complete":
        return engine.complete(option["instance_id"])
    return []
