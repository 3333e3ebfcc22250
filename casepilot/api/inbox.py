"""``/inbox``: open human tasks and checkpoints, and people's decisions on them.

Any signed-in person may read the inbox (deciding needs the item's role, see ``casepilot.api.access``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from casepilot.agent.orchestrator import Person
from casepilot.api._body import JsonRoute
from casepilot.api.access import require_item_role
from casepilot.api.deps import OrchestratorDep
from casepilot.api.errors import ApiError, error_responses
from casepilot.api.identity import request_person
from casepilot.api.queued import Wait, accepted, queue_mode, wait_until_stopped
from casepilot.api.schemas import DecisionIn
from casepilot.errors import DecisionRejected
from casepilot.store import HumanTask

__all__ = ["refusal_status", "router"]

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


@router.post(
    "/{task_id}/decision",
    response_model=HumanTask,
    responses={202: {"model": HumanTask, "description": "With workers (PostgreSQL): decided, and the case "
                     "resumes in a worker (``Location`` names the case; ``?wait=`` waits for it)."},
               **error_responses(
        400, 413,
        _403="The person lacks the role the item needs (the operator role for an item that names none).",
        _404="No inbox item with this id.",
        _409="The item was decided, expired, or its action changed.",
        _422="The choice is not one of the item's options, or the request does not match the expected shape.",
    )},
)
def decide(task_id: str, body: DecisionIn, request: Request, response: Response, orch: OrchestratorDep,
           wait: Wait = 0) -> HumanTask:
    """Record a person's decision; the next run of the case resumes with it.

    The item's role decides; an item that names none needs the bundle's operator role. With
    workers (PostgreSQL) the decision also queues the case's run: 202, or 200 once the case
    has stopped within ``?wait=`` seconds.
    """
    person = request_person(request, body.actor, body.roles)
    task = orch.store.task(task_id)  # NotFound → 404
    require_item_role(request, orch, task, person)
    try:
        decided = orch.decide(task_id, person, body.choice, body.comment)
    except DecisionRejected as exc:
        raise ApiError(refusal_status(task, person, body.choice), "DecisionRejected", str(exc)) from exc
    if queue_mode(request):
        accepted(response, task.case_id, stopped=wait_until_stopped(orch, task.case_id, wait), done_status=200)
    return decided
