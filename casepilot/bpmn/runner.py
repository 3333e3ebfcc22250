"""Running a BPMN process: every service task governed, every step persisted, crashes recovered.

:class:`ProcessRunner` drives a :class:`~casepilot.bpmn.ProcessInstance` from wait state to
wait state. What it adds to the bare instance is what a case needs:

* **Governed service tasks.** Before a tool runs, the injected ``govern`` callback gets a
  :class:`ServiceRequest` — the tool's name, side effect, tags and targets, the arguments and
  each argument's provenance (an argument computed from a variable a tool wrote, e.g. a
  payee read from a document, is *untrusted*) — and returns a ``casepilot.governance.Verdict``:
  ``allow`` runs the tool (with ``verdict.transformed`` arguments when PII was redacted),
  ``require_human`` opens a checkpoint for the verdict's role and waits (:meth:`decide`),
  ``block`` throws BPMN error ``blocked`` from the task (an error boundary event may route it;
  nothing catching it fails the process). Fail closed: a callback that raises, a verdict of an
  unknown kind, or a checkpoint without a role (and no operator role) blocks.
  :func:`governed_by` builds the callback from a ``casepilot.governance.Governor``.
* **Persistence through a sink** (:mod:`casepilot.bpmn.events`): one atomic batch — events
  since the last one plus the runner's state — before a tool runs (the call recorded as
  started), after it ran, and at every wait state. One event per BPMN step, with element id,
  token, verdict and tool call, shaped for the case's hash-chained history.
* **The crash rule of case tasks.** A call recorded as started but never as finished means the
  worker stopped mid-call. On :meth:`resume`, a read-only or idempotent tool runs again; a
  non-idempotent one (it may have had its effect) becomes a checkpoint for the operator role
  — the same rule as ``casepilot.agent._recovery`` applies to case tasks, decided by the same
  fact (``Tool.retryable``); with no operator role the call stays parked and the history says
  why. A tool failing with its effect unknown (a non-idempotent timeout) goes the same way.

Tool failures become BPMN errors thrown from the service task: the code of a
:class:`ServiceError` the tool raised, else the failure's kind (``failed``, ``timeout``…).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from SpiffWorkflow.util.task import TaskState

from casepilot.errors import CasepilotError, DecisionRejected, ToolError, UnknownPlanItem
from casepilot.governance import Verdict
from casepilot.governance.pii.reveal import Revealer
from casepilot.tools import ToolRegistry
from casepilot.tools._errors import ToolCallError
from casepilot.tools.binding import Provenance

from . import _runner_steps as steps
from ._provenance import argument_provenance, changed, dump_provenance, load_provenance
from ._values import decode_state, encode_state, to_history, typed_result
from .definitions import ProcessDefinitions
from .engine import Clock
from .events import ProcessBatch, ProcessEvent, ProcessSink, RunStatus
from .instance import ProcessFailed, ProcessInstance, ServiceCall

__all__ = ["Governance", "ProcessRunner", "ServiceError", "ServiceRequest", "alias_item", "governed_by"]

STATE_VERSION = 1


class ServiceError(ToolError):
    """Raised inside a tool to throw BPMN error ``code`` from the service task (e.g. ``declined``).

    It says the call failed *and had no effect* (the bank declined), so even a non-idempotent
    tool's failure is then a plain BPMN error — not a checkpoint as for a failure whose effect is
    unknown — and the registry does not retry it (the model draws the retries).
    """

    def __init__(self, code: str, message: str = "") -> None:
        self.code = code
        super().__init__(message or code)


@dataclass(frozen=True, slots=True)
class ServiceRequest:
    """A service task's tool call, as governance reviews it."""

    instance_id: str
    process_id: str
    element_id: str
    token: str
    tool: str
    side_effect: str
    arguments: Mapping[str, Any]
    provenance: Mapping[str, Provenance] = field(default_factory=lambda: MappingProxyType({}))
    tags: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()

    @property
    def untrusted(self) -> tuple[str, ...]:
        """Arguments whose value came from an untrusted source."""
        return tuple(sorted(k for k, p in self.provenance.items() if not p.is_trusted))


Governance = Callable[[ServiceRequest], Verdict]
"""Reviews one service-task call; see :func:`governed_by`."""


def governed_by(governor: Any, context: Any) -> Governance:
    """A ``govern`` callback reviewing calls with a ``casepilot.governance.Governor``.

    ``context`` is a ``GovernanceContext`` or a function of the :class:`ServiceRequest`
    returning one (for the case's usage, roles and variables at that moment).
    """
    from casepilot.governance import ProposedAction

    def review(request: ServiceRequest) -> Verdict:
        action = ProposedAction(
            kind="tool_call", name=request.tool, case_id=request.instance_id, plan_item=request.element_id,
            arguments=MappingProxyType(dict(request.arguments)), provenance=request.provenance,
            side_effect=request.side_effect,  # type: ignore[arg-type]
            tags=request.tags, targets=request.targets)
        verdict: Verdict = governor.review(action, context(request) if callable(context) else context)
        return verdict
    return review


def alias_item(state: Mapping[str, Any], item_id: str, new_item_id: str) -> dict[str, Any]:
    """The runner state (:meth:`ProcessRunner.state`) with open inbox item ``item_id`` handed over to
    ``new_item_id`` — the item a reassignment opened in its place: deciding the new item completes the
    user task or decides the checkpoint the old one stood for. ``UnknownPlanItem``: not an open item of
    this process."""
    inbox = dict(state.get("inbox") or {})
    if item_id not in inbox:
        raise UnknownPlanItem(f"inbox item {item_id} is not an open step of process instance "
                              f"{state.get('instance_id')}")
    aliases = dict(state.get("aliases") or {})
    inbox[new_item_id] = inbox.pop(item_id)
    aliases[new_item_id] = aliases.pop(item_id, item_id)
    return {**state, "inbox": inbox, "aliases": aliases}


class ProcessRunner:
    """One process instance run under governance and persistence (see the module docstring)."""

    def __init__(self, definitions: ProcessDefinitions, instance: ProcessInstance, *, instance_id: str,
                 tools: ToolRegistry, govern: Governance, sink: ProcessSink, operator_role: str | None = None,
                 state: Mapping[str, Any] | None = None, revealer: Revealer | None = None) -> None:
        self.definitions = definitions
        self.instance = instance
        if revealer is not None:  # the host's privacy layer: expressions see clear values (casepilot.governance.pii.reveal)
            instance.engine.revealer = revealer
        self.instance_id = instance_id
        self.tools = tools
        self.govern = govern
        self.sink = sink
        self.operator_role = operator_role
        saved = state or {}
        self.calls: dict[str, dict[str, Any]] = decode_state(dict(saved.get("calls") or {}))
        """Service calls between governance and their end, by token: status approved / checkpoint / started / refused
        (arguments as process data: amounts as decimals; stored tagged, ``_values.encode_state``)."""
        self.inbox: dict[str, str] = dict(saved.get("inbox") or {})
        """Open inbox items this runner opened: id -> element."""
        self.aliases: dict[str, str] = dict(saved.get("aliases") or {})
        """Inbox item id -> the runner's own id of the step (a user task's token, a checkpoint id), for
        items reassigned since they opened (:func:`alias_item`): the item a person decides is the new one."""
        self.reported: set[str] = set(saved.get("reported") or [])
        self.provenance: dict[str, Provenance] = load_provenance(saved.get("provenance") or {})
        self.failure: str | None = saved.get("failure")
        self.pending: list[ProcessEvent] = []
        self.first_batch_due = False
        self._dumped: dict[str, Any] | None = None
        """Set by :meth:`start`: the first batch is written even with nothing in it (the case must hold a state)."""

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def start(cls, definitions: ProcessDefinitions, process_id: str | None = None, *, instance_id: str,
              tools: ToolRegistry, govern: Governance, sink: ProcessSink, data: Mapping[str, Any] | None = None,
              provenance: Mapping[str, Provenance] | None = None, operator_role: str | None = None,
              clock: Clock | None = None, revealer: Revealer | None = None) -> ProcessRunner:
        """Start a process with ``data`` (trusted, from the request, unless ``provenance`` says otherwise)
        and run it to its first wait state."""
        try:
            instance = ProcessInstance.start(definitions, process_id, data=data, clock=clock, revealer=revealer)
        except ProcessFailed as exc:
            raise ProcessFailed(f"the process failed before its first wait state: {exc}") from exc
        runner = cls(definitions, instance, instance_id=instance_id, tools=tools, govern=govern, sink=sink,
                     operator_role=operator_role)
        runner.provenance = {k: Provenance.trusted("request") for k in (data or {})}
        runner.provenance.update(provenance or {})
        runner.first_batch_due = True
        runner.run("started")
        return runner

    @classmethod
    def resume(cls, definitions: ProcessDefinitions, state: Mapping[str, Any], *, tools: ToolRegistry,
               govern: Governance, sink: ProcessSink, operator_role: str | None = None,
               clock: Clock | None = None, revealer: Revealer | None = None) -> ProcessRunner:
        """Go on from :meth:`state` as a sink last stored it — after a crash too (the crash rule)."""
        if state.get("version") != STATE_VERSION:
            raise CasepilotError(f"unknown process runner state version {state.get('version')!r}")
        instance = ProcessInstance.load(definitions, json.dumps(state["process"]), process_id=state["process_id"],
                                        clock=clock, revealer=revealer)
        runner = cls(definitions, instance, instance_id=str(state["instance_id"]), tools=tools, govern=govern,
                     sink=sink, operator_role=operator_role, state=state)
        instance.failure = runner.failure
        steps.recover(runner)
        runner.run("resumed")
        return runner

    def state(self) -> dict[str, Any]:
        """The runner's state as JSON (the process's SpiffWorkflow state inside)."""
        return {
            "version": STATE_VERSION, "kind": "bpmn_process", "process_id": self.instance.definition.id,
            "instance_id": self.instance_id, "process": self._process_state(),
            "calls": encode_state(copy.deepcopy(self.calls)), "inbox": dict(self.inbox), "aliases": dict(self.aliases),
            "reported": sorted(self.reported),
            "provenance": dump_provenance(self.provenance), "failure": self.failure, "status": self.status,
        }

    def _process_state(self) -> dict[str, Any]:
        """The engine's state as JSON, dumped again only when the engine moved since the last dump
        (a batch recording a call as started has the engine where the batch before left it)."""
        if self._dumped is None:
            self._dumped = json.loads(self.instance.dump())
        return self._dumped

    def own_id(self, item_id: str) -> str:
        """The runner's id of the step behind inbox item ``item_id`` (itself unless it was reassigned)."""
        return self.aliases.get(item_id, item_id)

    def item_id(self, own: str) -> str:
        """The inbox item now open for the runner's step ``own`` (``own`` unless it was reassigned)."""
        return next((item for item, step in self.aliases.items() if step == own), own)

    def moved(self) -> None:
        """The engine may have changed: the next state dumps it again."""
        self._dumped = None

    @property
    def status(self) -> RunStatus:
        if self.failure is not None:
            return "failed"
        return "completed" if self.instance.completed else "waiting"

    # ------------------------------------------------------------------ the loop

    def run(self, reason: str = "wait_state") -> RunStatus:
        """Run until the process waits (person, checkpoint, timer, message) or ends; persist."""
        try:
            progressed = True
            while progressed and self.failure is None:
                steps.observe(self)
                progressed = False
                for call in self.instance.service_calls():
                    record = self.calls.get(call.call_id) or steps.govern(self, call)
                    if record["status"] == "approved":
                        self._execute(call, record)
                    elif record["status"] == "refused":
                        self._refuse(call, record)
                    else:
                        continue
                    progressed = True
                    break
        except ProcessFailed as exc:
            self._failed(str(exc))
        steps.observe(self)
        self.flush("resumed" if reason == "resumed" else "wait_state")
        return self.status

    def flush(self, reason: str) -> None:
        """Write the events since the last batch and the state, atomically, through the sink.

        Nothing is written when nothing happened since the last batch (but the first batch always is).
        """
        if self.first_batch_due:
            reason, self.first_batch_due = "started", False
        elif not self.pending:
            return
        batch = ProcessBatch(tuple(self.pending), self.state(), self.status, reason,  # type: ignore[arg-type]
                             tuple(self.instance.active_elements()))
        self.sink.write(batch)
        self.pending.clear()

    def emit(self, kind: Any, element: str | None, token: str | None, actor: str = "system", **fields: Any) -> None:
        """Queue one history event about ``element`` / ``token`` (see ``casepilot.bpmn.events``); amounts
        in it are written as their text (``_values.to_history``), as a case's history writes them."""
        payload = steps.coordinates(self, element, token)
        opens, closes = fields.pop("opens", None), fields.pop("closes", None)
        rule_ids, latency = tuple(fields.pop("rule_ids", ())), fields.pop("latency_ms", None)
        payload.update(to_history(fields))
        self.pending.append(ProcessEvent(kind, payload, actor, rule_ids, latency, opens, closes))

    def _execute(self, call: ServiceCall, record: dict[str, Any]) -> None:
        record["status"] = "started"
        self.emit("tool_call_started", call.element_id, call.call_id, call_id=call.call_id, tool=record["tool"],
                  arguments=record["arguments"], side_effect=record["side_effect"])
        self.flush("service_task")  # recorded as started before it runs: a crash from here on is recovered
        began = time.perf_counter()
        try:
            outcome = self.tools.invoke(record["tool"], record["arguments"])
        except ToolCallError as exc:
            latency = (time.perf_counter() - began) * 1000
            code, message = steps.error_code(exc)
            self.emit("tool_call_failed", call.element_id, call.call_id, call_id=call.call_id, tool=record["tool"],
                      error={"kind": exc.kind, "code": code, "message": message,
                             "effect_unknown": exc.effect_unknown and not isinstance(exc.cause, ServiceError)},
                      latency_ms=latency)
            if exc.effect_unknown and not isinstance(exc.cause, ServiceError):  # it may have run: a person decides
                steps.ask_operator(self, call.call_id, record, "its effect is unknown")
                self.flush("service_task")
                return
            del self.calls[call.call_id]
            self._answered(call, lambda: self.instance.fail_service(call.call_id, code, message), record["tool"])
        else:
            output = outcome.output()
            self.emit("tool_call_completed", call.element_id, call.call_id, call_id=call.call_id,
                      tool=record["tool"], result=output, attempts=outcome.attempts,
                      latency_ms=(time.perf_counter() - began) * 1000)
            del self.calls[call.call_id]
            typed = typed_result(self._result_model(record["tool"]), output)  # the amounts back as decimals
            self._answered(call, lambda: self.instance.complete_service(call.call_id, typed), record["tool"])
        steps.observe(self)
        self.flush("service_task")

    def _result_model(self, tool: str) -> Any:
        """The pydantic model of ``tool``'s result (None: unknown), which says which fields are decimals."""
        try:
            return self.tools.get(tool).result_model
        except ToolCallError:
            return None

    def _answered(self, call: ServiceCall, answer: Callable[[], None], tool: str) -> None:
        before = self.instance.data
        self.moved()
        try:
            answer()
        finally:
            for name in changed(before, self.instance.data):
                self.provenance[name] = Provenance.untrusted(f"tool:{tool}")

    def _refuse(self, call: ServiceCall, record: dict[str, Any]) -> None:
        code = str(record.get("code") or "blocked")
        self.emit("error", call.element_id, call.call_id, call_id=call.call_id, tool=record["tool"], code=code,
                  problem=f"the call was not made ({code}): {record.get('message') or ''}".strip())
        del self.calls[call.call_id]
        self._answered(call, lambda: self.instance.fail_service(call.call_id, code, str(record.get("message") or "")),
                       record["tool"])

    def _failed(self, message: str) -> None:
        self.failure = message
        self.emit("error", None, None, problem=message)
        for item_id, element in list(self.inbox.items()):
            steps.close_item(self, item_id, element, "system", None, "the process failed")

    # ------------------------------------------------------------------ what people and the world do

    def complete_user_task(self, task_id: str, data: Mapping[str, Any] | None = None, *,
                           actor: str = "person", comment: str | None = None, run_on: bool = True) -> RunStatus:
        """A person completed a user task with ``data`` (checked against its form) and ``comment``
        (kept on the inbox item and in the history, as a checkpoint's); run on (``run_on=False``:
        only record it, :meth:`hold`)."""
        own = self.own_id(task_id)
        item = next((t for t in self.instance.user_tasks() if t.task_id == own), None)
        if item is None:
            raise UnknownPlanItem(f"no open user task {task_id!r} in process instance {self.instance_id}")
        before = self.instance.data
        submitted = dict(data or {})
        self.moved()
        try:
            self.instance.complete_user_task(own, submitted)  # DecisionRejected: nothing changed
        except ProcessFailed as exc:
            self._failed(str(exc))
        finally:
            for name in changed(before, self.instance.data):
                person = actor if actor.startswith("person:") else f"person:{actor}"
                self.provenance[name] = (Provenance.trusted(person) if name in submitted
                                         else Provenance.untrusted(f"process:{item.element_id}"))
        if task_id in self.inbox:
            steps.close_item(self, task_id, item.element_id, actor, "complete", comment, fields=sorted(submitted))
        return self.run() if run_on else self.hold()

    def decide(self, checkpoint_id: str, decision: str, *, actor: str, comment: str | None = None,
               run_on: bool = True) -> RunStatus:
        """A person decided a checkpoint (``approve`` runs the call, ``reject`` throws BPMN error ``rejected``);
        run on (``run_on=False``: only record it, :meth:`hold`).

        A "run it again?" checkpoint (the crash rule's, ``:recovery``) is about a call that may
        have had its effect: ``reject`` — do not run it again — fails the process instead. A BPMN
        error would be caught by the model's error boundary, whose path is the model's answer to
        a call that failed without effect (the payment's: wait, then pay again) — the very call
        the person said must not run again."""
        own = self.own_id(checkpoint_id)
        token, record = next(((t, r) for t, r in self.calls.items() if r.get("checkpoint") == own), (None, None))
        if token is None or record is None or record["status"] != "checkpoint":
            raise UnknownPlanItem(f"no open checkpoint {checkpoint_id!r} in process instance {self.instance_id}")
        if decision not in ("approve", "reject"):
            raise DecisionRejected(f"checkpoint {checkpoint_id} takes approve or reject, not {decision!r}")
        steps.close_item(self, checkpoint_id, record["element"], actor, decision, comment)
        if decision == "approve":
            record["status"] = "approved"
            record["approved_by"] = actor
        elif steps.is_recovery(own):
            del self.calls[token]
            self._failed(f"{actor} chose not to run {record['tool']!r} of step {record['element']!r} again "
                         "(it may have run before the worker stopped): the process cannot go on without its outcome")
            self.instance.failure = self.failure
        else:
            record.update(status="refused", code="rejected", message=f"rejected by {actor}")
        return self.run() if run_on else self.hold()

    def hold(self) -> RunStatus:
        """Write what happened since the last batch — a person's decision — without running on.

        For a host that must not make the process's calls where the decision is taken (a service
        whose workers make them): the batch (reason ``decided``) records the decision, closes its
        inbox item and stores the state, in which an approved call waits as ``approved``, a
        rejected one as ``refused`` and a completed user task's successors as service calls no
        record names yet; :meth:`resume` later runs the process on from there, crash rule first.
        Nothing is governed and no tool is called here."""
        steps.observe(self)
        self.flush("decided")
        return self.status

    def send_message(self, name: str, payload: Any = None, *, actor: str = "system") -> RunStatus:
        """Deliver message ``name`` (its payload counts as untrusted data)."""
        before = self.instance.data
        self.moved()
        try:
            self.instance.send_message(name, payload)
        except ProcessFailed as exc:
            self._failed(str(exc))
        for key in changed(before, self.instance.data):
            self.provenance[key] = Provenance.untrusted(f"message:{name}")
        return self.run()

    def advance(self) -> RunStatus:
        """Re-check timers against the clock (a worker's timer job calls this); run on."""
        self.moved()
        try:
            self.instance.advance()
        except ProcessFailed as exc:
            self._failed(str(exc))
        return self.run()

    def checkpoints(self) -> dict[str, dict[str, Any]]:
        """Open checkpoints: id -> the call record (tool, element, arguments, role)."""
        return {self.item_id(str(r["checkpoint"])): r for r in self.calls.values() if r["status"] == "checkpoint"
                and r.get("checkpoint")}

    def argument_provenance(self, call: ServiceCall) -> dict[str, Provenance]:
        """Where each argument of ``call`` came from."""
        return argument_provenance(call.inputs, self.provenance, call.element_id)

    def tasks_by_state(self, state: int = TaskState.COMPLETED) -> list[Any]:
        """SpiffWorkflow tasks of the process and its sub-processes in ``state`` (for reports)."""
        return steps.all_tasks(self.instance.workflow, state)
