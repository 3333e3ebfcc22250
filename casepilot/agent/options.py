"""Turning what the case allows now into options a planner may choose.

The CMMN engine's ``activatable()`` lists every possible transition; the agent offers a
subset, with the tools bound to tasks:

* an active task bound to a tool → ``run_task`` (run the tool, map its results into the
  case file, complete the task);
* an active decision task bound to a tool → ``decide`` (the same, for the DMN ``decide`` tool);
* an active process task bound to a BPMN process of the bundle → ``start_process`` (the
  process runs governed, step by step, and completes or faults the task: ``_process_tasks``);
* an enabled item → ``start``;
* a discretionary item that may be planned now → ``plan`` (unless the model authorises only
  certain roles to plan it: then it is people's, see ``people``);
* always ``wait``.

Human tasks are never offered: they go to the inbox and people complete them. User event
listeners are never offered: only people make them occur. Unbound tasks are external work
the case waits for. Actions a person rejected are not offered again.

In a step, an applicability rule that reads erased personal data fails the listing (and the
step writer fails the case). A read-only listing passes ``unavailable``: such an item is then
not offered but listed there, with the reason (``_case_reveal.Unavailable``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from casepilot.agent._case_reveal import Unavailable
from casepilot.agent.engine import EngineCase, ItemView
from casepilot.agent.people import discretionary_roles
from casepilot.agent.planning import ActionOption
from casepilot.cmmn.runtime.actions import Action, PlanDiscretionary, StartItem
from casepilot.tools import BindingSet, FromCaseFile, Provenance, ToolBinding, ToolRegistry, build_arguments

__all__ = ["WAIT", "build_options"]

WAIT = ActionOption(id="wait", kind="wait", label="Wait for people or events", description="nothing to do now")


_SCHEMAS: dict[type[BaseModel], Mapping[str, Any]] = {}


def _schema(model: type[BaseModel]) -> Mapping[str, Any]:
    """A tool's JSON argument schema, built once per model class (pydantic builds it anew each call)."""
    schema = _SCHEMAS.get(model)
    if schema is None:
        schema = _SCHEMAS[model] = MappingProxyType(model.model_json_schema())
    return schema


def _stage_name(items: Mapping[str, ItemView], view: ItemView) -> str | None:
    parent = items.get(view.stage_instance) if view.stage_instance else None
    if parent is None or parent.kind == "casePlanModel":
        return None
    return parent.name


def build_options(
    engine: EngineCase,
    bindings: BindingSet,
    registry: ToolRegistry,
    variables: Mapping[str, Any],
    provenance: Mapping[str, Provenance],
    decisions: Collection[str] = (),
    child_cases: Mapping[str, str] | None = None,
    started_children: Collection[str] = (),
    processes: Mapping[str, str] | None = None,
    started_processes: Collection[str] = (),
    unavailable: list[Unavailable] | None = None,
) -> tuple[list[ActionOption], dict[str, Mapping[str, Provenance]]]:
    """The options of this step and the provenance of each option's default arguments.

    ``decisions`` are the decision task definitions bound to a DMN decision of the bundle;
    ``child_cases`` maps case task definitions to the definition key of their child case;
    ``started_children`` are case task instances whose child case already runs;
    ``processes`` maps process task definitions to the BPMN process they run and
    ``started_processes`` are process task instances whose process already runs.
    ``unavailable``: a read-only listing's (see the module docstring).
    """
    views = {v.instance_id: v for v in engine.items()}
    options: list[ActionOption] = []
    arg_provenance: dict[str, Mapping[str, Provenance]] = {}
    for view in views.values():
        if view.state != "active" or view.kind not in ("task", "processTask", "decisionTask", "caseTask"):
            continue
        binding = bindings.get(view.definition_id)
        if binding is None:
            child_key = (child_cases or {}).get(view.definition_id)
            if view.kind == "caseTask" and child_key is not None and view.instance_id not in started_children:
                options.append(ActionOption(
                    id=f"child:{view.instance_id}", kind="start_child", label=view.name, plan_item=view.element_id,
                    instance_id=view.instance_id, stage=_stage_name(views, view), required=view.required,
                    description=f"start a child case of {child_key!r}"))
            process_id = (processes or {}).get(view.definition_id)
            if view.kind == "processTask" and process_id is not None and view.instance_id not in started_processes:
                options.append(ActionOption(
                    id=f"process:{view.instance_id}", kind="start_process", label=view.name,
                    plan_item=view.element_id, instance_id=view.instance_id, stage=_stage_name(views, view),
                    required=view.required, description=f"run the BPMN process {process_id!r}"))
            if view.kind == "decisionTask" and view.definition_id in decisions:
                options.append(ActionOption(
                    id=f"decide:{view.instance_id}", kind="decide", label=view.name, plan_item=view.element_id,
                    instance_id=view.instance_id, stage=_stage_name(views, view), required=view.required,
                    description="evaluate the task's DMN decision"))
            continue
        bound = build_arguments(binding, variables, provenance)
        bound_provenance = _tainted_inside(binding, bound.provenance, provenance)
        tool = registry.get(binding.tool)
        option = ActionOption(
            id=f"{'decide' if view.kind == 'decisionTask' else 'run'}:{view.instance_id}",
            kind="decide" if view.kind == "decisionTask" else "run_task",
            label=view.name,
            plan_item=view.element_id,
            instance_id=view.instance_id,
            stage=_stage_name(views, view),
            tool=binding.tool,
            arguments_schema=_schema(tool.args_model),
            default_arguments=dict(bound.values),
            required=view.required,
            description=tool.description,
        )
        options.append(option)
        arg_provenance[option.id] = bound_provenance
    people_only: dict[str, tuple[str, ...]] | None = None
    for action in engine.possible(unavailable):
        if isinstance(action, PlanDiscretionary):
            # Items the model authorises for certain roles are planned by people holding them
            # (``Orchestrator.perform``); the agent holds no role.
            people_only = discretionary_roles(engine.case) if people_only is None else people_only
            if people_only.get(action.item):
                continue
        engine_option = _engine_option(action, views)
        if engine_option is not None:
            options.append(engine_option)
    options.append(WAIT)
    return options, arg_provenance


def _tainted_inside(binding: ToolBinding, bound: Mapping[str, Provenance],
                    provenance: Mapping[str, Provenance]) -> Mapping[str, Provenance]:
    """Arguments that read a whole variable with an untrusted part inside are untrusted.

    ``build_arguments`` gives an argument the provenance of the longest recorded prefix of
    its path, which covers ``claim.amount`` read from an untrusted ``claim``. The other way
    round — reading ``claim`` (trusted, from the request) after a tool wrote
    ``claim.amount`` into it — the argument carries the tool's value too, so it must not
    pass as trusted: the untrusted part's provenance wins.
    """
    tainted: dict[str, Provenance] | None = None
    for arg, source in binding.arguments.items():
        found = bound.get(arg)
        if not isinstance(source, FromCaseFile) or found is None or not found.is_trusted:
            continue
        prefix = f"{source.path}."
        inner = next((p for path, p in provenance.items() if path.startswith(prefix) and not p.is_trusted), None)
        if inner is not None:
            tainted = dict(bound) if tainted is None else tainted
            tainted[arg] = Provenance(inner.trust, inner.source, via=source.path)
    return bound if tainted is None else tainted


def _engine_option(action: Action, views: Mapping[str, ItemView]) -> ActionOption | None:
    if isinstance(action, StartItem):
        view = views.get(action.instance)
        if view is None or view.kind == "humanTask":
            return None
        return ActionOption(
            id=f"start:{action.instance}",
            kind="start",
            label=action.name,
            plan_item=view.element_id,
            instance_id=action.instance,
            stage=_stage_name(views, view),
            required=view.required,
        )
    if isinstance(action, PlanDiscretionary):
        return ActionOption(
            id=f"plan:{action.item}:{action.owner}",
            kind="plan",
            label=action.name,
            plan_item=action.item,
            instance_id=action.owner,
            stage=views[action.stage].name if action.stage in views else None,
        )
    return None


def without_rejected(options: Iterable[ActionOption], rejected_ids: Iterable[str]) -> list[ActionOption]:
    """Options minus those a person rejected (matched by option id)."""
    gone = set(rejected_ids)
    return [o for o in options if o.id not in gone]
