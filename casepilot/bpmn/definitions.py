"""Deploying BPMN: safe XML in, validated and frozen process definitions out.

``load_processes`` reads every file with casepilot's hardened XML loader (no DTD, no
entities, no network, size limit), runs :mod:`casepilot.bpmn.validate` over all of them and
raises one ``DefinitionError`` listing every problem, then hands the already-parsed trees to
SpiffWorkflow's parser (it never opens a file or parses text itself) and finishes the specs
with casepilot's task classes. The result is immutable: runtime state lives in
:class:`casepilot.bpmn.ProcessInstance`, which only reads the specs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import EndEvent, IntermediateThrowEvent
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition

from casepilot._xml import parse_xml
from casepilot.dmn import DecisionModel
from casepilot.errors import DefinitionError

from ._compensation import (
    CompensationEndParser,
    CompensationMaps,
    CompensationThrowParser,
    CpCompensateEnd,
    CpCompensateThrow,
    compensation_maps,
    handler_elements,
    spiff_copy,
)
from ._names import tag
from ._specs import TIMER_CLASSES, CpBusinessRuleTask, CpServiceTask, CpUserTask
from .diagram import ProcessDiagram, diagram_of
from .validate import check_document, extension_info

_EXTENDED = (tag("serviceTask"), tag("userTask"), tag("businessRuleTask"))

__all__ = ["ProcessDefinition", "ProcessDefinitions", "load_processes"]

Source = str | bytes | Path


class _SafeParser(BpmnParser):  # type: ignore[misc]
    """SpiffWorkflow's parser, fed only trees parsed by ``casepilot._xml``."""

    OVERRIDE_PARSER_CLASSES: ClassVar[dict[str, tuple[type, type]]] = {
        full_tag("userTask"): (TaskParser, CpUserTask),
        full_tag("serviceTask"): (TaskParser, CpServiceTask),
        full_tag("businessRuleTask"): (TaskParser, CpBusinessRuleTask),
        full_tag("intermediateThrowEvent"): (CompensationThrowParser, IntermediateThrowEvent),
        full_tag("endEvent"): (CompensationEndParser, EndEvent),
    }

    def add_bpmn_files(self, filenames: Any) -> None:
        raise DefinitionError("casepilot.bpmn reads files through load_processes (hardened XML loading)")

    def add_bpmn_io(self, file_like_object: Any, filename: Any = None) -> None:
        raise DefinitionError("casepilot.bpmn reads files through load_processes (hardened XML loading)")

    def add_bpmn_str(self, bpmn_str: Any, filename: Any = None) -> None:
        raise DefinitionError("casepilot.bpmn reads files through load_processes (hardened XML loading)")


@dataclass(frozen=True, slots=True)
class ProcessDefinition:
    """One executable process and the sub-process / called-process specs it needs."""

    id: str
    name: str
    file: str | None
    spec: Any = field(repr=False)
    """SpiffWorkflow's ``BpmnProcessSpec`` (read-only by convention: instances never change it)."""
    subprocess_specs: Mapping[str, Any] = field(repr=False)
    diagram: ProcessDiagram | None = field(default=None, repr=False)
    """The layout drawn in the model (BPMN DI), when it has one."""


@dataclass(frozen=True, slots=True)
class ProcessDefinitions:
    """Every process deployed together, plus the DMN decisions their business-rule tasks use."""

    processes: Mapping[str, ProcessDefinition]
    decisions: Mapping[str, DecisionModel] = field(default_factory=lambda: MappingProxyType({}))
    """Decision id or name -> the model defining it."""

    def process(self, process_id: str | None = None) -> ProcessDefinition:
        """The process ``process_id`` (the only one when omitted)."""
        if process_id is None:
            if len(self.processes) != 1:
                raise DefinitionError(f"several processes are deployed ({', '.join(sorted(self.processes))}): "
                                      f"name the one to start")
            return next(iter(self.processes.values()))
        found = self.processes.get(process_id)
        if found is None:
            raise DefinitionError(f"no executable process {process_id!r}; the deployed ones are "
                                  f"{', '.join(sorted(self.processes)) or 'none'}")
        return found


def _read(source: Source, max_bytes: int | None) -> tuple[etree._Element, str | None]:
    if isinstance(source, Path):
        return parse_xml(source, max_bytes=max_bytes), str(source)
    return parse_xml(source, max_bytes=max_bytes), None


def _decision_index(models: Iterable[DecisionModel]) -> dict[str, DecisionModel]:
    index: dict[str, DecisionModel] = {}
    for model in models:
        for info in model.decisions:
            index.setdefault(info.id, model)
            index.setdefault(info.name, model)
    return index


def load_processes(
    sources: Sequence[Source] | Source,
    *,
    decisions: Iterable[DecisionModel | Source] = (),
    max_bytes: int | None = None,
) -> ProcessDefinitions:
    """Parse, validate and freeze BPMN documents (paths, or XML bytes/text).

    ``decisions`` are the DMN models (or their files) business-rule tasks may name.
    Raises ``DefinitionError`` listing every problem (file:line and element id each).
    """
    items = [sources] if isinstance(sources, (str, bytes, Path)) else list(sources)
    models = [d if isinstance(d, DecisionModel) else DecisionModel.from_xml(d) for d in decisions]
    index = _decision_index(models)
    docs: list[tuple[etree._Element, str | None]] = []
    problems: list[DefinitionError] = []
    for source in items:
        try:
            docs.append(_read(source, max_bytes))
        except DefinitionError as exc:
            problems.append(exc)
    process_ids = {str(p.get("id")) for root, _ in docs for p in root.iter(tag("process")) if p.get("id")}
    for root, file in docs:
        problems.extend(check_document(root, file, process_ids=process_ids,
                                       decisions=frozenset(index) if models else frozenset()))
    if problems:
        raise _combined(problems)
    parser = _SafeParser()
    maps: CompensationMaps = {}
    try:
        for root, file in docs:
            maps.update(compensation_maps(root))
            parser.add_bpmn_xml(spiff_copy(root), file)
        executable = parser.get_process_ids()
        specs: dict[str, Any] = {}
        while pending := [pid for pid in list(parser.process_parsers) if pid not in specs]:
            for pid in pending:  # parsing a sub-process may register further parsers
                specs[pid] = parser.get_spec(pid)
                for handler in handler_elements(parser.process_parsers[pid].node):
                    parser.process_parsers[pid].parse_node(handler)  # disconnected: run by compensation
    except ValidationException as exc:
        raise DefinitionError(f"{exc}", file=getattr(exc, "file_name", None),
                              line=getattr(exc, "line_number", None), element=getattr(exc, "id", None)) from exc
    except Exception as exc:  # SpiffWorkflow's parser raises whatever it meets (KeyError, TypeError…)
        raise DefinitionError(f"the model cannot be run: {type(exc).__name__}: {exc}",
                              file=docs[0][1] if len(docs) == 1 else None) from exc
    for pid, spec in specs.items():
        node = parser.process_parsers[pid].node
        _finish(spec, {str(el.get("id")): el for el in node.iter(*_EXTENDED) if el.get("id")}, maps.get(pid, {}))
    processes: dict[str, ProcessDefinition] = {}
    files = {p.get("id"): f for root, f in docs for p in root.iter(tag("process"))}
    roots = {p.get("id"): root for root, _ in docs for p in root.iter(tag("process"))}
    for pid in executable:
        if pid not in specs:
            continue
        needed = _subprocess_specs(pid, specs)
        processes[pid] = ProcessDefinition(pid, specs[pid].description or pid, files.get(pid), specs[pid],
                                           MappingProxyType(needed), diagram_of(roots[pid], pid))
    if not processes:
        raise DefinitionError("no executable process (isExecutable=\"true\") in the BPMN given",
                              file=docs[0][1] if docs else None)
    return ProcessDefinitions(MappingProxyType(processes), MappingProxyType(index))


def _combined(problems: list[DefinitionError]) -> DefinitionError:
    if len(problems) == 1:
        return problems[0]
    first = problems[0]
    return DefinitionError(f"{len(problems)} problems", file=first.file, problems=problems)


def _subprocess_specs(pid: str, specs: Mapping[str, Any]) -> dict[str, Any]:
    needed: dict[str, Any] = {}
    todo = [pid]
    while todo:
        for task_spec in specs[todo.pop()].task_specs.values():
            name = getattr(task_spec, "spec", None)
            if isinstance(name, str) and name in specs and name not in needed and name != pid:
                needed[name] = specs[name]
                todo.append(name)
    return needed


def _finish(spec: Any, elements: Mapping[str, etree._Element], handlers: Mapping[str, str]) -> None:
    """Give casepilot's task specs their extensions, compensation throws their scope's handlers and
    timers the engine's clock."""
    throws = [t for t in spec.task_specs.values() if isinstance(t, (CpCompensateThrow, CpCompensateEnd))]
    for throw in throws:
        throw.compensation["handlers"] = dict(handlers)
    for handler in set(handlers.values()):
        if handler in spec.task_specs:  # a handler is entered from the throw events (SpiffWorkflow checks inputs)
            spec.task_specs[handler].inputs = list(throws)
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, (CpServiceTask, CpUserTask, CpBusinessRuleTask)):
            el = elements.get(task_spec.bpmn_id)
            task_spec.extensions = extension_info(el) if el is not None else {}
        event_definition = getattr(task_spec, "event_definition", None)
        if event_definition is None:
            continue
        nested = event_definition.event_definitions if isinstance(event_definition, MultipleEventDefinition) else []
        for definition in [event_definition, *nested]:
            replacement = TIMER_CLASSES.get(type(definition))
            if replacement is not None:
                definition.__class__ = replacement
