"""The inbox follows the case's human tasks: an item per active human task, a person's decision completes it.

Apart because it is the one place where CMMN human tasks and the store's inbox rows meet:
``facts.inbox`` maps a human task's plan-item instance to its inbox item, and both functions
keep that map, the engine and the inbox in step within the caller's ``Store.step``.

A decision's typed values (the task's declared ``fields``) travel beside ``Orchestrator.decide``
in a context variable (``decision_values``): the API or page that checked and pseudonymised
them sets it around the call, and ``complete_human_task`` checks them again against the
task's declaration and writes them into the task's result variable with the decision.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from casepilot.agent._loaded_case import LoadedCase
from casepilot.agent._recording import record_transitions
from casepilot.agent.engine import ItemView
from casepilot.agent.manifest import HumanTaskSpec
from casepilot.agent.task_fields import check_task_values
from casepilot.store._step import Step

__all__ = ["complete_human_task", "decision_values", "sync_inbox", "task_spec"]

_VALUES: ContextVar[Mapping[str, Any] | None] = ContextVar("casepilot_decision_values", default=None)


@contextmanager
def decision_values(values: Mapping[str, Any]) -> Iterator[None]:
    """Within the block, a decision on a human task brings ``values`` (checked, pseudonymised)."""
    token = _VALUES.set(dict(values))
    try:
        yield
    finally:
        _VALUES.reset(token)


def task_spec(loaded: LoadedCase, task_id: str) -> HumanTaskSpec | None:
    """The manifest's declaration of the human task behind an open inbox item — for an item of a
    case's BPMN process, its user task's form (``_process_tasks.item_spec``) — or None: not one."""
    engine = loaded.engine
    instance_id = next((i for i, t in loaded.facts.inbox.items() if t == task_id), None)
    if instance_id is None and loaded.facts.processes:  # an item of a BPMN process: its user task's form
        from casepilot.agent._process_tasks import item_spec

        return item_spec(loaded, task_id)
    if engine is None or instance_id is None:
        return None
    view = engine.item(instance_id)
    if view is None:
        return None
    return loaded.bundle.human_tasks.get(view.definition_id, HumanTaskSpec())


def sync_inbox(step: Step, loaded: LoadedCase) -> None:
    """Open an inbox item for every newly active human task; cancel items whose task ended."""
    engine = loaded.engine
    if engine is None:
        return
    facts = loaded.facts
    if facts.processes:  # a BPMN process whose process task ended stops, its inbox items with it
        from casepilot.agent._process_tasks import end_orphaned

        end_orphaned(step, loaded)
    active_humans: dict[str, ItemView] = {
        v.instance_id: v for v in engine.active_items() if v.kind == "humanTask"
    }
    for instance_id, task_id in list(facts.inbox.items()):
        if instance_id not in active_humans:
            step.close_task(task_id, "cancelled", actor="agent", comment="the human task ended without a decision")
            del facts.inbox[instance_id]
    for instance_id, view in active_humans.items():
        if instance_id in facts.inbox:
            continue
        spec = loaded.bundle.human_tasks.get(view.definition_id, HumanTaskSpec())
        task = step.create_task(
            spec.question or view.name,
            kind="human_task",
            plan_item=view.name,
            role=spec.role,
            options=spec.options,
            actor="agent",
        )
        facts.inbox[instance_id] = task.id


def complete_human_task(step: Step, loaded: LoadedCase, task_id: str, actor: str, result: dict[str, Any]) -> None:
    """Apply a person's decision on a CMMN human task: write its (pseudonymised) result with the
    decision's typed values (``decision_values``), complete it.

    The values are checked before anything changes (``InvalidTaskValues``: nothing is written,
    the item stays open)."""
    engine = loaded.engine
    if engine is None:
        return
    instance_id = next((i for i, t in loaded.facts.inbox.items() if t == task_id), None)
    if instance_id is None:
        return
    view = engine.item(instance_id)
    spec = loaded.bundle.human_tasks.get(view.definition_id, HumanTaskSpec()) if view is not None else HumanTaskSpec()
    values = check_task_values(view.name if view is not None else task_id, spec.fields, _VALUES.get() or {})
    del loaded.facts.inbox[instance_id]
    if view is None or view.state != "active":
        return
    events: list[dict[str, Any]] = []
    if spec.result:
        events += engine.set_variables({spec.result: {**values, **result}})
        loaded.facts.set_provenance(spec.result, "trusted", f"person:{actor}")
    events += engine.complete(instance_id)
    record_transitions(step, events, f"person:{actor}")
    sync_inbox(step, loaded)
