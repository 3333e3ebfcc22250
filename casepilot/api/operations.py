"""Operations on cases over HTTP: terminate, suspend, resume, retry, correct, reassign.

The same operations as ``Orchestrator.terminate`` … ``reassign`` (``casepilot.agent.operations``),
so the same rules: the bundle's operator role, or a role ``governance.operations`` names for the
operation (403 ``NotAuthorized`` otherwise — fail closed, also in developer mode: an operation
always needs a person with a role); reviewed by governance as the person (403
``GovernanceBlocked``, the verdict recorded); recorded with the person as actor. A state that
does not allow the operation is 409 (``IllegalTransition``), an unknown item or task 404.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from casepilot.agent.operations import OperationDone
from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.privacy import jsonable
from casepilot.api._body import JsonRoute
from casepilot.api.deps import OrchestratorDep
from casepilot.api.errors import ApiError, error_responses
from casepilot.api.identity import request_person
from casepilot.api.schemas import ActorIn
from casepilot.errors import UnknownPlanItem
from casepilot.store import HumanTask

__all__ = ["PAGE_OPERATIONS", "operate_from_form", "router"]

router = APIRouter(tags=["operations"], route_class=JsonRoute, responses=error_responses(401, 422, 503))

_REFUSALS = error_responses(
    400, 409, 413, _404="No such case or inbox item.",
    _403="The person has neither the operator role nor a role the bundle names for this operation, or "
         "governance did not allow it.")


class ReasonIn(ActorIn):
    reason: str = Field(min_length=1, max_length=2000, description="Why (recorded in the case's history).")


class RetryIn(ActorIn):
    item: str = Field(min_length=1, max_length=500, description="The failed task: its name or instance id.")
    reason: str | None = Field(default=None, max_length=2000)


class CorrectIn(ReasonIn):
    path: str = Field(min_length=1, max_length=500, pattern=r"^[^.\s][^\s]*$",
                      description="The case-file item, or a part of one (``claim.amount``).")
    value: Any = Field(description="The new value (any JSON); trusted as the person's.")


class ReassignIn(ActorIn):
    role: str | None = Field(default=None, min_length=1, max_length=200, description="The role that gets the item.")
    person: str | None = Field(default=None, min_length=1, max_length=200,
                               description="The one person (within the role) who may decide it.")
    reason: str | None = Field(default=None, max_length=2000)


class OperationOut(BaseModel):
    """What an operation did: the case's CMMN state after it and the operation's record
    (a correction's old and new values pseudonymised)."""

    operation: str
    case_id: str
    case_state: str
    detail: dict[str, Any]


def _out(done: OperationDone) -> OperationOut:
    return OperationOut(operation=done.operation, case_id=done.case_id, case_state=done.case_state,
                        detail=jsonable(dict(done.detail)))


@router.post("/cases/{case_id}/terminate", response_model=OperationOut, responses=_REFUSALS)
def terminate(case_id: str, body: ReasonIn, request: Request, orch: OrchestratorDep) -> OperationOut:
    """Terminate an active or suspended case; its open inbox items are cancelled."""
    return _out(orch.terminate(case_id, request_person(request, body.actor, body.roles), body.reason))


@router.post("/cases/{case_id}/suspend", response_model=OperationOut, responses=_REFUSALS)
def suspend(case_id: str, body: ReasonIn, request: Request, orch: OrchestratorDep) -> OperationOut:
    """Suspend an active case: run, chat, actions and decisions are refused (409) until it is resumed."""
    return _out(orch.suspend(case_id, request_person(request, body.actor, body.roles), body.reason))


@router.post("/cases/{case_id}/resume", response_model=OperationOut, responses=_REFUSALS)
def resume(case_id: str, body: ReasonIn, request: Request, orch: OrchestratorDep) -> OperationOut:
    """Resume a suspended case (then run it)."""
    return _out(orch.resume(case_id, request_person(request, body.actor, body.roles), body.reason))


@router.post("/cases/{case_id}/retry", response_model=OperationOut, responses=_REFUSALS)
def retry(case_id: str, body: RetryIn, request: Request, orch: OrchestratorDep) -> OperationOut:
    """Offer a failed task again; the next run proposes it, governed like any action.

    An ``item`` that is not a failed task of the case is 422 (the body is wrong; the case exists)."""
    person = request_person(request, body.actor, body.roles)
    try:
        return _out(orch.retry(case_id, body.item, person, body.reason))
    except UnknownPlanItem as exc:
        raise ApiError(422, "UnknownFailedTask", str(exc), [f"body.item: {exc}"]) from exc


@router.post("/cases/{case_id}/correct", response_model=OperationOut, responses=_REFUSALS)
def correct(case_id: str, body: CorrectIn, request: Request, orch: OrchestratorDep) -> OperationOut:
    """Correct a case-file item: a governed edit whose new value is the person's (trusted).

    A ``path`` the case file does not have is 422 (the body is wrong; the case exists)."""
    person = request_person(request, body.actor, body.roles)
    try:
        return _out(orch.correct(case_id, body.path, body.value, person, body.reason))
    except UnknownPlanItem as exc:
        raise ApiError(422, "UnknownCaseFileItem", str(exc), [f"body.path: {exc}"]) from exc


@router.post("/inbox/{task_id}/reassign", response_model=HumanTask, responses=_REFUSALS)
def reassign(task_id: str, body: ReassignIn, request: Request, orch: OrchestratorDep) -> HumanTask:
    """Hand an open inbox item to another role or a named person; answers the new item."""
    if body.role is None and body.person is None:
        raise ApiError(422, "ValidationError", "give `role`, `person` or both", ["body: role or person required"])
    person = request_person(request, body.actor, body.roles)
    return orch.reassign(task_id, person, role=body.role, person=body.person, reason=body.reason)


# -- the case page's forms (casepilot.api.web) ---------------------------------------------------

PAGE_OPERATIONS = ("terminate", "suspend", "resume", "retry", "correct", "reassign")


def operate_from_form(orch: Orchestrator, case_id: str, person: Person, operation: str,
                      form: Mapping[str, str]) -> str:
    """Run an operation the case page's form asked for; returns the notice the page shows."""
    reason = form.get("reason", "").strip()
    if operation in ("terminate", "suspend", "resume", "correct") and not reason:
        raise ApiError(422, "ValidationError", f"say why you {operation} the case (the reason is recorded)",
                       ["reason: required"])
    if operation == "terminate":
        done = orch.terminate(case_id, person, reason)
    elif operation == "suspend":
        done = orch.suspend(case_id, person, reason)
    elif operation == "resume":
        done = orch.resume(case_id, person, reason)
    elif operation == "retry":
        done = orch.retry(case_id, form.get("item", ""), person, reason or None)
    elif operation == "correct":
        text = form.get("value", "")
        try:
            value: Any = json.loads(text)
        except json.JSONDecodeError:
            value = text  # text that is not JSON is meant as text
        done = orch.correct(case_id, form.get("path", "").strip(), value, person, reason)
    elif operation == "reassign":
        task = orch.store.task(form.get("task_id", ""))
        if task.case_id != case_id:
            raise ApiError(404, "NotFound", f"inbox item {task.id} is not one of case {case_id}")
        role, named = form.get("to_role", "").strip() or None, form.get("to_person", "").strip() or None
        if role is None and named is None:
            raise ApiError(422, "ValidationError", "give the role or the person the item goes to",
                           ["to_role or to_person: required"])
        new = orch.reassign(task.id, person, role=role, person=named, reason=reason or None)
        return f"{person.name} reassigned the item to {', '.join(x for x in (role, named) if x)} ({new.id[:8]})."
    else:
        raise ApiError(422, "ValidationError", f"{operation!r} is not an operation; one of {', '.join(PAGE_OPERATIONS)}",
                       ["operation: unknown"])
    return f"{person.name}: {done.operation} done; the case is {done.case_state}."
