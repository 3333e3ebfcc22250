"""A bundle's BPMN process started on its own, worked and shown like a case.

Why a case: everything a process needs when it runs by itself — a record in the store with a
hash-chained history, governed service calls with the bundle's guardrails, inbox items with
their roles, ``decide`` with form values, crash resumption, timers fired by a worker, the
API's, CLI's and page's views of a case — is what a case already has when a CMMN process
task runs the process (``_process_tasks``). So a process started on its own *is* such a
case: its plan model is a one-task wrapper (:func:`process_bundle`) — one process task
bound to the process, with every starting variable as its input and every variable
the process ends with as its output, and a milestone its completion reaches — so the plan
completes when the process does, and a failed process fails the case (``_process_tasks._fault``)
rather than letting the plan complete over a failed task. Nothing is copied:
the wrapper is built from the deployed bundle (once per version, ``BundleCache``; the case
remembers its process in ``AgentFacts.process``), and every path afterwards is the process task's.

The process starts with the case (:func:`start_process_case`): the wrapper's task is active
at once and, in-process, its process runs to its first wait state under the case's lease, in
the call that starts it. Behind a service with workers (``start_case(..., queued=True)``) the
call only creates the case — whose creating step queues its run — and a worker starts the
process: a request never makes the process's service calls itself. Either way, should the process not
have started (a worker died first), the case's next ``run`` offers ``start_process`` and the
agent starts it (governed as ``startProcess``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

from casepilot.agent._bundle_processes import ProcessBinding
from casepilot.agent.bundle import CaseBundle
from casepilot.errors import DefinitionError, NotFound
from casepilot.tools import BindingSet

if TYPE_CHECKING:
    from casepilot.agent._loaded_case import LoadedCase
    from casepilot.agent.orchestrator import Orchestrator
    from casepilot.governance.budget import BudgetLimits

__all__ = ["PROCESS_TASK", "ProcessView", "check_process", "process_bundle", "process_of", "process_views",
           "start_process_case"]

PROCESS_TASK = "cp_process"
"""The wrapper's process task (its definition id; its plan item is ``cp_process_item``)."""


def check_process(bundle: CaseBundle, process_id: str) -> None:
    """``NotFound`` unless ``process_id`` is a BPMN process of the bundle, saying which there are."""
    if bundle.processes is None:
        raise NotFound(f"definition {bundle.key!r} has no BPMN processes to start (declare the .bpmn files "
                       "under `processes:` in its casepilot.yaml)")
    if process_id not in bundle.processes.processes:
        raise NotFound(f"definition {bundle.key!r} has no BPMN process {process_id!r}; its processes: "
                       f"{', '.join(sorted(bundle.processes.processes))}")


def process_of(state: Mapping[str, Any]) -> str | None:
    """The process a stored case state runs on its own (None: a CMMN case) — for listings, which
    read rows without loading the cases."""
    agent = state.get("agent")
    process = agent.get("process") if isinstance(agent, Mapping) else None
    return process if isinstance(process, str) else None


def _wrapper_xml(process_id: str, name: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="cp_process_defs"
             targetNamespace="https://casepilot.dev/process-case">
  <case id="cp_process_case" name={quoteattr(name)}>
    <casePlanModel id="cp_process_plan" name={quoteattr(name)}>
      <planItem id="cp_process_item" name={quoteattr(name)} definitionRef="{PROCESS_TASK}"/>
      <planItem id="cp_process_done" name="Process completed" definitionRef="cp_done">
        <entryCriterion id="cp_done_when" sentryRef="cp_process_completed"/>
      </planItem>
      <sentry id="cp_process_completed">
        <planItemOnPart id="cp_on_complete" sourceRef="cp_process_item"><standardEvent>complete</standardEvent></planItemOnPart>
      </sentry>
      <processTask id="{PROCESS_TASK}" name={quoteattr(name)} processRef={quoteattr(process_id)}/>
      <milestone id="cp_done" name="Process completed"/>
    </casePlanModel>
  </case>
</definitions>
"""


def process_bundle(bundle: CaseBundle, process_id: str) -> CaseBundle:
    """The bundle as a case of process ``process_id`` sees it: the one-task wrapper as its plan,
    the bundle's processes, decisions, governance and prices (``NotFound``: no such process)."""
    from casepilot.cmmn.parser import parse_bytes

    check_process(bundle, process_id)
    assert bundle.processes is not None
    definition = bundle.processes.processes[process_id]
    try:
        definitions = parse_bytes(_wrapper_xml(process_id, definition.name or process_id),
                                  file=f"{bundle.key}: process {process_id}")
    except DefinitionError as exc:  # not expected: the wrapper is ours; say which process it was
        raise DefinitionError(f"process {process_id!r} cannot be started on its own: {exc.message}") from exc
    return dataclasses.replace(
        bundle, definitions=definitions, case=definitions.case(), bindings=BindingSet(),
        human_tasks=MappingProxyType({}), decision_tasks=MappingProxyType({}), case_tasks=MappingProxyType({}),
        process_tasks=MappingProxyType({PROCESS_TASK: ProcessBinding(process_id, (), (), all_outputs=True)}))


def start_process_case(orch: Orchestrator, definition_key: str, process_id: str, variables: Mapping[str, Any], *,
                       business_key: str | None, tenant: str | None, actor: str,
                       budget: BudgetLimits | None = None, start: bool = True) -> str:
    """Create the case of process ``process_id`` and run the process to its first wait state
    (``start=False``, behind a service with workers: leave that to the run the case's creation
    queued); its id."""
    from casepilot.agent._process_tasks import start_process

    definition = orch.store.definition(definition_key)
    check_process(orch.runtime.bundle(definition_key, definition.version), process_id)
    case_id = orch.runtime.create_case(definition_key, dict(variables), business_key=business_key, tenant=tenant,
                                       actor=actor, budget=budget, process=process_id)
    if not start:
        return case_id  # workers: the run queued with the case starts the process
    with orch.leases.hold(case_id):
        loaded = orch.runtime.load(case_id)
        assert loaded.engine is not None
        task = next(v for v in loaded.engine.items() if v.definition_id == PROCESS_TASK)
        if task.state == "active" and task.instance_id not in loaded.facts.processes:
            start_process(orch.runtime, loaded, {"instance_id": task.instance_id}, actor=actor)
    return case_id


@dataclass(frozen=True, slots=True)
class ProcessView:
    """A BPMN process of a case as people see it: where its tokens are, what it holds, its drawing."""

    instance_id: str
    """The process task instance running it (a process case: its wrapper's task)."""
    process_id: str
    name: str
    status: str
    """running | waiting | completed | failed (the last two: the process ended)."""
    active: tuple[str, ...]
    """Element ids holding a token now."""
    completed: tuple[str, ...]
    variables: Mapping[str, Any]
    """The process's variables, pseudonymised like the case file (empty once it ended: its outputs
    are in the case file)."""
    next_timer: str | None
    svg: str | None
    """The diagram from the model's BPMN DI with the tokens marked (None: the model has no DI)."""


def process_views(loaded: LoadedCase, *, with_svg: bool = True) -> list[ProcessView]:
    """The BPMN processes of the case — running ones and ended ones — oldest first."""
    from casepilot.bpmn.instance import ProcessInstance

    definitions = loaded.bundle.processes
    if definitions is None:
        return []
    views: list[ProcessView] = []
    for instance_id, entry in loaded.facts.processes.items():
        state = entry.get("runner") or {}
        process_id = str(state.get("process_id"))
        if process_id not in definitions.processes:
            continue
        instance = ProcessInstance.load(definitions, json.dumps(state["process"]), process_id=process_id)
        views.append(_view(loaded, instance_id, process_id, str(state.get("status", "waiting")),
                           tuple(instance.active_elements()), tuple(instance.completed_elements()),
                           dict(instance.data), entry.get("next_timer"), with_svg))
    for instance_id, ended in loaded.facts.processes_ended.items():
        process_id = str(ended.get("process_id"))
        if process_id in definitions.processes and instance_id not in loaded.facts.processes:
            views.append(_view(loaded, instance_id, process_id, str(ended.get("status")), (),
                               tuple(ended.get("completed") or ()), {}, None, with_svg))
    return views


def _view(loaded: LoadedCase, instance_id: str, process_id: str, status: str, active: tuple[str, ...],
          completed: tuple[str, ...], variables: dict[str, Any], next_timer: Any, with_svg: bool) -> ProcessView:
    from casepilot.agent.privacy import jsonable

    assert loaded.bundle.processes is not None
    definition = loaded.bundle.processes.processes[process_id]
    svg = definition.diagram.svg(active, completed) if with_svg and definition.diagram is not None else None
    return ProcessView(instance_id, process_id, definition.name or process_id, status, active, completed,
                       dict(jsonable(variables)), str(next_timer) if next_timer else None, svg)
