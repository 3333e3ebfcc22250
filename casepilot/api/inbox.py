"""``/inbox``: open human tasks and checkpoints, people's decisions on them, and claims.

Any signed-in person may read the inbox (deciding needs the item's role, see ``casepilot.api.access``).
Claiming an item ("I am working on it") and releasing a claim need the item's role too; a claim
coordinates colleagues and does not change who may decide (see ``casepilot.store._claims``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from casepilot.agent._decision_values import declared_fields as agent_declared_fields
from casepilot.agent.manifest import TaskFieldSpec
from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.api._body import JsonRoute
from casepilot.api.access import require_item_role
from casepilot.api.deps import OrchestratorDep
from casepilot.api.errors import ApiError, error_responses
from casepilot.api.identity import request_person
from casepilot.api.queued import Wait, accepted, queue_mode, wait_until_stopped
from casepilot.api.schemas import ActorIn
from casepilot.api.schemas import DecisionIn as _PlainDecisionIn
from casepilot.errors import DecisionRejected
from casepilot.store import HumanTask

__all__ = ["ClaimOut", "DecisionIn", "decide_with_values", "declared_fields", "refusal_status",
           "require_claim_role", "router"]

router = APIRouter(prefix="/inbox", tags=["inbox"], route_class=JsonRoute, responses=error_responses(401, 422, 503))


@router.get("", response_model=list[HumanTask])
def open_tasks(
    orch: OrchestratorDep,
    role: Annotated[str | None, Query(description="Only items for this role.")] = None,
    case_id: Annotated[str | None, Query(description="Only items of this case.")] = None,
) -> list[HumanTask]:
    """Open inbox items, oldest first."""
    return orch.pending(case_id, role=role)


def refusal_status(task: HumanTask, person: Person, choice: str) -> int:
    """Why a decision was refused, as a status, from the item itself rather than the message text.

    403: the person lacks the item's role; 422: the choice is not an option; 409: the item is
    no longer decidable as asked (decided, expired, or its action changed since).
    """
    if task.status != "open":
        return 409
    if task.role is not None and task.role not in person.roles:
        return 403
    if task.options and choice not in task.options:
        return 422
    return 409


class DecisionIn(_PlainDecisionIn):
    """A person's decision on an inbox item, with the typed values its human task declares."""

    values: dict[str, Any] = Field(default_factory=dict, description=(
        "The human task's declared fields (manifest human_tasks.<task>.fields), name -> value: "
        "text, number, whole number, true/false, a date as YYYY-MM-DD or one of a choice's values. "
        "Written, with the decision, into the task's result variable; text is pseudonymised."))


def declared_fields(orch: Orchestrator, task: HumanTask) -> dict[str, TaskFieldSpec]:
    """The fields the human task behind an open inbox item declares (none for checkpoints)."""
    return agent_declared_fields(orch.runtime, task)


def decide_with_values(orch: Orchestrator, task: HumanTask, person: Person, choice: str, comment: str | None,
                       values: Mapping[str, Any]) -> HumanTask:
    """Decide with the typed values (``Orchestrator.decide(values=…)``: checked, every problem listed
    in ``InvalidTaskValues`` → 422, text pseudonymised, written with the decision)."""
    return orch.decide(task.id, person, choice, comment, values=values)


@router.get("/{task_id}/fields", response_model=dict[str, TaskFieldSpec],
            responses=error_responses(_404="No inbox item with this id."))
def fields(task_id: str, orch: OrchestratorDep) -> dict[str, TaskFieldSpec]:
    """The typed fields a decision on this open item brings in ``values`` (name -> declaration,
    in the manifest's order); empty for a checkpoint, a task that declares none, or a closed item."""
    return declared_fields(orch, orch.store.task(task_id))  # NotFound → 404


@router.post(
    "/{task_id}/decision",
    response_model=HumanTask,
    responses={202: {"model": HumanTask, "description": "With workers (PostgreSQL): decided, and the case "
                     "resumes in a worker — a BPMN process's item too: its process runs on there, not in the "
                     "server (``Location`` names the case; ``?wait=`` waits for it)."},
               **error_responses(
        400, 413,
        _403="The person lacks the role the item needs (the operator role for an item that names none).",
        _404="No inbox item with this id.",
        _409="The item was decided, expired, or its action changed.",
        _422="The choice is not one of the item's options, the values do not match the task's declared "
             "fields (each problem listed), or the request does not match the expected shape.",
    )},
)
def decide(task_id: str, body: DecisionIn, request: Request, response: Response, orch: OrchestratorDep,
           wait: Wait = 0) -> HumanTask:
    """Record a person's decision; the next run of the case resumes with it.

    The item's role decides; an item that names none needs the bundle's operator role. The
    values must match the fields the task declares (422 lists every problem). With
    workers (PostgreSQL) the decision also queues the case's run, in the same transaction:
    202, or 200 once the case has stopped within ``?wait=`` seconds. That holds for an item
    of a BPMN process (a user task, a checkpoint, a "run it again?" question) too: the server
    records the decision and a worker runs the process on — its service calls (a payment) are
    made there, governed, under the crash rule. Without workers the process runs on to its
    next wait state in this request. The body is the decided item either way.
    """
    person = request_person(request, body.actor, body.roles)
    task = orch.store.task(task_id)  # NotFound → 404
    require_item_role(request, orch, task, person)
    try:
        decided = decide_with_values(orch, task, person, body.choice, body.comment, body.values)
    except DecisionRejected as exc:
        raise ApiError(refusal_status(task, person, body.choice), "DecisionRejected", str(exc)) from exc
    if queue_mode(request):
        accepted(response, task.case_id, stopped=wait_until_stopped(orch, task.case_id, wait), done_status=200)
    return decided


class ClaimOut(BaseModel):
    """Who holds an inbox item now (``claimed_by`` None: nobody)."""

    task_id: str
    claimed_by: str | None
    since: datetime | None


_CLAIM_ERRORS = error_responses(
    400, 413,
    _403="The person lacks the item's role (the operator role for an item that names none).",
    _404="No inbox item with this id.",
    _409="Someone else holds the item, or it is no longer open.",
)


def require_claim_role(request: Request, orch: Orchestrator, task: HumanTask, person: Person) -> None:
    """Claiming or releasing an item needs the role that decides it (the operator role for an item
    that names none) — checked here, in developer mode too: a claim never goes to anyone."""
    if task.role is None:
        require_item_role(request, orch, task, person)
        return
    if task.role not in person.roles:
        held = ", ".join(sorted(person.roles)) or "no roles"
        raise ApiError(403, "NotAuthorized", f"{person.name} may not claim or release inbox item {task.id}: "
                       f"that needs the role {task.role!r}, and {person.name} has {held}")


@router.post("/{task_id}/claim", response_model=ClaimOut, responses=_CLAIM_ERRORS)
def claim(task_id: str, request: Request, orch: OrchestratorDep, body: ActorIn | None = None) -> ClaimOut:
    """Take an open item: colleagues see it is being worked on. Needs the item's role."""
    body = body or ActorIn()
    person = request_person(request, body.actor, body.roles)
    task = orch.store.task(task_id)  # NotFound → 404
    require_claim_role(request, orch, task, person)
    who, since = orch.store.claim_task(task_id, person.name)  # ConcurrencyConflict → 409
    return ClaimOut(task_id=task_id, claimed_by=who, since=since)


@router.post("/{task_id}/release", response_model=ClaimOut, responses=_CLAIM_ERRORS)
def release(task_id: str, request: Request, orch: OrchestratorDep, body: ActorIn | None = None) -> ClaimOut:
    """Give an item back (a claim of one's own or a colleague's). Needs the item's role."""
    body = body or ActorIn()
    person = request_person(request, body.actor, body.roles)
    task = orch.store.task(task_id)
    require_claim_role(request, orch, task, person)
    orch.store.release_task(task_id)
    return ClaimOut(task_id=task_id, claimed_by=None, since=None)
