"""``POST /cases/{id}/run/stream`` when workers work the cases (``casepilot serve`` on PostgreSQL).

The request does not run the case: it queues the run as ``/run`` does (``queued.enqueue_run``,
in a transaction of its own) and follows the case's history while a worker — in another
process, maybe on another machine — works it, as ``GET /cases/{id}/events`` does. So the
stream shows what was recorded, and nothing is lost when it ends early: the run goes on in
the worker, whose every step is in the history.

The events have the shapes the in-process stream sends, so a client need not know the mode:

- ``event: step`` per recorded history event (bookkeeping left out, as in a timeline):
  ``{"node", "summary"}`` — ``node`` is the event's kind (``plan``, ``verdict``,
  ``tool_call_completed``, ``human_task_created``…: the worker's loop nodes are not recorded,
  its events are) and ``summary`` its timeline line; the SSE ``id:`` is its sequence number,
  so a client that lost the stream resumes with ``GET /cases/{id}/events?after_seq=``;
- then one ``event: outcome`` (``RunOutcomeOut``) once the case has stopped — no run of it
  queued or in progress and its lease free: finished, waiting for people or events — or
  ``reason: queued`` when the stream's time (``STREAM_SECONDS``) ran out first;
- or ``event: error`` (``{"error", "detail", "problems"}``) when the worker's job for the run
  failed (the queue holds it as failed; the worker's log has the traceback).

The stream holds no server thread while it waits: each poll is a short read in the thread
pool (``POLL_SECONDS``), and a comment line keeps an idle connection open through proxies.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from casepilot.agent.orchestrator import Orchestrator
from casepilot.api.queued import MAX_WAIT, enqueue_run, is_stopped, queued_outcome
from casepilot.api.schemas import outcome_out
from casepilot.api.web_events import KEEP_ALIVE_SECONDS, news

__all__ = ["POLL_SECONDS", "STREAM_SECONDS", "follow_queued_run", "step_event"]

STREAM_SECONDS = MAX_WAIT
"""How long one stream follows a queued run before it ends with a ``queued`` outcome."""
POLL_SECONDS = 0.25
"""How often the stream looks for new history events and whether the case has stopped."""

_FAILED_RUNS = text("SELECT id FROM pgqueuer WHERE dedupe_key LIKE :prefix AND status = 'failed'")
_FAILURE = text("SELECT traceback FROM pgqueuer_log WHERE job_id = :job AND status = 'failed' "
                "ORDER BY created DESC LIMIT 1")


def _sse(event: str, data: Any, seq: int | None = None) -> str:
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def step_event(kind: str, what: str) -> dict[str, str]:
    """The ``step`` data for one history event (a timeline entry's kind and line)."""
    return {"node": kind, "summary": what}


def _failed_runs(orch: Orchestrator, case_id: str) -> set[int]:
    """Ids of the case's run jobs the queue holds as failed (``on_failure="hold"`` in the worker)."""
    with orch.store.engine.connect() as conn:
        return {int(row[0]) for row in conn.execute(_FAILED_RUNS, {"prefix": f"run:{case_id}:%"})}


def _failure(orch: Orchestrator, job_id: int) -> dict[str, Any]:
    """The ``error`` data for a failed job: the exception's type and message as the queue logged them."""
    with orch.store.engine.connect() as conn:
        record = conn.execute(_FAILURE, {"job": job_id}).scalar_one_or_none()
    found = record if isinstance(record, dict) else {}
    kind = str(found.get("exception_type") or "WorkerJobFailed")
    message = str(found.get("exception_message") or "see the worker's log")
    return {"error": kind, "detail": f"the worker's run of the case failed (job {job_id}): {message}",
            "problems": []}


def follow_queued_run(request: Request, orch: Orchestrator, case_id: str, max_steps: int) -> StreamingResponse:
    """Queue a run of the case and stream its history until it stops (called in the request's thread)."""
    after = orch.store.case(case_id).last_seq  # what happened before this request is not this run's
    failed_before = _failed_runs(orch, case_id)
    enqueue_run(orch, case_id, max_steps)

    async def events() -> AsyncIterator[str]:
        seen, deadline = after, time.monotonic() + STREAM_SECONDS
        quiet_since = time.monotonic()
        while True:
            # Stopped first, then the history: whatever the finished run recorded is read below.
            stopped = await run_in_threadpool(is_stopped, orch, case_id)
            entries, seen, more = await run_in_threadpool(news, orch, case_id, seen)
            for entry in entries:
                yield _sse("step", step_event(entry.kind, entry.what), entry.seq)
            if more:
                continue
            if entries:
                quiet_since = time.monotonic()
            if stopped:
                yield await run_in_threadpool(_last_event, orch, case_id, failed_before)
                return
            now = time.monotonic()
            if now >= deadline:
                late = await run_in_threadpool(queued_outcome, orch, case_id)
                yield _sse("outcome", late.model_dump(mode="json"))
                return
            if await request.is_disconnected():
                return  # nobody listens; the run goes on in the worker
            if now - quiet_since >= KEEP_ALIVE_SECONDS:
                quiet_since = now
                yield ": keep-alive\n\n"
            await asyncio.sleep(min(POLL_SECONDS, deadline - now))

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _last_event(orch: Orchestrator, case_id: str, failed_before: set[int]) -> str:
    """``error`` if a run job of the case failed since the stream began, else the worker's ``outcome``."""
    failed = sorted(_failed_runs(orch, case_id) - failed_before)
    if failed:
        return _sse("error", _failure(orch, failed[-1]))
    return _sse("outcome", outcome_out(orch.outcome(case_id), case_id).model_dump(mode="json"))
