"""A running BPMN process: SpiffWorkflow underneath, a small host-facing surface on top.

The host (a case, a worker, a scenario) drives the instance through its wait states:

* :meth:`ProcessInstance.service_calls` — the :class:`ServiceCall` s waiting to be executed
  (tool + FEEL-evaluated arguments); the host runs them (governed, with its tool bindings)
  and answers with :meth:`complete_service` or :meth:`fail_service` (a BPMN error with a
  code, caught by error boundary events, or failing the process when nothing catches it);
* :meth:`user_tasks` / :meth:`complete_user_task` — pending human work with its role;
* :meth:`send_message` — message events (start, intermediate, boundary, receive tasks);
* time: timers read the engine's clock (inject one, e.g. :class:`ManualClock`), and
  :meth:`advance` re-checks them — nothing ever sleeps.

:meth:`dump` gives the runtime state as JSON (no definition in it: :meth:`load` takes the
frozen definition it was started from), so a host persists it at every wait state.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter
from SpiffWorkflow.bpmn.serializer.helpers import DefaultRegistry
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from casepilot.errors import (
    CasepilotError,
    DecisionRejected,
    DefinitionError,
    IllegalTransition,
    UnknownPlanItem,
)
from casepilot.governance.pii.reveal import Revealer

from ._compensation import drive as drive_compensation
from ._specs import CALL_KEY, CASEPILOT_SPEC_CONFIG, TIMER_CLASSES, CpServiceTask, CpUserTask, apply_outputs
from ._values import DECIMAL_TAG, ESCAPED_TAG, escape_data, to_plain, unescape
from .definitions import ProcessDefinition, ProcessDefinitions
from .diagram import DiagramView
from .engine import Clock, FeelScriptEngine

__all__ = ["FormField", "ProcessFailed", "ProcessInstance", "ServiceCall", "UserTaskItem"]


class ProcessFailed(CasepilotError):
    """The process stopped on an error nothing caught (an uncaught BPMN error or a failing step)."""


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """A service task waiting for the host: run ``tool`` with ``arguments``, then answer ``call_id``."""

    call_id: str
    element_id: str
    tool: str
    arguments: Mapping[str, Any]
    inputs: tuple[tuple[str, str], ...] = ()
    """The model's argument mappings (name, FEEL expression) the arguments were evaluated from."""
    name: str = ""
    """The service task's name in the model (its id when it has none)."""


@dataclass(frozen=True, slots=True)
class FormField:
    """One field a person fills in to complete a user task (``cp:field`` / ``camunda:formField``)."""

    name: str
    type: str
    """string, textarea, boolean, number, long, date or enum."""
    label: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class UserTaskItem:
    """A user task waiting for a person with ``role`` (None: anyone), and the form to fill in."""

    task_id: str
    element_id: str
    name: str
    role: str | None
    data: Mapping[str, Any]
    form: tuple[FormField, ...] = ()


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "enum": lambda v: isinstance(v, str),
    "textarea": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, Decimal)) and not isinstance(v, bool),
    "long": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "date": lambda v: isinstance(v, str) and _is_date(v),
}


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text[:10])
    except ValueError:
        return False
    return True


def _form(spec: Any) -> tuple[FormField, ...]:
    fields = (getattr(spec, "extensions", None) or {}).get("form", [])
    return tuple(FormField(f["name"], f["type"], f["label"], bool(f["required"])) for f in fields)


def _check_form(form: tuple[FormField, ...], data: Mapping[str, Any], before: Mapping[str, Any],
                task_id: str) -> None:
    """Check what a person entered (``data``); a required field may also be filled already (``before``)."""
    problems = []
    for field in form:
        value = data.get(field.name)
        if value is None:
            if field.required and before.get(field.name) is None:
                problems.append(f"{field.name!r} is required")
        elif not _CHECKS[field.type](value):
            problems.append(f"{field.name!r} must be a {field.type}, got {value!r}")
    if problems:
        raise DecisionRejected(f"the form of user task {task_id} is not filled in right: {'; '.join(problems)}")


def _decider(definitions: ProcessDefinitions) -> Any:
    def decide(decision: str, inputs: Mapping[str, Any]) -> Any:
        model = definitions.decisions.get(decision)
        if model is None:
            raise ProcessFailed(f"decision {decision!r} is not deployed with the process")
        result = model.evaluate(decision, inputs)
        if not result.ok:
            raise ProcessFailed(f"decision {decision!r} failed: {'; '.join(m.text for m in result.errors)}")
        return to_plain(result.value)
    return decide


_LOCAL = threading.local()
TIMER_TYPES = tuple(TIMER_CLASSES.values())


def _serializer(definition: ProcessDefinition) -> BpmnWorkflowSerializer:
    """One serializer per definition and thread (building its converter registry costs more than a
    dump; SpiffWorkflow's registry keeps a mode flag while encoding, so threads do not share one)."""
    cache: dict[int, tuple[ProcessDefinition, BpmnWorkflowSerializer]] = _LOCAL.__dict__.setdefault("cache", {})
    cached = cache.get(id(definition))
    if cached is not None and cached[0] is definition:
        return cached[1]
    if len(cache) > 256:
        cache.clear()
    serializer = _build_serializer(definition)
    cache[id(definition)] = (definition, serializer)
    return serializer


def _build_serializer(definition: ProcessDefinition) -> BpmnWorkflowSerializer:
    class StateOnly(BpmnWorkflowConverter):  # type: ignore[misc]
        """The workflow without its spec: the frozen definition supplies it at load."""

        def to_dict(self, workflow: Any) -> dict[str, Any]:
            dct: dict[str, Any] = super(BpmnWorkflowConverter, self).to_dict(workflow)
            dct["spec"] = workflow.spec.name
            dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
            dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
            # SpiffWorkflow rebuilds the task tree in the order of the "tasks" mapping, and a
            # store that writes JSON with sorted keys loses that order: keep it in a list.
            for workflow_dct in [dct, *dct["subprocesses"].values()]:
                workflow_dct["task_order"] = list(workflow_dct["tasks"])
            return dct

        def from_dict(self, dct: dict[str, Any]) -> Any:
            if dct.pop("spec") != definition.spec.name:
                raise CasepilotError(f"this state belongs to another process than {definition.id!r}")
            for workflow_dct in [dct, *dct["subprocesses"].values()]:
                order = workflow_dct.pop("task_order", None)
                if order is not None:
                    workflow_dct["tasks"] = {key: workflow_dct["tasks"][key] for key in order}
            workflow = self.target_class(definition.spec, dict(definition.subprocess_specs), deserializing=True,
                                         script_engine=FeelScriptEngine())  # load() gives it the instance's
            workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
            workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
            self.set_default_attributes(workflow, dct)
            self.subprocesses_from_dict(dct["subprocesses"], workflow)
            workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
            return workflow

    config = {**DEFAULT_CONFIG, **CASEPILOT_SPEC_CONFIG, BpmnWorkflow: StateOnly, Task: _DataTaskConverter}
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config, registry=_data_registry()))


_SCALARS = frozenset({str, int, float, bool, type(None)})
"""What JSON text loads as besides dicts and lists: restored as they are (no call per value)."""


class _DataRegistry(DefaultRegistry):  # type: ignore[misc]
    """SpiffWorkflow's registry, which keeps process data exact (``_values``): an amount is stored as
    ``{"typename": "Decimal", "value": "1250.50"}`` and loaded as the same ``Decimal``, and a dict of
    the data that has a ``typename`` key of its own is stored escaped (``_values.ESCAPED_TAG``) and
    loaded as the same dict — never as a tagged value of the serializer's (or a failed load).

    The registry converts the engine's objects and the data alike; a *plain* dict it is given is
    always data (the engine's own objects come as instances of registered classes), which is where
    the escape applies: in the JSON encoder's mode, which leaves nested dicts to ``json.dumps``, to
    the whole dict at once (:func:`_values.escape_data`); otherwise level by level.
    """

    def convert(self, obj: Any, **kwargs: Any) -> Any:
        if isinstance(obj, dict) and obj.__class__ not in self.typenames:
            if self._encoder_mode:
                return escape_data(self.clean(obj))
            converted = super().convert(obj, **kwargs)
            return {"typename": ESCAPED_TAG, "items": converted} if "typename" in converted else converted
        return super().convert(obj, **kwargs)

    def data(self, value: Any) -> Any:
        """A task's data (or its changes) as the task converter stores it: escaped, the rest left to the
        JSON encoder as SpiffWorkflow leaves it (callables included); converted in full otherwise."""
        return escape_data(value) if self._encoder_mode else self.convert(value)

    def restore(self, val: Any, **kwargs: Any) -> Any:
        if isinstance(val, dict):
            if "typename" in val:
                items = unescape(val)
                if items is not None:
                    val = items
                else:
                    tag = val["typename"]
                    if isinstance(tag, str) and tag in self.convert_from_dict:
                        return super().restore(val, **kwargs)
                    # State written before the escape: a dict of the data with a typename of its
                    # own is that dict (SpiffWorkflow's documented "unrecognized objects are
                    # returned as-is"; its code fails on them, and the process would never load).
            return {k: v if type(v) in _SCALARS else self.restore(v, **kwargs) for k, v in val.items()}
        if type(val) is list:
            return [v if type(v) in _SCALARS else self.restore(v, **kwargs) for v in val]
        return super().restore(val, **kwargs)


class _DataTaskConverter(TaskConverter):  # type: ignore[misc]
    """SpiffWorkflow's task converter, whose data (a root task's in full, the others' changes) goes
    through the registry like every other piece of process data (its own writes it as it is)."""

    def to_dict(self, task: Any) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(task)
        if dct["data"]:  # a root task's data (the others' is empty)
            dct["data"] = self.registry.data(dct["data"])
        updates = (dct.get("delta") or {}).get("updates")
        if updates:
            dct["delta"]["updates"] = self.registry.data(updates)
        return dct


def _data_registry() -> DefaultRegistry:
    """The registry for a process's state: decimals and escaped dicts (:class:`_DataRegistry`)."""
    registry = _DataRegistry()
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]), typename=DECIMAL_TAG)
    return registry


def _definitions(definition: Any) -> list[Any]:
    """An event definition and, for a multiple one (event-based gateways), the ones inside."""
    return [definition, *getattr(definition, "event_definitions", [])]


class ProcessInstance:
    """One execution of a :class:`ProcessDefinition` (see the module docstring)."""

    def __init__(self, definitions: ProcessDefinitions, definition: ProcessDefinition, workflow: Any,
                 engine: FeelScriptEngine) -> None:
        self.definitions = definitions
        self.definition = definition
        self.workflow = workflow
        self.engine = engine
        self.failure: str | None = None

    # ----------------------------------------------------------------- lifecycle

    @classmethod
    def start(cls, definitions: ProcessDefinitions, process_id: str | None = None, *,
              data: Mapping[str, Any] | None = None, clock: Clock | None = None,
              revealer: Revealer | None = None) -> ProcessInstance:
        """Start a process with ``data`` and run it to its first wait state (``revealer``: expressions
        see the clear values behind a case's pseudonyms, ``casepilot.governance.pii.reveal``)."""
        definition = definitions.process(process_id)
        engine = FeelScriptEngine(clock=clock, decide=_decider(definitions), revealer=revealer)
        workflow = BpmnWorkflow(definition.spec, dict(definition.subprocess_specs), script_engine=engine)
        if data:
            workflow.get_tasks(state=TaskState.READY)[0].data.update(to_plain(dict(data)))
        instance = cls(definitions, definition, workflow, engine)
        instance._run()
        return instance

    def _run(self, action: Callable[[], Any] | None = None) -> None:
        """Do ``action`` (a host's answer), then run the engine to the next wait state."""
        try:
            if action is not None:
                action()
            self.workflow.refresh_timers()  # timers due on the engine's clock fire
            self.workflow.do_engine_steps()
            self.workflow.do_engine_steps()  # what the timers refreshed at the end of the first made ready
            while drive_compensation(self.workflow):  # a handler finished or is due: run on
                self.workflow.do_engine_steps()
        except CasepilotError as exc:
            self.failure = str(exc)
            raise ProcessFailed(str(exc)) from exc
        except Exception as exc:  # SpiffWorkflow's own errors (no gateway branch taken, bad data…)
            self.failure = str(exc)
            raise ProcessFailed(f"the process failed: {exc}") from exc
        uncaught = [e for e in self.workflow.get_events()
                    if isinstance(e.event_definition, ErrorEventDefinition)]
        if uncaught:
            codes = ", ".join(repr(e.event_definition.code or e.event_definition.name) for e in uncaught)
            self.failure = f"uncaught BPMN error {codes}"
            raise ProcessFailed(f"the process failed: {self.failure} (no error event caught it)")

    @property
    def completed(self) -> bool:
        """True once the process reached its end (end events, terminate)."""
        return bool(self.workflow.completed)

    @property
    def data(self) -> dict[str, Any]:
        """The process data: what the tokens now waiting carry (merged), else the last task's."""
        merged: dict[str, Any] = {}
        active = self._active_tasks()
        for task in active:
            merged.update(task.data)
        if not active and self.workflow.last_task is not None:
            merged.update(self.workflow.last_task.data)
        return merged

    def _tasks(self, mask: int) -> list[Any]:
        """Tasks in a state of ``mask``, of the process and of its running sub-processes, in creation order.

        A flat scan of the task mappings: SpiffWorkflow's tree iterator costs ten times more, and
        the runner asks this several times per step.
        """
        found = [t for t in self.workflow.tasks.values() if t.state & mask]
        for sub in self.workflow.subprocesses.values():
            if not sub.completed:
                found.extend(t for t in sub.tasks.values() if t.state & mask)
        return found

    def _active_tasks(self) -> list[Any]:
        mask = TaskState.READY | TaskState.STARTED | TaskState.WAITING
        return [t for t in self._tasks(mask)
                if not isinstance(t.task_spec, BoundaryEvent)  # armed, not holding a token
                and getattr(t.task_spec, "bpmn_id", None)]

    def next_timer(self) -> dt.datetime | None:
        """When the earliest armed timer is due (on the engine's clock), or None: a worker schedules
        its timer job for then and calls :meth:`advance`."""
        due: list[dt.datetime] = []
        for task in self._tasks(TaskState.WAITING | TaskState.READY | TaskState.STARTED):
            definition = getattr(task.task_spec, "event_definition", None)
            if definition is None or not any(isinstance(d, TIMER_TYPES) for d in _definitions(definition)):
                continue
            value = task.internal_data.get("event_value")
            if isinstance(value, dict) and value.get("next"):
                due.append(dt.datetime.fromisoformat(str(value["next"])))
            elif isinstance(value, str):
                try:
                    due.append(TimerEventDefinition.get_datetime(value))
                except (ValueError, TypeError):
                    continue
        return min(due) if due else None

    def advance(self) -> None:
        """Re-check timers against the engine's clock (call after moving the clock)."""
        self._run()

    # ----------------------------------------------------------------- wait states

    def _task(self, task_id: str) -> Any:
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except Exception:
            task = None
        if task is None:
            raise UnknownPlanItem(f"no task {task_id!r} in this process")
        return task

    def service_calls(self) -> list[ServiceCall]:
        """Service tasks waiting for the host to run their tool."""
        out = []
        for task in self._tasks(TaskState.STARTED):
            if isinstance(task.task_spec, CpServiceTask) and CALL_KEY in task.internal_data:
                call = task.internal_data[CALL_KEY]
                spec = task.task_spec
                inputs = tuple((str(n), str(e)) for n, e in (spec.extensions or {}).get("inputs", []))
                out.append(ServiceCall(str(task.id), spec.bpmn_id, call["tool"], dict(call["arguments"]), inputs,
                                       spec.bpmn_name or spec.bpmn_id))
        return out

    def complete_service(self, call_id: str, result: Any = None) -> None:
        """Answer a service call with the tool's ``result`` and run on.

        The result is kept as process data (``_values.to_plain``: no floats, decimals exact,
        dates as ISO text), so the state always dumps and an amount keeps its cents.
        """
        task = self._started_service(call_id)

        def answer() -> None:
            apply_outputs(task.task_spec, task, to_plain(result))
            task.internal_data.pop(CALL_KEY, None)
            task.complete()
        self._run(answer)

    def fail_service(self, call_id: str, code: str, message: str = "") -> None:
        """The tool failed: throw BPMN error ``code`` from the service task.

        An error boundary event on the task (or on an enclosing sub-process / call activity)
        catches it; nothing catching it fails the process (:class:`ProcessFailed`).
        """
        task = self._started_service(call_id)
        task.internal_data.pop(CALL_KEY, None)
        event = BpmnEvent(ErrorEventDefinition(code, code=code), payload={"code": code, "message": message},
                          target=task.workflow)
        try:
            self._run(lambda: self.workflow.catch(event))  # an interrupting boundary event cancels the task
        except ProcessFailed:
            if not task.has_state(TaskState.STARTED):
                raise
        if task.has_state(TaskState.STARTED):  # nothing caught it
            task.error()
            self.failure = f"service task {task.task_spec.bpmn_id} failed with {code!r}: {message}"
            raise ProcessFailed(f"the process failed: {self.failure} (no error event caught it)")

    def _started_service(self, call_id: str) -> Any:
        task = self._task(call_id)
        if not isinstance(task.task_spec, CpServiceTask) or not task.has_state(TaskState.STARTED):
            raise IllegalTransition(call_id, TaskState.get_name(task.state), "answer (not a service call waiting for one)")
        return task

    def user_tasks(self) -> list[UserTaskItem]:
        """User (and manual) tasks waiting for a person."""
        out = []
        for task in (t for t in self._tasks(TaskState.READY) if t.task_spec.manual):
            spec = task.task_spec
            role = spec.role if isinstance(spec, CpUserTask) else (spec.lane or None)
            out.append(UserTaskItem(str(task.id), spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, role,
                                    dict(task.data), _form(spec)))
        return out

    def complete_user_task(self, task_id: str, data: Mapping[str, Any] | None = None) -> None:
        """A person completed a user task with ``data`` (merged into the process data).

        ``data`` is checked against the task's form: required fields present, values of the
        field's type (else ``DecisionRejected`` saying what is wrong; nothing changes).
        """
        task = self._task(task_id)
        if not task.task_spec.manual or not task.has_state(TaskState.READY):
            raise IllegalTransition(task_id, TaskState.get_name(task.state), "complete (not a user task waiting for a person)")
        plain = to_plain(dict(data or {}))
        _check_form(_form(task.task_spec), plain, task.data, task_id)
        task.data.update(plain)
        self._run(task.run)

    def send_message(self, name: str, payload: Any = None) -> None:
        """Deliver message ``name`` (its payload is merged into the data when a dict)."""
        event = BpmnEvent(MessageEventDefinition(name), payload=to_plain(payload))
        waiting_tasks = list(self.workflow.event_manager.tasks.values())
        if not any(t.task_spec.catches(t, event) for t in waiting_tasks):
            waiting = {d.name for t in waiting_tasks for d in _definitions(t.task_spec.event_definition)
                       if isinstance(d, MessageEventDefinition)}
            raise UnknownPlanItem(f"the process is not waiting for message {name!r} (it waits for: "
                                  f"{', '.join(sorted(waiting)) or 'no message'})")
        self._run(lambda: self.workflow.send_event(event))

    def active_elements(self) -> list[str]:
        """BPMN ids of the elements holding a token now (ready, started or waiting; armed boundary events
        are not listed)."""
        return sorted({t.task_spec.bpmn_id for t in self._active_tasks()})

    def completed_elements(self) -> list[str]:
        """BPMN ids of the elements completed so far, in no particular order (each once)."""
        ids = {getattr(t.task_spec, "bpmn_id", None) for t in self.workflow.get_tasks(state=TaskState.COMPLETED)}
        for sub in self.workflow.subprocesses.values():
            ids |= {getattr(t.task_spec, "bpmn_id", None) for t in sub.get_tasks(state=TaskState.COMPLETED)}
        return sorted(i for i in ids if i)

    def diagram(self) -> DiagramView:
        """The process as drawn in its model, with the elements holding a token (and the completed
        ones) highlighted; shows itself in a notebook. ``DefinitionError`` when the model has no
        diagram (BPMN DI)."""
        if self.definition.diagram is None:
            raise DefinitionError(f"process {self.definition.id!r} has no diagram: its BPMN file carries no "
                                  "BPMN DI (draw it in a modeler such as bpmn.io)", file=self.definition.file)
        return DiagramView(self.definition.diagram, tuple(self.active_elements()), tuple(self.completed_elements()))

    # ----------------------------------------------------------------- persistence

    def dump(self) -> str:
        """The runtime state as JSON (the definition is not in it)."""
        text: str = _serializer(self.definition).serialize_json(self.workflow)
        return text

    @classmethod
    def load(cls, definitions: ProcessDefinitions, state: str, *, process_id: str | None = None,
             clock: Clock | None = None, revealer: Revealer | None = None) -> ProcessInstance:
        """Rebuild an instance from :meth:`dump` output and the definitions it was started from."""
        spec_name = json.loads(state).get("spec")
        definition = definitions.process(process_id or spec_name)
        workflow = _serializer(definition).deserialize_json(state)
        engine = FeelScriptEngine(clock=clock, decide=_decider(definitions), revealer=revealer)
        workflow.script_engine = engine
        return cls(definitions, definition, workflow, engine)
