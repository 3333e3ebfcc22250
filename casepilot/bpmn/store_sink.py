"""A process runner persisting into a casepilot store: one ``Store.step`` per batch.

:class:`StoreSink` is the :class:`~casepilot.bpmn.events.ProcessSink` for ``casepilot.store``:
each batch becomes one step of one case — its events appended to the case's hash-chained
history, inbox items opened and closed (``Step.create_task`` / ``decide_task`` /
``close_task``, which write ``human_task_created`` / ``human_task_decided``), and the runner's
state saved — all in one transaction, so a worker killed at any moment leaves either the
whole batch or none of it.

The runner state is the case state (a process run on its own: :func:`start_process_case`),
or one key of it (``state_key``: a process inside a case, next to the CMMN state).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from casepilot.errors import CasepilotError
from casepilot.store import Step, Store
from casepilot.tools import ToolRegistry as _Registry

from .definitions import ProcessDefinitions
from .engine import Clock
from .events import ProcessBatch, ProcessEvent
from .runner import Governance, ProcessRunner

__all__ = ["StoreSink", "resume_process_case", "start_process_case", "write_event"]


class StoreSink:
    """Writes a runner's batches into case ``case_id`` of ``store`` (see the module docstring)."""

    def __init__(self, store: Store, case_id: str, *, version: int | None = None, state_key: str | None = None) -> None:
        self.store = store
        self.case_id = case_id
        self.version = store.case_version(case_id) if version is None else version
        """The case version the next step expects (another writer moving the case is a ConcurrencyConflict)."""
        self.state_key = state_key

    def write(self, batch: ProcessBatch) -> None:
        with self.store.step(self.case_id, self.version) as step:
            for event in batch.events:
                write_event(step, event)
            state: dict[str, Any] = dict(batch.state)
            if self.state_key is not None:
                state = {**step.case.state, self.state_key: state}
            step.save_state(state)
        assert step.result is not None
        self.version = step.result.version


def write_event(step: Step, event: ProcessEvent, payload: Mapping[str, Any] | None = None) -> None:
    """One runner event into ``step``: an inbox item opened or closed, else a history event with
    ``payload`` (default: the event's own; a case passes its redacted copy)."""
    if event.opens is not None:
        item = event.opens
        step.create_task(item.prompt, kind=item.kind, plan_item=item.element, role=item.role, options=item.options,
                         action_digest=item.action_digest, actor=event.actor, task_id=item.task_id)
    elif event.closes is not None:
        close = event.closes
        if close.decision is None:
            step.close_task(close.task_id, "cancelled", actor=close.decided_by, comment=close.comment)
        else:
            step.decide_task(close.task_id, decided_by=close.decided_by, decision=close.decision,
                             comment=close.comment)
    else:
        step.append(event.kind, actor=event.actor, payload=dict(event.payload if payload is None else payload),
                    rule_ids=event.rule_ids, latency_ms=event.latency_ms)


def start_process_case(store: Store, definition_key: str, definitions: ProcessDefinitions,
                       process_id: str | None = None, *, tools: _Registry, govern: Governance,
                       data: Mapping[str, Any] | None = None, operator_role: str | None = None,
                       clock: Clock | None = None, business_key: str | None = None) -> ProcessRunner:
    """Start a process as a case of its own (``definition_key`` deployed in ``store``), run to its first wait."""
    case = store.create_case(definition_key, {"kind": "bpmn_process", "status": "starting"},
                             business_key=business_key)
    sink = StoreSink(store, case.id, version=case.version)
    return ProcessRunner.start(definitions, process_id, instance_id=case.id, tools=tools, govern=govern, sink=sink,
                               data=data, operator_role=operator_role, clock=clock)


def resume_process_case(store: Store, case_id: str, definitions: ProcessDefinitions, *, tools: _Registry,
                        govern: Governance, operator_role: str | None = None,
                        clock: Clock | None = None) -> ProcessRunner:
    """Load a process case (its hash chain checked first) and go on — the crash rule applied."""
    case = store.load_case(case_id)
    if case.state.get("kind") != "bpmn_process" or "process" not in case.state:
        raise CasepilotError(f"case {case_id} holds no process state to resume (status "
                             f"{case.state.get('status', 'unknown')!r}); start the process again")
    sink = StoreSink(store, case_id, version=case.version)
    return ProcessRunner.resume(definitions, case.state, tools=tools, govern=govern, sink=sink,
                                operator_role=operator_role, clock=clock)
