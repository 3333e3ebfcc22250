"""Answering at once when workers work the cases (``casepilot serve`` on PostgreSQL).

In queue mode a request that makes a case's work due — starting it, asking it to run,
deciding an inbox item, taking a people action — commits that change together with a job
(``casepilot.worker``) and answers straight away: 202 with the case's URL in ``Location``.
A caller who wants the outcome adds ``?wait=SECONDS``: the answer comes when the case has
stopped (no run of it queued or in progress, its lease free) or when the time is up —
whichever is first; the status says which (202: still going). A waiting request holds one of
the server's worker threads, so at most ``MAX_WAITERS`` wait at once in a process; beyond
that a request answers at once (202), as if its wait had run out — the server keeps threads
for everyone else. The wait polls with backoff (20 ms growing to 250 ms), not every few ms.
"""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

from fastapi import Query, Request, Response

from casepilot.agent.orchestrator import Orchestrator
from casepilot.api.schemas import RunOutcomeOut

__all__ = ["MAX_WAIT", "MAX_WAITERS", "Wait", "accepted", "enqueue_run", "is_stopped", "queue_mode", "queued_outcome",
           "wait_until_stopped"]

MAX_WAIT = 300.0
"""The longest ``?wait=`` a request may ask for, in seconds (a request holds a server thread)."""

Wait = Annotated[float, Query(
    ge=0, le=MAX_WAIT,
    description="With workers (PostgreSQL): wait up to this many seconds for the case to stop before "
                "answering (202 if it has not stopped by then). Without workers the case is worked "
                "in the request and this is ignored.")]

MAX_WAITERS = 16
"""Requests of one server process that may wait for a case at once (the rest answer 202 at once)."""
_WAITERS = threading.BoundedSemaphore(MAX_WAITERS)
_FIRST_POLL, _LAST_POLL = 0.02, 0.25


def queue_mode(request: Request) -> bool:
    """Whether this app leaves cases to workers (``create_app(..., queue=True)``)."""
    return bool(getattr(request.app.state, "queue", False))


def enqueue_run(orch: Orchestrator, case_id: str, max_steps: int) -> None:
    """Ask the workers to run the case (a no-op if a run of its current version is already queued)."""
    from casepilot.worker import jobs  # queue mode only: the postgres extra

    version = orch.store.case_version(case_id)
    jobs.enqueue(orch.store.engine, [jobs.run_case(case_id, key=f"v{version}", max_steps=max_steps)])


def wait_until_stopped(orch: Orchestrator, case_id: str, seconds: float) -> bool:
    """Wait up to ``seconds`` until no run of the case is queued or going on; True if it stopped."""
    from casepilot.worker import jobs  # queue mode only: the postgres extra

    if seconds <= 0:
        return _stopped(orch, case_id, jobs)
    if not _WAITERS.acquire(blocking=False):
        return False  # enough requests wait already: answer at once, the case goes on in the workers
    try:
        deadline = time.monotonic() + seconds
        poll = _FIRST_POLL
        while True:
            if _stopped(orch, case_id, jobs):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(poll, left))
            poll = min(poll * 2, _LAST_POLL)
    finally:
        _WAITERS.release()


def is_stopped(orch: Orchestrator, case_id: str) -> bool:
    """Whether no run of the case is queued (due now) or going on, and no one holds its lease."""
    from casepilot.worker import jobs  # queue mode only: the postgres extra

    return _stopped(orch, case_id, jobs)


def _stopped(orch: Orchestrator, case_id: str, jobs: Any) -> bool:
    return bool(jobs.runs_in_flight(orch.store.engine, case_id) == 0 and orch.store.lease_holder(case_id) is None)


def queued_outcome(orch: Orchestrator, case_id: str) -> RunOutcomeOut:
    """What a caller hears while the case's run is still queued or going on: ``reason: queued``,
    the case's state and open inbox items as they are now."""
    loaded = orch.runtime.load(case_id)
    state = loaded.engine.state if loaded.engine else "active"
    return RunOutcomeOut(case_id=case_id, reason="queued", steps=0, case_state=state, pending=orch.pending(case_id))


def accepted(response: Response, case_id: str, *, stopped: bool, done_status: int) -> None:
    """Point at the case, and say whether its work is still going (202) or has stopped (``done_status``)."""
    response.headers["Location"] = f"/cases/{case_id}"
    response.status_code = done_status if stopped else 202
