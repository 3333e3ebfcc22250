"""The inbox follows the case's human tasks: an item per active human task, a person's decision completes it.

Apart because it is the one place where CMMN human tasks and the store's inbox rows meet:
``facts.inbox`` maps a human task's plan-item instance to its inbox item, and both functions
keep that map, the engine and the inbox in step within the caller's ``Store.step``.
"""

from __future__ import annotations

from typing import Any

from casepilot.agent._loaded_case import LoadedCase
from casepilot.agent._recording import record_transitions
from casepilot.agent.engine import ItemView
from casepilot.agent.manifest import HumanTaskSpec
from casepilot.store._step import Step

__all__ = ["complete_human_task", "sync_inbox"]


def sync_inbox(step: Step, loaded: LoadedCase) -> None:
    """Open an inbox item for every newly active human task; cancel items whose task ended."""
    engine = loaded.engine
    if engine is None:
        return
    facts = loaded.facts
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
    """Apply a person's decision on a CMMN human task: write its (pseudonymised) result, complete it."""
    engine = loaded.engine
    if engine is None:
        return
    instance_id = next((i for i, t in loaded.facts.inbox.items() if t == task_id), None)
    if instance_id is None:
        return
    del loaded.facts.inbox[instance_id]
    view = engine.item(instance_id)
    if view is None or view.state != "active":
        return
    spec = loaded.bundle.human_tasks.get(view.definition_id, HumanTaskSpec())
    events: list[dict[str, Any]] = []
    if spec.result:
        events += engine.set_variables({spec.result: result})
        loaded.facts.set_provenance(spec.result, "trusted", f"person:{actor}")
    events += engine.complete(instance_id)
    record_transitions(step, events, f"person:{actor}")
    sync_inbox(step, loaded)
