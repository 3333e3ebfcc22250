"""``/cases``: start, inspect, run a case; read and verify its history (chat: ``casepilot.api.chat``).

Reads need a signed-in person only; each change needs the role ``casepilot.api.access`` names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from casepilot.agent._process_cases import process_of
from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.people import listed_actions, unavailable_roles
from casepilot.agent.privacy import jsonable
from casepilot.agent.timeline import describe_update
from casepilot.api._body import JsonRoute
from casepilot.api.access import caller, require_action_role, require_operator, require_starter
from casepilot.api.deps import OrchestratorDep
from casepilot.api.errors import ApiError, error_responses
from casepilot.api.identity import request_person
from casepilot.api.processes import process_states
from casepilot.api.queued import Wait, accepted, enqueue_run, queue_mode, queued_outcome, wait_until_stopped
from casepilot.api.queued_stream import follow_queued_run
from casepilot.api.schemas import (
    ActorIn,
    CaseItem,
    CaseListed,
    CaseSummary,
    HistoryPage,
    PersonActionOut,
    RevealedCaseFile,
    RunIn,
    RunOutcomeOut,
    StartCaseIn,
    outcome_out,
)
from casepilot.errors import CasepilotError, DecisionRejected
from casepilot.store import VerifyReport

__all__ = ["case_summary", "router"]

router = APIRouter(prefix="/cases", tags=["cases"], route_class=JsonRoute, responses=error_responses(401, 422, 503))

_SEQ_MAX = 2**31 - 1
"""The largest history sequence number: the store keeps them in an ``INTEGER`` column, 32 bits
on PostgreSQL, which refuses a larger ``after_seq`` in the query itself (a 500, not an empty page)."""

_NOT_FOUND = error_responses(_404="No case with this id.")
_QUEUED = "With workers (PostgreSQL): accepted, and the case's work goes on in a worker (``Location`` names the " \
          "case; ``?wait=`` waits for it)."
_CHANGES = error_responses(
    400, 409, 413, _403="The person lacks the bundle's operator role, or governance did not allow it.")
"""What every request that works a case may also meet: a body that is not JSON or too large,
a refusal, another writer first."""


def case_summary(orch: Orchestrator, case_id: str) -> CaseSummary:
    """The case's state as the engine sees it (rebuilt from the store, the source of truth)."""
    loaded = orch.runtime.load(case_id)  # checks the store's version: the copy is current
    engine, record = loaded.engine, loaded.record
    return CaseSummary(
        id=record.id,
        definition_key=record.definition_key,
        definition_version=record.definition_version,
        business_key=record.business_key,
        state=engine.state if engine is not None else "active",
        version=record.version,
        created_at=record.created_at,
        updated_at=record.updated_at,
        variables=engine.variables() if engine is not None else {},
        items=[CaseItem(id=v.instance_id, name=v.name, kind=v.kind, state=v.state)
               for v in (engine.items() if engine is not None else [])],
        open_tasks=orch.pending(case_id),
        kind="process" if loaded.facts.process else "case",
        process=loaded.facts.process,
        processes=process_states(loaded),
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseSummary,
    responses={202: {"model": CaseSummary, "description": _QUEUED},
               **error_responses(400, 413, _403="The person lacks the bundle's starter role.",
                                 _404="No definition with this key, or (`process`) no such BPMN process in it.")},
)
def start_case(body: StartCaseIn, request: Request, response: Response, orch: OrchestratorDep,
               wait: Wait = 0) -> CaseSummary:
    """Start a case on the latest version of a definition; its PII goes to the case's vault.

    With ``process``, one of the bundle's BPMN processes is started on its own instead (404
    naming the bundle's processes when it has no such one): it runs at once to its first wait
    state (with workers: a worker starts it, as the run queued with the case) and is then a case
    like any other (``kind: process``).

    Needs the bundle's ``starter_role`` (else its ``operator_role``); the history records the
    person who started it. With workers (PostgreSQL) the case is also queued to run: 202,
    or 201 once it has stopped within ``?wait=`` seconds.
    """
    person = caller(request, body.actor, body.roles)
    require_starter(request, orch, body.definition_key, person)
    case = orch.start_case(body.definition_key, body.variables, body.business_key,
                           actor=f"person:{person.name}" if person is not None else "api", process=body.process,
                           queued=queue_mode(request))
    if queue_mode(request):
        accepted(response, case.id, stopped=wait_until_stopped(orch, case.id, wait), done_status=201)
    return case_summary(orch, case.id)


@router.get("", response_model=list[CaseListed])
def list_cases(
    orch: OrchestratorDep,
    business_key: str | None = None,
    definition_key: str | None = None,
    tenant: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many cases, in the order they were created.")] = 100,
) -> list[CaseListed]:
    """Cases, optionally of one business key, definition or tenant."""
    return [
        CaseListed.model_validate({**record.model_dump(exclude={"state", "last_seq", "head_hash"}),
                                   "kind": "process" if process_of(record.state) else "case",
                                   "process": process_of(record.state)})
        for record in orch.store.cases(business_key=business_key, definition_key=definition_key, tenant=tenant,
                                       limit=limit)
    ]


@router.get("/{case_id}", response_model=CaseSummary, responses=_NOT_FOUND)
def get_case(case_id: str, orch: OrchestratorDep) -> CaseSummary:
    """Where the case stands: state, plan items, open inbox items."""
    return case_summary(orch, case_id)


_RUN_QUEUED: dict[int | str, dict[str, Any]] = {202: {"model": RunOutcomeOut, "description": _QUEUED + " The outcome says ``queued``."}}


@router.post("/{case_id}/run", response_model=RunOutcomeOut,
             responses={**_RUN_QUEUED, **_NOT_FOUND, **_CHANGES})
def run_case(case_id: str, request: Request, response: Response, orch: OrchestratorDep,
             body: RunIn | None = None, wait: Wait = 0) -> RunOutcomeOut:
    """Work the case until it finishes, waits for people or events, or ``max_steps`` steps.

    Needs the bundle's operator role. The body is optional (``max_steps`` defaults to 50).
    With workers (PostgreSQL) the run is queued: 202, or 200 with the outcome once the case
    has stopped within ``?wait=`` seconds.
    """
    body = body or RunIn()
    require_operator(request, orch, case_id, caller(request, body.actor, body.roles), f"run case {case_id}")
    if queue_mode(request):
        enqueue_run(orch, case_id, body.max_steps)
        return _queued_outcome(orch, case_id, response, wait)
    outcome = orch.run(case_id, max_steps=body.max_steps)
    return outcome_out(outcome)


def _queued_outcome(orch: Orchestrator, case_id: str, response: Response, wait: float) -> RunOutcomeOut:
    """The worker's outcome once the case stopped within ``wait`` seconds (200), else ``queued`` (202)."""
    stopped = wait_until_stopped(orch, case_id, wait)
    accepted(response, case_id, stopped=stopped, done_status=200)
    if stopped:
        outcome = orch.outcome(case_id)  # the worker's run, from the loop's checkpoint in the same database
        return outcome_out(outcome, case_id)
    return queued_outcome(orch, case_id)


@router.post(
    "/{case_id}/run/stream",
    responses={**_NOT_FOUND, **_CHANGES, 200: {"content": {"text/event-stream": {}},
                                   "description": "`step` events while the run goes, then one `outcome` event "
                                                  "(or one `error` event). With workers each step is a recorded "
                                                  "history event (`id:` its sequence number)."}},
)
def run_case_streaming(case_id: str, request: Request, orch: OrchestratorDep,
                       body: RunIn | None = None) -> StreamingResponse:
    """Like ``/run``, reporting every step as it happens (server-sent events) — for long runs
    with a language model: ``event: step`` per node (``{"node", "summary"}``), then
    ``event: outcome`` with what ``/run`` returns, or ``event: error`` with the error body.

    With workers (PostgreSQL) the run is queued as for ``/run`` and the stream follows the
    case's history while a worker works it: one ``step`` per recorded event (``node`` is the
    event's kind, ``id:`` its sequence number), then the worker's ``outcome`` once the case has
    stopped (``reason: queued`` if it has not within 300 s; the run goes on in the worker)."""
    body = body or RunIn()
    # NotFound → 404 and a refusal → 403 before the stream starts
    require_operator(request, orch, case_id, caller(request, body.actor, body.roles), f"run case {case_id}")
    orch.store.case(case_id)
    max_steps = body.max_steps
    if queue_mode(request):
        return follow_queued_run(request, orch, case_id, max_steps)

    def events() -> Iterator[str]:
        try:
            for update in orch.stream(case_id, max_steps=max_steps):
                yield _sse("step", {"node": update["node"], "summary": describe_update(update["node"], update["update"])})
            outcome = orch.outcome(case_id)
            yield _sse("outcome", outcome_out(outcome).model_dump(mode="json"))
        except CasepilotError as exc:  # the status line is sent already: the error travels as an event
            yield _sse("error", {"error": type(exc).__name__, "detail": str(exc), "problems": []})

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.get("/{case_id}/history", response_model=HistoryPage, responses=_NOT_FOUND)
def history(
    case_id: str,
    orch: OrchestratorDep,
    after_seq: Annotated[int, Query(ge=0, le=_SEQ_MAX, description="Events after this sequence number.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many events.")] = 100,
) -> HistoryPage:
    """A page of the case's append-only, hash-chained history, oldest first."""
    last_seq = orch.store.case(case_id).last_seq  # NotFound → 404 instead of an empty page
    events = orch.store.history(case_id, after_seq=after_seq, limit=limit)
    more = bool(events) and events[-1].seq < last_seq
    return HistoryPage(case_id=case_id, events=events, next_after_seq=events[-1].seq if more else None)


@router.get("/{case_id}/verify", response_model=VerifyReport, responses=_NOT_FOUND)
def verify(case_id: str, orch: OrchestratorDep) -> VerifyReport:
    """Check the history's hash chain; ``ok`` is false with the first bad event when it was changed."""
    orch.store.case(case_id)
    return orch.store.verify(case_id)


@router.get("/{case_id}/actions", response_model=list[PersonActionOut], responses=_NOT_FOUND)
def people_actions(case_id: str, orch: OrchestratorDep) -> list[PersonActionOut]:
    """User events people may make occur and discretionary items they may plan now, with the roles
    the case model authorises for each.

    A discretionary item whose applicability rule reads personal data that was erased is listed
    with ``available: false`` and the reason, never offered; the listing records nothing (the
    case's next step fails the case and records why)."""
    orch.store.case(case_id)
    engine = orch.runtime.load(case_id).engine
    actions, unavailable = listed_actions(engine)
    out = [PersonActionOut(id=a.id, kind=a.kind, label=a.label, roles=list(a.roles)) for a in actions]
    if engine is not None:
        out += [PersonActionOut(id=u.id, kind="plan", label=u.label, roles=list(unavailable_roles(engine, u)),
                                available=False, reason=u.reason) for u in unavailable]
    return out


@router.post(
    "/{case_id}/actions/{action_id}",
    response_model=RunOutcomeOut,
    responses={**_RUN_QUEUED, **_NOT_FOUND, **_CHANGES, **error_responses(
        _403="The actor lacks an authorised role (the operator role for an action open to anyone), or "
             "governance did not allow it.")},
)
def perform(case_id: str, action_id: str, request: Request, response: Response, orch: OrchestratorDep,
            body: ActorIn | None = None, wait: Wait = 0) -> RunOutcomeOut:
    """Take one of the case's people actions, then work the case on (the outcome says where it stopped).

    Needs a role the case model authorises for the action; an action it opens to anyone needs
    the bundle's operator role.
    """
    body = body or ActorIn()
    person = request_person(request, body.actor, body.roles)
    orch.store.case(case_id)
    require_action_role(request, orch, case_id, action_id, person)
    orch.perform(case_id, action_id, person)
    if queue_mode(request):  # the action's step queued the run
        return _queued_outcome(orch, case_id, response, wait)
    outcome = orch.run(case_id)
    return outcome_out(outcome)


@router.post(
    "/{case_id}/reveal",
    response_model=RevealedCaseFile,
    responses={**_NOT_FOUND, **_CHANGES, **error_responses(_403="The actor's roles may not see personal data.")},
)
def reveal(case_id: str, request: Request, response: Response, orch: OrchestratorDep,
           body: ActorIn | None = None) -> RevealedCaseFile:
    """The case file with personal data in clear, for a role the case allows (``reveal_roles``).

    Every reveal, and every refusal, is recorded in the case history; the answer is marked
    not to be cached.
    """
    body = body or ActorIn()
    person = request_person(request, body.actor, body.roles)
    orch.store.case(case_id)
    loaded = orch.runtime.load(case_id)
    variables = loaded.engine.variables() if loaded.engine is not None else {}
    try:
        clear = orch.reveal(case_id, variables, person)
    except DecisionRejected as exc:
        raise ApiError(403, "NotAuthorized", str(exc)) from exc
    response.headers["Cache-Control"] = "no-store"
    return RevealedCaseFile(case_id=case_id, revealed_for=person.name, variables=jsonable(clear))
