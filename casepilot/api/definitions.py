"""``/definitions``: deploy a case bundle from its files, list what is deployed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from casepilot.api._body import JsonRoute
from casepilot.api.access import caller, require_deployer
from casepilot.api.deps import OrchestratorDep
from casepilot.api.errors import ApiError, error_responses
from casepilot.api.schemas import BundleIn
from casepilot.store import DefinitionSummary

__all__ = ["router"]

router = APIRouter(prefix="/definitions", tags=["definitions"], route_class=JsonRoute,
                   responses=error_responses(401, 422, 503))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DefinitionSummary,
    responses=error_responses(400, 413, _403="The person lacks the deployer role.",
                              _422="The bundle is invalid, or the request does not match the expected shape; "
                                   "every problem is listed."),
)
def deploy(body: BundleIn, request: Request, orch: OrchestratorDep) -> DefinitionSummary:
    """Validate and deploy a bundle; a new version only when its content changed.

    Needs the service's deployer role: a bundle sets the guardrails, roles and reveal roles of
    every case started after it. Runs in the threadpool (plain ``def``): parsing and
    validating the models is CPU work.
    """
    require_deployer(request, caller(request, body.actor, body.roles))
    try:
        version = orch.deploy_files(body.files)
    except (OSError, UnicodeError, ValueError) as exc:
        # A file the manifest names but the bundle lacks, or content the loaders cannot read:
        # the client's bundle is at fault, so it is a 422 like any other definition problem.
        raise ApiError(422, "DefinitionError", f"the bundle cannot be loaded: {exc}", [str(exc)]) from exc
    return DefinitionSummary.model_validate(version.model_dump(exclude={"files"}))


@router.get("", response_model=list[DefinitionSummary])
def list_definitions(
    orch: OrchestratorDep,
    key: Annotated[str | None, Query(description="Only the versions of this key.")] = None,
) -> list[DefinitionSummary]:
    """Every deployed version (without file contents); any signed-in person may read them."""
    return orch.store.definitions(key)
