"""Compensation (BPMN 2.0 §10.7, §13.5.5): undoing completed work, on top of SpiffWorkflow.

SpiffWorkflow 3.2 has no compensation, so casepilot adds the part of it that failure
recovery needs, with SpiffWorkflow still running every task:

* a **compensation boundary event** on an activity, associated with a **compensation
  handler** (an activity with ``isForCompensation="true"``, no sequence flows), says how to
  undo that activity once it has completed;
* a **compensation throw event** (intermediate or end) compensates the completed activities
  of its scope (the process or sub-process it is in) that have a handler — or only the one
  its ``activityRef`` names — in **reverse order of their completion**, each activity once
  (§13.5.5: "compensation ... in reverse order of the completion"; an activity that has not
  completed is not compensated). The throw event waits until the handlers are done
  (``waitForCompletion``, the default; ``false`` is refused at deploy), then the token goes
  on (intermediate) or ends (end event).

How it runs: SpiffWorkflow never sees the compensation boundary events (they are taken out
of the copy of the model it parses); the handlers are parsed as disconnected task specs of
their scope. A throw event's task plans the handlers when it runs and stays STARTED;
:func:`drive` (called by the instance after every engine run) adds one handler task at a
time as a child of the throw event's task — the handler is a normal SpiffWorkflow task
(a service call for the host, a user task for a person…) — merges its data back when it
completes and completes the throw event after the last one. The plan lives in the task's
``internal_data``, so a process dumped mid-compensation goes on after a load.

Not supported (refused at deploy): compensation event sub-processes, compensation
catch/start events, ``waitForCompletion="false"``. A completed sub-process is compensated
by its own handler only (its inner activities are not compensated from outside).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn.parser.event_parsers import EndEventParser, IntermediateThrowEventParser
from SpiffWorkflow.bpmn.specs.defaults import EndEvent, IntermediateThrowEvent
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.util.task import TaskState

from casepilot.errors import DefinitionError

from ._names import tag

__all__ = ["CompensationMaps", "CpCompensateEnd", "CpCompensateThrow", "check_compensation", "compensation_maps",
           "drive", "handler_elements", "spiff_copy"]

COMPENSATE = tag("compensateEventDefinition")
PLAN_KEY = "cp_compensation"
"""internal_data key of a throw event's task: the handlers still to run and the one running."""
DONE_KEY = "cp_compensated"
"""internal_data key of a completed activity's task once its compensation was planned."""
_SCOPES = (tag("process"), tag("subProcess"), tag("transaction"))
_THROWS = (tag("intermediateThrowEvent"), tag("endEvent"))

CompensationMaps = dict[str, dict[str, str]]
"""Scope id (process or sub-process) -> {compensated activity id: handler id}."""


def _is_compensation(el: etree._Element) -> bool:
    return el.find(COMPENSATE) is not None


def _scope_items(scope: etree._Element) -> Iterable[etree._Element]:
    return (c for c in scope if isinstance(c.tag, str))


def compensation_maps(root: etree._Element) -> CompensationMaps:
    """For every scope of a document: which handler undoes which activity."""
    maps: CompensationMaps = {}
    for scope in root.iter(*_SCOPES):
        boundaries = {str(b.get("id")): str(b.get("attachedToRef")) for b in scope.findall(tag("boundaryEvent"))
                      if _is_compensation(b)}
        found: dict[str, str] = {}
        for assoc in scope.iter(tag("association")):
            source, target = assoc.get("sourceRef"), assoc.get("targetRef")
            if source in boundaries and target:
                found[boundaries[source]] = target
        if found and scope.get("id"):
            maps[str(scope.get("id"))] = found
    return maps


def spiff_copy(root: etree._Element) -> etree._Element:
    """The document SpiffWorkflow parses: compensation boundary events and their associations taken out."""
    if root.find(f".//{COMPENSATE}") is None:
        return root
    doc = copy.deepcopy(root)
    removed: set[str] = set()
    for boundary in list(doc.iter(tag("boundaryEvent"))):
        if _is_compensation(boundary):
            removed.add(str(boundary.get("id")))
            parent = boundary.getparent()
            if parent is not None:
                parent.remove(boundary)
    for assoc in list(doc.iter(tag("association"))):
        if assoc.get("sourceRef") in removed:
            parent = assoc.getparent()
            if parent is not None:
                parent.remove(assoc)
    return doc


def handler_elements(scope: etree._Element) -> list[etree._Element]:
    """The compensation handlers directly inside ``scope`` (parsed as disconnected task specs)."""
    return [c for c in _scope_items(scope) if c.get("isForCompensation") == "true"]


def check_compensation(root: etree._Element, file: str | None) -> list[DefinitionError]:
    """Every compensation problem of one document (boundary events, handlers, throw events)."""
    problems: list[DefinitionError] = []

    def problem(message: str, el: etree._Element) -> None:
        line = el.sourceline if isinstance(el.sourceline, int) else None
        problems.append(DefinitionError(message, file=file, line=line, element=el.get("id")))

    maps = compensation_maps(root)
    for scope in root.iter(*_SCOPES):
        items = {str(c.get("id")): c for c in _scope_items(scope) if c.get("id")}
        flows = [c for c in items.values() if c.tag == tag("sequenceFlow")]
        handled = maps.get(str(scope.get("id")), {})
        handlers = set(handled.values())
        attached: dict[str, int] = {}
        for el in items.values():
            local = etree.QName(el).localname
            if el.tag == tag("boundaryEvent") and _is_compensation(el):
                target = str(el.get("attachedToRef"))
                attached[target] = attached.get(target, 0) + 1
                handler = handled.get(target)
                if handler is None or handler not in items:
                    problem(f"compensation boundary event {el.get('id')!r} has no handler: associate it "
                            f"(bpmn:association sourceRef=\"{el.get('id')}\") with an activity marked "
                            f"isForCompensation=\"true\"", el)
                elif items[handler].get("isForCompensation") != "true":
                    problem(f"compensation boundary event {el.get('id')!r} is associated with {handler!r}, which "
                            f"is not marked isForCompensation=\"true\"", el)
                if any(f.get("sourceRef") == el.get("id") for f in flows):
                    problem(f"compensation boundary event {el.get('id')!r} has an outgoing sequence flow; the "
                            "handler is reached by an association only", el)
            elif el.get("isForCompensation") == "true":
                if any(el.get("id") in (f.get("sourceRef"), f.get("targetRef")) for f in flows):
                    problem(f"compensation handler {el.get('id')!r} has a sequence flow; a handler has none "
                            "(it runs when its activity is compensated)", el)
                if el.get("id") not in handlers:
                    problem(f"compensation handler {el.get('id')!r} is not associated with any compensation "
                            "boundary event, so it never runs", el)
            elif el.tag in _THROWS and _is_compensation(el):
                definition = el.find(COMPENSATE)
                assert definition is not None
                if definition.get("waitForCompletion") == "false":
                    problem(f"{local} {el.get('id')!r}: waitForCompletion=\"false\" is not supported; the "
                            "throw event waits until the handlers have run", el)
                ref = definition.get("activityRef")
                if ref and ref not in handled:
                    problem(f"{local} {el.get('id')!r} compensates activity {ref!r}, which has no compensation "
                            "boundary event in the same process or sub-process", el)
            elif el.tag in (tag("startEvent"), tag("intermediateCatchEvent")) and _is_compensation(el):
                problem(f"{local} {el.get('id')!r}: compensation event sub-processes and catching compensation "
                        "events are not supported; attach a compensation boundary event to the activity", el)
        for target, count in attached.items():
            if count > 1:
                problem(f"activity {target!r} has {count} compensation boundary events; BPMN allows one",
                        items.get(target, scope))
            elif target not in items:
                problem(f"a compensation boundary event is attached to {target!r}, which is not in the same "
                        "process or sub-process", scope)
    return problems


# --------------------------------------------------------------------------- specs and parsers


def _plan(spec: Any, my_task: Any) -> bool:
    """Queue the handlers to run for this throw; True when there are none (the event completes)."""
    info = getattr(spec, "compensation", None) or {}
    handlers: dict[str, str] = info.get("handlers", {})
    ref = info.get("activity_ref")
    scope = my_task.workflow
    done = [t for t in scope.tasks.values()
            if t.task_spec.name in handlers and (ref is None or t.task_spec.name == ref)
            and t.has_state(TaskState.COMPLETED) and not t.internal_data.get(DONE_KEY)]
    # Reverse order of completion; the deeper task completed later when the clock ties.
    done.sort(key=lambda t: (t.last_state_change, t.depth), reverse=True)
    for t in done:
        t.internal_data[DONE_KEY] = True
    if not done:
        return True
    my_task.internal_data[PLAN_KEY] = {"queue": [[handlers[t.task_spec.name], str(t.id)] for t in done],
                                       "current": None}
    return False


class CpCompensateThrow(IntermediateThrowEvent):  # type: ignore[misc]
    """An intermediate compensation throw event: waits while the handlers run."""

    compensation: dict[str, Any]

    def _run_hook(self, my_task: Any) -> bool | None:
        super()._run_hook(my_task)
        return True if _plan(self, my_task) else None


class CpCompensateEnd(EndEvent):  # type: ignore[misc]
    """A compensation end event: the handlers run, then the token ends."""

    compensation: dict[str, Any]

    def _run_hook(self, my_task: Any) -> bool | None:
        super()._run_hook(my_task)
        return True if _plan(self, my_task) else None


def _throw_spec(parser: Any, compensating: type, default: Any) -> Any:
    definition = parser.node.find(COMPENSATE)
    if definition is None:
        return default()
    spec = parser._create_task(NoneEventDefinition(description="Compensation"))
    spec.__class__ = compensating
    spec.compensation = {"activity_ref": definition.get("activityRef") or None, "handlers": {}}
    return spec


class CompensationThrowParser(IntermediateThrowEventParser):  # type: ignore[misc]
    """Intermediate throw events, with compensation ones becoming :class:`CpCompensateThrow`."""

    def create_task(self) -> Any:
        return _throw_spec(self, CpCompensateThrow, super().create_task)


class CompensationEndParser(EndEventParser):  # type: ignore[misc]
    """End events, with compensation ones becoming :class:`CpCompensateEnd`."""

    def create_task(self) -> Any:
        spec = _throw_spec(self, CpCompensateEnd, lambda: None)
        if spec is None:
            return super().create_task()
        spec.connect(self.spec.end)
        return spec


# --------------------------------------------------------------------------- running the handlers


def drive(workflow: Any) -> bool:
    """Move every running compensation one handler on; True if anything changed (run the engine again)."""
    progressed = False
    for task in workflow.get_tasks(state=TaskState.STARTED):
        plan = task.internal_data.get(PLAN_KEY)
        if plan is None or not isinstance(task.task_spec, (CpCompensateThrow, CpCompensateEnd)):
            continue
        current = plan.get("current")
        if current is not None:
            child = task.workflow.tasks.get(UUID(current))
            if child is not None and not child.has_state(TaskState.COMPLETED):
                continue  # the handler waits for the host or a person
            if child is not None:
                task.data.update(child.data)
            plan["current"] = None
        if plan["queue"]:
            handler_id, compensated = plan["queue"].pop(0)
            spec = task.workflow.spec.task_specs[handler_id]
            child = task._add_child(spec, TaskState.FUTURE)
            child.triggered = True  # kept when the throw event's own children are synced
            child.internal_data["cp_compensates"] = compensated
            spec._update(child)
            plan["current"] = str(child.id)
        else:
            del task.internal_data[PLAN_KEY]
            task.complete()
        progressed = True
    return progressed
