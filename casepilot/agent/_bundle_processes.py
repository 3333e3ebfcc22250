"""The BPMN part of a case bundle: its processes (``processes:``) and the process tasks bound to them.

Apart from ``bundle`` because it is one job — read the ``.bpmn`` files with the bundle's DMN
models (``casepilot.bpmn.load_processes``: every problem listed), check that their service
tasks call registered tools, and bind each process task without a tool binding to the process
its ``processRef`` names — and SpiffWorkflow is imported only for bundles that have processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from casepilot.agent.manifest import Manifest
from casepilot.cmmn.definitions import Case, Parameter, ProcessTask
from casepilot.errors import DefinitionError
from casepilot.tools import BindingSet, ToolRegistry

if TYPE_CHECKING:
    from casepilot.bpmn import ProcessDefinitions

__all__ = ["ProcessBinding", "check_process_tools", "load_bundle_processes", "parameter_names", "process_tasks",
           "process_tools"]


@dataclass(frozen=True, slots=True)
class ProcessBinding:
    """A process task bound to a BPMN process of the bundle (``processes:``; no tool binding)."""

    process_id: str
    inputs: tuple[str, ...]
    """Case-file names the process starts with (all variables when the task declares no inputs)."""
    outputs: tuple[str, ...]
    """Process variables copied into the case file (same names) when the process completes."""
    all_outputs: bool = False
    """Copy every variable the process ends with (a process started on its own: ``_process_cases``)."""


def parameter_names(case: Case, params: tuple[Parameter, ...]) -> tuple[str, ...]:
    """The case-file names task parameters bind to (the parameter's own name when unbound)."""
    found = []
    for p in params:
        item = case.case_file_items_by_id.get(p.binding_ref) if p.binding_ref else None
        name = (item.name if item else None) or p.name
        if name:
            found.append(name)
    return tuple(found)


def load_bundle_processes(manifest: Manifest, root: Path, file: str) -> ProcessDefinitions | None:
    """The bundle's BPMN processes, validated together with its DMN models (every problem listed)."""
    if not manifest.processes:
        return None
    from casepilot.bpmn import load_processes  # SpiffWorkflow is imported only by bundles with processes

    missing = [n for n in manifest.processes if not (root / n).is_file()]
    if missing:
        raise DefinitionError(f"processes: no file {', '.join(missing)} beside the manifest", file=file)
    return load_processes([root / n for n in manifest.processes],
                          decisions=[root / n for n in manifest.decisions])


def process_tools(processes: ProcessDefinitions | None) -> dict[str, str]:
    """Service task element id -> the tool it calls, over every process (and sub-process) of the bundle."""
    if processes is None:
        return {}
    from casepilot.bpmn._specs import CpServiceTask

    found: dict[str, str] = {}
    for definition in processes.processes.values():
        for spec in (definition.spec, *definition.subprocess_specs.values()):
            for task_spec in spec.task_specs.values():
                if isinstance(task_spec, CpServiceTask):
                    found[f"{definition.id}/{task_spec.bpmn_id}"] = str(task_spec.extensions.get("tool", ""))
    return found


def check_process_tools(tools: Mapping[str, str], registry: ToolRegistry, file: str) -> None:
    """Every service task of the bundle's processes calls a tool the registry has (checked at deploy)."""
    problems = [DefinitionError(f"service task {element!r} calls the tool {tool!r}, which is not registered "
                                "(add it to the bundle's `tools:`)", file=file, element=element.split("/", 1)[1])
                for element, tool in sorted(tools.items()) if tool not in registry]
    if problems:
        raise DefinitionError(f"{len(problems)} service task(s) of the processes call unknown tools: "
                              + "; ".join(p.message for p in problems), file=file, problems=problems)


def process_tasks(manifest: Manifest, case: Case, bindings: BindingSet, processes: ProcessDefinitions | None,
                   file: str) -> dict[str, ProcessBinding]:
    """Process tasks without a tool binding whose ``processRef`` names a process of ``processes:``.

    A process task naming none stays what it was without processes (external work the case
    waits for) — unless the bundle declares processes: then a ``processRef`` naming none of them
    is a mistake, reported with the ones there are."""
    out: dict[str, ProcessBinding] = {}
    problems: list[DefinitionError] = []
    for definition in case.definitions.values():
        if not isinstance(definition, ProcessTask) or definition.id in bindings or not definition.process_ref:
            continue
        if processes is None:
            continue
        if definition.process_ref not in processes.processes:
            problems.append(DefinitionError(
                f"process task {definition.name or definition.id!r} refers to process {definition.process_ref!r}, "
                f"which is in none of the bundle's BPMN files (processes: {', '.join(sorted(processes.processes))})",
                file=file, element=definition.id))
            continue
        out[definition.id] = ProcessBinding(definition.process_ref, parameter_names(case, definition.inputs),
                                            parameter_names(case, definition.outputs))
    if problems:
        raise DefinitionError("process tasks cannot be bound", file=file, problems=problems)
    return out
