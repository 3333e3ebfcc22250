"""Which jobs a step makes due, staged on the step so they commit with it (``AgentRuntime.on_step``).

Read from what the step itself changed, never from a scan of all cases:

- a change made outside a worker (a case started, a person decided or acted, a chat
  instruction) makes a run due — in ``casepilot serve``, which only enqueues;
- a step with transitions may have started a CMMN timer: the earliest live timer's due time
  gets a ``fire_timer`` job (deduplicated by case and due time);
- a checkpoint opened with a deadline gets an ``expire_checkpoint`` job at that deadline;
- a failed tool call gets a ``retry_tool`` job after an exponential backoff, up to
  ``max_tool_attempts`` tries in all (the count is read from the case's history, in the same
  transaction, when the job is written).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, text

from casepilot.agent.context import LoadedCase
from casepilot.agent.engine import EngineCase
from casepilot.store._step import Step
from casepilot.worker import jobs

__all__ = ["JobScheduler", "next_timer"]


def next_timer(engine: EngineCase) -> dt.datetime | None:
    """When the case's earliest live timer is due (None: no timer is counting).

    Read from the runtime's timer heap (a few entries) rather than a view of every plan
    item; entries of timers that occurred or were withdrawn since are skipped.
    """
    machine: Any = engine.instance._m
    live = [due for due, _, iid in machine.timers
            if (inst := machine.items.get(iid)) is not None and inst.state == "Available"
            and inst.due == due.isoformat()]
    return min(live) if live else None


_FAILURES = text("SELECT count(*) FROM history_events WHERE case_id = :case_id AND kind = 'tool_call_failed' "
                 "AND payload_json LIKE :tool")


@dataclass(frozen=True, slots=True)
class _RetryAfterFailure:
    """A ``retry_tool`` job whose attempt number (and so its backoff) is counted at commit."""

    case_id: str
    option_id: str
    tool: str
    base: timedelta
    max_attempts: int

    def write(self, conn: Connection) -> None:
        # This step's own failure is not written yet: the ones before it, plus this one.
        failures = 1 + int(conn.execute(_FAILURES, {"case_id": self.case_id,
                                                     "tool": f'%"tool":"{self.tool}"%'}).scalar_one())
        if failures >= self.max_attempts:
            return  # the task stays withdrawn; the case goes on (or waits) without it
        delay = self.base * (2 ** (failures - 1))
        jobs.retry_tool(self.case_id, self.option_id, self.tool, attempt=failures + 1, delay=delay).write(conn)


@dataclass
class JobScheduler:
    """Stages the jobs each step makes due; install as ``AgentRuntime.on_step`` (PostgreSQL only)."""

    run_on_change: bool
    """Enqueue a run after every change (``serve``, where no case is worked in the request);
    False in a worker, which works the case on itself."""
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    retry_base: timedelta = timedelta(seconds=5)
    """The first retry of a failed tool waits this long; each further one twice as long."""
    max_tool_attempts: int = 3
    """Tries of a failing tool in all (the first call included) before its task stays withdrawn."""

    def __call__(self, step: Step, loaded: LoadedCase) -> None:
        events = step.staged_events
        if self.run_on_change and events:
            step.enqueue(jobs.run_case(loaded.id, key=f"v{loaded.record.version + 1}"))
        now = self.clock()
        transitions = False
        for event in events:
            if event.kind == "transition":
                transitions = True
            elif event.kind == "human_task_created" and event.payload.get("expires_at"):
                expires = dt.datetime.fromisoformat(str(event.payload["expires_at"]))
                step.enqueue(jobs.expire_checkpoint(loaded.id, str(event.payload["task_id"]), expires, now=now))
            elif event.kind == "tool_call_failed" and loaded.facts.rejected:
                # ``record`` withdraws the failed option (the last one rejected) in this same step.
                step.enqueue(_RetryAfterFailure(loaded.id, loaded.facts.rejected[-1], str(event.payload["tool"]),
                                                self.retry_base, self.max_tool_attempts))
        if transitions and loaded.engine is not None and not loaded.engine.finished:
            due = next_timer(loaded.engine)
            if due is not None:
                step.enqueue(jobs.fire_timer(loaded.id, due, now=now))
