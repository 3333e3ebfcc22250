"""Answering at once when workers work the cases (``casepilot serve`` on PostgreSQL).

In queue mode a request that makes a case's work due — starting it, asking it to run,
deciding an inbox item, taking a people action — commits that change together with a job
(``casepilot.worker``) and answers straight away: 202 with the case's URL in ``Location``.
A caller who wants the outcome adds ``?wait=SECONDS``: the answer comes when the case has
stopped (no run of it queued or in progress, its lease free) or when the time is up —
whichever is first; the status says which (202: still going).
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Query, Request, Response

from casepilot.agent.orchestrator import Orchestrator

__all__ = ["MAX_WAIT", "Wait", "accepted", "enqueue_run", "queue_mode", "wait_until_stopped"]

MAX_WAIT = 300.0
"""The longest ``?wait=`` a request may ask for, in seconds (a request holds a server thread)."""

Wait = Annotated[float, Query(
    ge=0, le=MAX_WAIT,
    description="With workers (PostgreSQL): wait up to this many seconds for the case to stop before "
                "answering (202 if it has not stopped by then). Without workers the case is worked "
                "in the request and this is ignored.")]

_POLL = 0.05


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

    deadline = time.monotonic() + seconds
    while True:
        if jobs.runs_in_flight(orch.store.engine, case_id) == 0 and orch.store.lease_holder(case_id) is None:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL)


def accepted(response: Response, case_id: str, *, stopped: bool, done_status: int) -> None:
    """Point at the case, and say whether its work is still going (202) or has stopped (``done_status``)."""
    response.headers["Location"] = f"/cases/{case_id}"
    response.status_code = done_status if stopped else 202
