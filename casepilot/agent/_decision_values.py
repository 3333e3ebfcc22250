"""A decision's typed values on their way in: checked against what the human task declares and
pseudonymised, before ``Orchestrator.decide`` writes them with the decision.

One place for every path into a case — Python, CLI, HTTP API, page — so each checks the same
way (``task_fields``) and none writes clear personal data typed into a text field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from casepilot.agent._inbox import task_spec
from casepilot.agent.manifest import TaskFieldSpec
from casepilot.agent.task_fields import InvalidTaskValues, check_task_values
from casepilot.store.models import HumanTask

if TYPE_CHECKING:
    from casepilot.agent.context import AgentRuntime

__all__ = ["declared_fields", "prepared_values"]


def declared_fields(rt: AgentRuntime, task: HumanTask) -> dict[str, TaskFieldSpec]:
    """The fields the human task behind an open inbox item declares (none for checkpoints)."""
    if task.kind != "human_task" or task.status != "open":
        return {}
    spec = task_spec(rt.load(task.case_id), task.id)
    return dict(spec.fields) if spec is not None else {}


def prepared_values(rt: AgentRuntime, task: HumanTask, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` checked against the task's fields (``InvalidTaskValues`` listing every problem),
    typed as the case file keeps them, text pseudonymised like the decision's comment."""
    fields = declared_fields(rt, task)
    if values and not fields:
        raise InvalidTaskValues(f"inbox item {task.id} takes no values: its task declares no fields",
                                problems=[InvalidTaskValues(f"{name}: this task declares no fields") for name in values])
    typed = check_task_values(task.plan_item or task.prompt, fields, values)
    texts = {name: value for name, value in typed.items() if fields[name].type == "string"}
    if texts and rt.privacy is not None:
        typed.update(rt.privacy.redact_value(texts, task.case_id)[0])
    return typed
