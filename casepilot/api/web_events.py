"""``GET /cases/{id}/events``: follow a case someone else is working, as server-sent events.

A person waiting on a case page (a worker runs it, a colleague decides its review) sees each
new step as it is recorded, without pressing reload. The stream reads the store, not the
process that runs the case, so it follows runs in other processes and on other machines:
it polls the case row's ``last_seq`` (one small read) and fetches only the new history
events after it.

Each event is one timeline line (``casepilot.agent.timeline``), values as stored (personal
data pseudonymised), with ``id:`` its sequence number, so a browser's ``EventSource`` resumes
where it stopped (``Last-Event-ID``). A connection is bounded (``seconds``): it ends with an
``end`` event — ``{"reason": "time"}`` (reconnect to go on) or ``{"reason": "finished"}`` once
the case left the active and suspended states — and a comment line keeps idle connections
open through proxies. Reading it needs what reading the case needs: a signed-in person.

Not in the OpenAPI document (like the web page's routes): a stream that waits minutes for
events someone else records has no response shape a client generator could use, and a
schema fuzzer would wait out every connection.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.timeline import TimelineEntry, timeline
from casepilot.api.deps import OrchestratorDep
from casepilot.api.errors import error_responses

__all__ = ["FOLLOWED_STATES", "KEEP_ALIVE_SECONDS", "POLL_SECONDS", "news", "router"]

POLL_SECONDS = 0.5
"""How often the stream looks for new events."""
KEEP_ALIVE_SECONDS = 15.0
"""The longest silence before a keep-alive comment (proxies close idle connections)."""
FOLLOWED_STATES = ("active", "suspended")
"""Case states in which something may still happen; in any other the stream ends."""
_BATCH = 200

router = APIRouter(prefix="/cases", tags=["cases"], include_in_schema=False, responses=error_responses(401))


def _state(orch: Orchestrator, case_id: str) -> str:
    engine = orch.runtime.load(case_id).engine
    return engine.state if engine is not None else "active"


def _sse(event: str, data: Any, seq: int | None = None) -> str:
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def news(orch: Orchestrator, case_id: str, after: int) -> tuple[list[TimelineEntry], int, bool]:
    """The timeline entries of the history events after ``after`` (at most a batch of events), the
    last sequence number read, and whether more are there already. One small read (the case row's
    ``last_seq``) when nothing is new; also what ``POST /cases/{id}/run/stream`` follows with workers."""
    last = orch.store.case(case_id).last_seq
    if last <= after:
        return [], after, False
    events = orch.store.history(case_id, after_seq=after, limit=_BATCH)
    read = events[-1].seq if events else last
    return timeline(events), read, read < last


def _news(orch: Orchestrator, case_id: str, after: int) -> tuple[list[str], int, bool]:
    """``news`` as ``history`` server-sent events."""
    entries, read, more = news(orch, case_id, after)
    lines = [_sse("history", {"seq": row.seq, "at": row.at.isoformat(), "actor": row.actor, "kind": row.kind,
                              "what": row.what, "rule_ids": list(row.rule_ids)}, row.seq)
             for row in entries]
    return lines, read, more


@router.get(
    "/{case_id}/events",
    responses={**error_responses(404, 422, _404="No case with this id."),
               200: {"content": {"text/event-stream": {}},
                     "description": "`history` events (one timeline line each, `id:` its sequence number), "
                                    "keep-alive comments, then one `end` event."}},
)
async def follow(
    case_id: str,
    request: Request,
    orch: OrchestratorDep,
    after_seq: Annotated[int, Query(ge=0, le=2**62, description="Send events after this sequence number.")] = 0,
    seconds: Annotated[float, Query(ge=0, le=600, description=(
        "How long to follow before the stream ends (0: send what is there and end).")) ] = 300,
    last_event_id: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> StreamingResponse:
    """New history events of the case as they are recorded (server-sent events), by whoever records them."""
    await run_in_threadpool(orch.store.case, case_id)  # NotFound → 404 before the stream starts
    start = int(last_event_id) if last_event_id and last_event_id.isdigit() else after_seq

    async def events() -> AsyncIterator[str]:
        after, deadline = start, time.monotonic() + seconds
        quiet_since = time.monotonic()
        yield f"retry: {int(POLL_SECONDS * 4000)}\n\n"
        first = True
        while True:
            lines, after, more = await run_in_threadpool(_news, orch, case_id, after)
            for line in lines:
                yield line
            if lines:
                quiet_since = time.monotonic()
            if (lines or first) and not more:
                first = False
                state = await run_in_threadpool(_state, orch, case_id)
                if state not in FOLLOWED_STATES:
                    yield _sse("end", {"reason": "finished", "state": state, "last_seq": after})
                    return
            now = time.monotonic()
            if now >= deadline or await request.is_disconnected():
                yield _sse("end", {"reason": "time", "last_seq": after})
                return
            if now - quiet_since >= KEEP_ALIVE_SECONDS:
                quiet_since = now
                yield ": keep-alive\n\n"
            if not more:
                await asyncio.sleep(min(POLL_SECONDS, max(0.0, deadline - now)))

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
