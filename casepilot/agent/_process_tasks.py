"""Process tasks run as BPMN processes of the bundle: started by the agent, persisted in the case.

A CMMN process task without a tool binding whose ``processRef`` names a process of the
bundle's ``processes:`` (``bundle.ProcessBinding``) is offered as ``start_process``. Starting
it runs the process through :class:`casepilot.bpmn.runner.ProcessRunner`:

* **Governed like the case's own calls.** Every service task's call is reviewed by the case's
  ``Governor`` with the case's governance context; the arguments carry the provenance of the
  case-file values they were computed from (a payee a tool read from a document is
  untrusted, so the provenance rule hands a non-idempotent payment to a person).
* **Persisted in the case.** The runner's batches (one per persistence point: before a tool
  runs, after it ran, at every wait state) go through :class:`CaseStepSink`, which writes each
  as one agent step of the case — its events in the case's hash-chained history (payloads
  redacted like every other history payload), the process's inbox items opened and closed,
  and the runner's state in the agent facts (``facts.processes``). A reload or another
  worker goes on from there.
* **Ending the task.** When the process completes, the process variables named by the task's
  outputs are written into the case file (with the provenance the runner tracked) and the
  task completes; when it fails, the task faults — in the step of the process's last batch.
* **People.** The process's user tasks and governance checkpoints are inbox items with their
  role; ``Orchestrator.decide`` hands a decision on one of them to :func:`decide_item`, which
  lets the runner complete the user task (the decision's typed values are the form data) or
  decide the checkpoint, and the process runs on — in the deciding call in-process, but never
  in a service whose workers work the cases (:func:`runs_queued`): there the decision is only
  recorded (its batch, reason ``decided``, marks the process ``run_on``) and the step that
  records it queues the case's run, in the same transaction; the worker that takes the job runs
  the process on at its ``observe`` (:func:`resume_due`). So an approved payment is made by a
  worker, governed and under the crash rule, and never by the server answering the person.
* **Crashes.** A call the stored state records as started but not finished means the worker
  stopped mid-call: :func:`resume_due` (at the loop's ``observe``) resumes the runner, which
  applies the crash rule of case tasks (idempotent → again, non-idempotent → a checkpoint for
  the operator role).
* **Timers.** A process waiting with an armed timer stores when it is due
  (``ProcessInstance.next_timer()``); the first run of the case from then on advances it
  (:func:`resume_due`). Under a worker (``AgentRuntime.on_step`` set) the step also enqueues a
  timer job for that time, which runs the case.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from casepilot.agent._inbox import _VALUES
from casepilot.agent._node_base import NodeBase
from casepilot.agent._task_kinds import definition_of
from casepilot.agent.context import AgentRuntime, LoadedCase
from casepilot.bpmn._values import decode_state
from casepilot.bpmn.store_sink import write_event
from casepilot.errors import CasepilotError, ConcurrencyConflict, DecisionRejected
from casepilot.governance.checkpoints import check_decision
from casepilot.store import HumanTask
from casepilot.store._step import Step
from casepilot.tools import Provenance, Tool, ToolRegistry

if TYPE_CHECKING:
    from casepilot.agent.manifest import HumanTaskSpec
    from casepilot.agent.orchestrator import Person
    from casepilot.bpmn.definitions import ProcessDefinitions
    from casepilot.bpmn.events import ProcessBatch, ProcessEvent
    from casepilot.bpmn.runner import ProcessRunner

__all__ = ["CaseStepSink", "decide_item", "end_orphaned", "item_spec", "owner_of", "resume_due", "runs_queued",
           "start_process"]

_ENDED = frozenset({"completed", "terminated", "failed", "closed"})
"""States of a process task in which its process cannot go on (suspended is not one: it waits)."""


class CaseStepSink:
    """Writes a runner's batches as steps of the case (see the module docstring)."""

    def __init__(self, rt: AgentRuntime, case_id: str, instance_id: str, *, actor: str = "agent") -> None:
        self.rt = rt
        self.case_id = case_id
        self.instance_id = instance_id
        """The process task's plan-item instance."""
        self.actor = actor

    def write(self, batch: ProcessBatch) -> None:
        # Pseudonymising writes the vault: done before the step's transaction (as the nodes do).
        events = [(e, self._redacted(e.payload)) for e in batch.events]
        ending = batch.status in ("completed", "failed")
        outputs = self._outputs(batch) if batch.status == "completed" else {}
        try:
            self._write(batch, events, ending, outputs)
        except ConcurrencyConflict:
            self._record_lost_outcomes(events)
            raise

    def _redacted(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The event's payload pseudonymised — but for a verdict's ``provenance``: trust labels and
        sources per argument (casepilot's own vocabulary, keyed by argument names), which the PII
        layer's field-name hints would read as the data itself (an ``iban`` argument's
        ``["trusted", "request"]`` became two IBAN pseudonyms)."""
        provenance = payload.get("provenance")
        if provenance is None:
            return self.rt.redact(self.case_id, payload)
        redacted = self.rt.redact(self.case_id, {k: v for k, v in payload.items() if k != "provenance"})
        return {**redacted, "provenance": provenance}

    def _record_lost_outcomes(self, events: list[tuple[ProcessEvent, dict[str, Any]]]) -> None:
        """Another worker moved the case while this runner worked (it took the call for interrupted):
        what the calls of the batch returned is recorded, not applied — never dropped without a trace.
        The runner stops with the conflict; ``start_process`` run again starts nothing."""
        outcomes = [(e, p) for e, p in events if e.kind in ("tool_call_completed", "tool_call_failed")]
        if not outcomes:
            return
        with self.rt.step(self.case_id) as (step, _loaded):
            for event, payload in outcomes:
                step.append(event.kind, actor=event.actor, rule_ids=event.rule_ids, latency_ms=event.latency_ms,
                            payload={**payload, "applied": False, "problem": (
                                "the case moved on while the call ran (another worker took it for interrupted): "
                                "recorded, not applied to the case")})

    def _write(self, batch: ProcessBatch, events: list[tuple[ProcessEvent, dict[str, Any]]], ending: bool,
               outputs: dict[str, Any]) -> None:
        with self.rt.step(self.case_id) as (step, loaded):
            for event, payload in events:
                write_event(step, event, payload)
            if not ending:
                due = _next_timer(loaded, batch)
                loaded.facts.processes[self.instance_id] = {"runner": batch.state,
                                                            "next_timer": due.isoformat() if due else None}
                if batch.reason == "decided":  # recorded, not run on: the next run of the case does
                    loaded.facts.processes[self.instance_id]["run_on"] = True
                if due is not None and self.rt.on_step is not None:  # a worker: wake the case then
                    from casepilot.worker import jobs

                    step.enqueue(jobs.fire_timer(self.case_id, due, now=self.rt.clock()))
                return
            loaded.facts.processes.pop(self.instance_id, None)
            loaded.facts.processes_ended[self.instance_id] = _ended(loaded, batch)
            self._end(step, loaded, batch, outputs)

    def _outputs(self, batch: ProcessBatch) -> dict[str, Any]:
        loaded = self.rt.load(self.case_id, check_version=False)
        binding = loaded.bundle.process_tasks.get(_definition(loaded, self.instance_id) or "")
        data = decode_state(batch.state["process"].get("data") or {})  # amounts come back as the Decimals they were
        names = data if binding is not None and binding.all_outputs else (binding.outputs if binding else ())
        results = {k: data[k] for k in names if k in data}
        if self.rt.privacy is not None and results:
            results = self.rt.privacy.redact_value(results, self.case_id)[0]
        return dict(results)

    def _end(self, step: Step, loaded: LoadedCase, batch: ProcessBatch, outputs: Mapping[str, Any]) -> None:
        engine = loaded.engine
        assert engine is not None
        provenance = batch.state.get("provenance") or {}
        for name in outputs:
            trust, source = (list(provenance.get(name) or ["untrusted", f"process:{batch.state['process_id']}"]))
            loaded.facts.set_provenance(name, str(trust), str(source))
        events = engine.set_variables(dict(outputs)) if outputs else []
        view = engine.item(self.instance_id)
        if view is not None and view.state == "active":
            events += engine.complete(self.instance_id) if batch.status == "completed" \
                else _fault(loaded, self.instance_id)
        step.append("tool_call_completed" if batch.status == "completed" else "tool_call_failed", actor=self.actor,
                    payload={"tool": f"bpmn:{batch.state['process_id']}", "instance": self.instance_id,
                             **({"result": {"variables": sorted(outputs)}} if batch.status == "completed"
                                else {"error": batch.state.get("failure") or "the process failed"})})
        self.rt.record_transitions(step, events, self.actor)
        self.rt.sync_inbox(step, loaded)


@dataclass(frozen=True, slots=True)
class _Kept:
    """A tool's outcome as the process keeps it (its result pseudonymised)."""

    result: dict[str, Any]
    attempts: int

    def output(self) -> dict[str, Any]:
        return self.result


class _CaseTools:
    """The registry as a case's process calls it, with the case's privacy rules: an in-process tool
    works on the clear values behind the case file's pseudonyms (an external one gets the
    pseudonyms), and the process — whose variables are stored in the case — keeps the result
    pseudonymised, like the case file (as ``Nodes.act`` does for a task's call)."""

    def __init__(self, rt: AgentRuntime, case_id: str, external: frozenset[str]) -> None:
        self.rt, self.case_id, self.external = rt, case_id, external

    def get(self, name: str) -> Tool[Any, Any]:
        return self.rt.registry.get(name)

    def invoke(self, name: str, arguments: Mapping[str, Any]) -> Any:
        privacy = self.rt.privacy
        if privacy is None:
            return self.rt.registry.invoke(name, arguments)
        if name not in self.external:
            arguments = privacy.reveal_payload(dict(arguments), self.case_id)
        outcome = self.rt.registry.invoke(name, arguments)
        return _Kept(privacy.redact_value(outcome.output(), self.case_id)[0], outcome.attempts)


def _fault(loaded: LoadedCase, instance_id: str) -> list[dict[str, Any]]:
    """Fault the process task whose process failed; a process started on its own (``_process_cases``)
    fails its case with it."""
    engine = loaded.engine
    assert engine is not None
    events = engine.fault(instance_id)
    if loaded.facts.process is not None and engine.state == "active":
        events += engine.fault(None)
    return events


def _ended(loaded: LoadedCase, batch: ProcessBatch) -> dict[str, Any]:
    """What the case keeps of a process that ended: which it was, how, and the elements it went
    through (the case page draws them; the runner state is dropped)."""
    from casepilot.bpmn.instance import ProcessInstance

    instance = ProcessInstance.load(_definitions(loaded), json.dumps(batch.state["process"]),
                                    process_id=batch.state["process_id"])
    return {"process_id": batch.state["process_id"], "status": batch.status,
            "completed": instance.completed_elements()}


def _next_timer(loaded: LoadedCase, batch: ProcessBatch) -> dt.datetime | None:
    """When the process's earliest armed timer is due (None: none armed; a model without timers
    is not even loaded for it)."""
    from casepilot.bpmn._specs import TIMER_CLASSES
    from casepilot.bpmn.instance import ProcessInstance

    definitions = _definitions(loaded)
    specs = [definitions.process(batch.state["process_id"]).spec,
             *definitions.process(batch.state["process_id"]).subprocess_specs.values()]
    timer_classes = tuple(TIMER_CLASSES.values())
    if not any(isinstance(getattr(t, "event_definition", None), timer_classes) or any(
            isinstance(d, timer_classes) for d in getattr(getattr(t, "event_definition", None), "event_definitions", ()))
            for spec in specs for t in spec.task_specs.values()):
        return None
    instance = ProcessInstance.load(definitions, json.dumps(batch.state["process"]),
                                    process_id=batch.state["process_id"])
    return instance.next_timer()


def _definition(loaded: LoadedCase, instance_id: str) -> str | None:
    view = loaded.engine.item(instance_id) if loaded.engine is not None else None
    return view.definition_id if view is not None else None


def _definitions(loaded: LoadedCase) -> ProcessDefinitions:
    if loaded.bundle.processes is None:
        raise CasepilotError(f"definition {loaded.bundle.key} declares no BPMN processes (processes: in the manifest)")
    return loaded.bundle.processes


def _runner_kwargs(rt: AgentRuntime, loaded: LoadedCase, instance_id: str, actor: str) -> dict[str, Any]:
    """What every runner of this case's process task is built with: tools, governance, sink, roles, clock."""
    from casepilot.bpmn.runner import governed_by

    case_id = loaded.id
    nodes = NodeBase(rt)

    def context(_request: Any) -> Any:  # the case as it is when the call is reviewed
        return nodes.context(rt.load(case_id, check_version=False), confidence=None)

    governor = rt.governor_for(loaded.bundle)
    tools = cast(ToolRegistry, _CaseTools(rt, case_id, governor.external_tools))  # the runner calls get/invoke only
    return {"tools": tools, "govern": governed_by(governor, context),
            "sink": CaseStepSink(rt, case_id, instance_id, actor=actor),
            "operator_role": loaded.bundle.manifest.governance.operator_role, "clock": rt.clock,
            "revealer": _revealer(rt, case_id)}


def _revealer(rt: AgentRuntime, case_id: str) -> Any:
    """What lets the process's FEEL expressions (gateways, mappings, decisions, timers) read the clear
    values behind the case file's pseudonyms, in-process, while its stored data keeps the pseudonyms
    (``casepilot.governance.pii.reveal``); None without a privacy layer (the values are clear already)."""
    privacy = rt.privacy
    if privacy is None:
        return None
    from casepilot.governance.pii.reveal import VaultRevealer

    return VaultRevealer(privacy.vault, case_id, conceal=lambda value: privacy.redact_value(value, case_id)[0],
                         conceal_as=lambda text, kind: privacy.pseudonymizer.redact_whole(text, kind, case_id).text)


def _provenance(loaded: LoadedCase, name: str) -> Provenance:
    """A case-file variable's provenance as the process sees it: untrusted when any part inside is."""
    tainted = loaded.facts.taint([name])
    if tainted is None:
        own = loaded.facts.provenance.get(name) or {}
        return Provenance.trusted(str(own.get("source", "request")))
    return Provenance.untrusted(str(tainted.get("source", "unknown")))


def start_process(rt: AgentRuntime, loaded: LoadedCase, option: Mapping[str, Any], *, actor: str = "agent") -> None:
    """Start the process task's BPMN process with the task's inputs and run it to its first wait state."""
    from casepilot.bpmn.instance import ProcessFailed
    from casepilot.bpmn.runner import ProcessRunner

    engine = loaded.engine
    assert engine is not None
    instance_id = str(option["instance_id"])
    view = engine.item(instance_id)
    if instance_id in loaded.facts.processes or instance_id in loaded.facts.processes_ended or (
            view is None or view.state != "active"):
        # Started already: this is the loop's retry after a batch of the process lost a race with
        # another worker. Starting again would run its calls again (pay twice); the stored process goes on.
        return
    binding = loaded.bundle.process_tasks[definition_of(engine, instance_id)]
    variables = engine.variables()
    data = {k: v for k, v in variables.items() if not binding.inputs or k in binding.inputs}
    provenance = {k: _provenance(loaded, k) for k in data}
    try:
        ProcessRunner.start(_definitions(loaded), binding.process_id, instance_id=loaded.id, data=data,
                            provenance=provenance, **_runner_kwargs(rt, loaded, instance_id, actor))
    except ProcessFailed as exc:
        with rt.step(loaded.id) as (step, fresh):
            assert fresh.engine is not None
            step.append("tool_call_failed", actor=actor, payload={
                "tool": f"bpmn:{binding.process_id}", "instance": instance_id, "error": str(exc)})
            fresh.facts.processes_ended[instance_id] = {"process_id": binding.process_id, "status": "failed",
                                                        "completed": []}
            view = fresh.engine.item(instance_id)
            events = _fault(fresh, instance_id) if view is not None and view.state == "active" else []
            rt.record_transitions(step, events, actor)
            rt.sync_inbox(step, fresh)


def _load_runner(rt: AgentRuntime, loaded: LoadedCase, instance_id: str, actor: str) -> ProcessRunner:
    """The runner of a process task as last stored — nothing run, no crash rule applied."""
    from casepilot.bpmn.instance import ProcessInstance
    from casepilot.bpmn.runner import STATE_VERSION, ProcessRunner

    state = loaded.facts.processes[instance_id]["runner"]
    if state.get("version") != STATE_VERSION:
        raise CasepilotError(f"unknown process runner state version {state.get('version')!r}")
    kwargs = _runner_kwargs(rt, loaded, instance_id, actor)
    definitions = _definitions(loaded)
    instance = ProcessInstance.load(definitions, json.dumps(state["process"]), process_id=state["process_id"],
                                    clock=kwargs.pop("clock"), revealer=kwargs.pop("revealer"))
    runner = ProcessRunner(definitions, instance, instance_id=str(state["instance_id"]), state=state, **kwargs)
    instance.failure = runner.failure
    return runner


def owner_of(loaded: LoadedCase, task_id: str) -> str | None:
    """The process task instance whose process opened inbox item ``task_id`` (None: not a process's)."""
    for instance_id, entry in loaded.facts.processes.items():
        if task_id in (entry.get("runner") or {}).get("inbox", {}):
            return instance_id
    return None


_FIELD_TYPES = {"string": "string", "textarea": "string", "enum": "string", "boolean": "boolean",
                "number": "number", "long": "integer", "date": "date"}
"""A BPMN form field's type -> the inbox's field type (an ``enum`` names no values in the model: text)."""


def item_spec(loaded: LoadedCase, task_id: str) -> HumanTaskSpec | None:
    """What a process's inbox item asks for, as the inbox declares human tasks: a user task's form
    fields (so a decision's values are checked and pseudonymised like a human task's before the
    runner checks them against the form again); a checkpoint takes no fields. None: not a process's."""
    from casepilot.agent.manifest import HumanTaskSpec, TaskFieldSpec
    from casepilot.bpmn.instance import ProcessInstance

    instance_id = owner_of(loaded, task_id)
    if instance_id is None:
        return None
    state = loaded.facts.processes[instance_id]["runner"]
    instance = ProcessInstance.load(_definitions(loaded), json.dumps(state["process"]), process_id=state["process_id"])
    own = (state.get("aliases") or {}).get(task_id, task_id)  # a reassigned item stands for the runner's step
    item = next((t for t in instance.user_tasks() if t.task_id == own), None)
    if item is None:
        return HumanTaskSpec()
    # ``result`` names the user task's element: the values go to the process (its runner writes
    # them into the process's variables), never into the case file under that name.
    return HumanTaskSpec(role=item.role, result=item.element_id, fields={f.name: TaskFieldSpec(
        type=_FIELD_TYPES.get(f.type, "string"), required=f.required, label=f.label or None)  # type: ignore[arg-type]
        for f in item.form})


def runs_queued(rt: AgentRuntime) -> bool:
    """Whether every step of this runtime queues a run of its case for the workers — ``casepilot
    serve`` with workers, or any orchestrator made by ``queued_orchestrator`` (its step hook is a
    ``JobScheduler`` with ``run_on_change``) — so that work left undone here is done by a worker,
    from a job committed with the step that left it."""
    return bool(getattr(rt.on_step, "run_on_change", False))


def decide_item(rt: AgentRuntime, loaded: LoadedCase, task: HumanTask, actor: Person, choice: str,
                comment: str | None) -> HumanTask:
    """A person's decision on a process's inbox item, through its runner; the process runs on.

    A user task completes with the decision's typed values as its form data (the form is
    checked by the process: ``DecisionRejected`` and nothing changes); a checkpoint takes
    ``approve`` (the call runs) or ``reject`` (BPMN error ``rejected`` from the task). ``comment``
    comes pseudonymised (``Orchestrator.decide`` does it).

    Where the workers work the cases (:func:`runs_queued`) the process does not run on here: the
    decision is recorded (the runner's ``hold``: the item closed, the history event, the state
    with the approved or refused call or the completed user task) in one step that also queues
    the case's run; a worker runs the process on from there (:func:`resume_due`).
    """
    instance_id = owner_of(loaded, task.id)
    if instance_id is None:
        raise DecisionRejected(f"inbox item {task.id} belongs to no running process of case {loaded.id}")
    check_decision(task, actor=actor.name, actor_roles=actor.roles, choice=choice, now=rt.clock())
    who = f"person:{actor.name}"
    runner = _load_runner(rt, loaded, instance_id, who)
    run_on = not runs_queued(rt)
    if task.kind == "checkpoint":
        runner.decide(task.id, choice, actor=who, comment=comment, run_on=run_on)
    else:
        values = dict(_VALUES.get() or {})
        runner.complete_user_task(task.id, values, actor=who, comment=comment, run_on=run_on)
    return rt.store.task(task.id)


def end_orphaned(step: Step, loaded: LoadedCase, actor: str = "agent") -> None:
    """Stop the processes whose process task ended without them (the case was terminated, an exit
    criterion fired): their open inbox items are cancelled and the history says the process stopped."""
    engine = loaded.engine
    if engine is None:
        return
    for instance_id, entry in list(loaded.facts.processes.items()):
        view = engine.item(instance_id)
        if view is not None and view.state not in _ENDED:
            continue
        state = entry.get("runner") or {}
        why = f"the process task ended ({view.state if view is not None else 'gone'}): its process stopped"
        for item_id in state.get("inbox") or {}:
            step.close_task(item_id, "cancelled", actor=actor, comment=why)
        step.append("error", actor=actor, payload={"engine": "bpmn", "process": state.get("process_id"),
                                                   "instance": instance_id, "problem": why})
        del loaded.facts.processes[instance_id]


def _interrupted(entry: Mapping[str, Any]) -> bool:
    calls: Mapping[str, Mapping[str, Any]] = (entry.get("runner") or {}).get("calls") or {}
    return any(c.get("status") in ("started", "approved") for c in calls.values())


def _stopped_between_batches(loaded: LoadedCase, entry: Mapping[str, Any]) -> bool:
    """The stored process has a service call waiting that no batch recorded: its worker stopped after
    the batch of one call and before the next call's. Only a process waiting on nobody (no inbox
    item, no timer) is loaded to see."""
    from casepilot.bpmn.instance import ProcessInstance

    state: Mapping[str, Any] = entry.get("runner") or {}
    if state.get("inbox") or entry.get("next_timer") or state.get("failure") or "process" not in state:
        return False
    instance = ProcessInstance.load(_definitions(loaded), json.dumps(state["process"]), process_id=state["process_id"])
    recorded = state.get("calls") or {}
    return any(call.call_id not in recorded for call in instance.service_calls())


def resume_due(rt: AgentRuntime, loaded: LoadedCase, *, actor: str = "agent") -> bool:
    """Resume processes whose stored state has a person's decision recorded but not run on (a
    service with workers: ``decide_item``), a call started but never finished (a worker died
    mid-call: the runner applies the crash rule), approved but never run, or not yet begun (a
    worker died between two calls' batches), and advance those whose timer is due. True when one was."""
    from casepilot.bpmn.runner import ProcessRunner

    resumed = False
    now = rt.clock()
    for instance_id, entry in list(loaded.facts.processes.items()):
        if entry.get("run_on") or _interrupted(entry) or _stopped_between_batches(loaded, entry):
            ProcessRunner.resume(_definitions(loaded), entry["runner"], **_runner_kwargs(rt, loaded, instance_id, actor))
            _ran_on(rt, loaded.id, instance_id, entry)
        elif entry.get("next_timer") and dt.datetime.fromisoformat(str(entry["next_timer"])) <= now:
            _load_runner(rt, loaded, instance_id, actor).advance()
        else:
            continue
        resumed = True
        loaded = rt.load(loaded.id)
    return resumed


def _ran_on(rt: AgentRuntime, case_id: str, instance_id: str, entry: Mapping[str, Any]) -> None:
    """Clear the ``run_on`` mark of a process that ran on from a recorded decision. Every batch the
    run wrote replaced the mark already; a run with nothing to write (the decision led straight to
    another wait: a timer, a second user task) leaves it, and it would resume the process at every
    ``observe`` — so it is cleared here, in a step of its own."""
    if not entry.get("run_on"):
        return
    fresh = rt.load(case_id)
    now = fresh.facts.processes.get(instance_id)
    if now is None or not now.get("run_on"):
        return
    with rt.step(case_id, fresh) as (_step, loaded):
        loaded.facts.processes[instance_id].pop("run_on", None)
