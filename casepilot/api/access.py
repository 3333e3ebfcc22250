"""Who may do what over HTTP: signed in for everything, a named role for every change.

With an identity source configured (a sign-on proxy's ``TrustedHeaders``) the rules are:

=============================================  ==============================================
request                                        needs
=============================================  ==============================================
any endpoint or page, reads included           a signed-in person (else 401)
deploy a definition                            the service's deployer role (``--deployer-role``)
start a case                                   the bundle's ``starter_role``, else its
                                               ``operator_role``; neither named: refused
run, run/stream, chat                          the bundle's ``operator_role``; none: refused
a person's action (user event, discretionary)  the roles the CMMN model authorises; an action
                                               the model leaves open to anyone: the operator role
decide an inbox item                           the item's role; an item without one: the
                                               operator role
reveal personal data                           one of the bundle's ``reveal_roles``
an operation: terminate, suspend, resume,      the bundle's ``operator_role`` or a role its
retry, correct, reassign                       ``governance.operations`` names for that one;
                                               neither: refused (also in developer mode);
                                               terminate/suspend/resume need it on each
                                               running child case they reach too
=============================================  ==============================================

Everything fails closed: a bundle that names no role for a kind of change makes that change
impossible (403 with what to add to ``casepilot.yaml``), never open to anyone — a definition
deployed by one person must not let everyone else start or steer its cases.

Left open on purpose: the OpenAPI schema and its docs pages (``/openapi.json``, ``/docs``,
``/redoc``) — they describe the API, not any case, and tools fetch them unauthenticated.
They are plain Starlette routes, which is why the app-wide ``require_signed_in`` dependency
does not reach them; every route a router or ``@app`` declares gets it.

Without an identity source (developer mode) requests name themselves as they always did: a
request that claims no roles is served as before, and one that claims roles is checked
exactly as a signed-in person with those roles would be — so a developer can try the rules
out. Developer mode is not a security boundary (anyone may claim any role); serve behind a
sign-on proxy anywhere else.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request

from casepilot.agent.manifest import GovernanceSpec
from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.api.errors import ApiError
from casepilot.api.identity import identity_of, request_person
from casepilot.store import HumanTask

__all__ = [
    "DEFAULT_DEPLOYER_ROLE",
    "caller",
    "require_action_role",
    "require_deployer",
    "require_item_role",
    "require_operator",
    "require_signed_in",
    "require_starter",
]

DEFAULT_DEPLOYER_ROLE = "deployer"


def require_signed_in(request: Request) -> None:
    """App-wide dependency: with an identity source, no request is served without a person (401).

    Runs before the body is validated, so an anonymous request learns nothing about the
    shapes an endpoint accepts.
    """
    identity = identity_of(request)
    if identity is not None and identity.person(request) is None:
        raise ApiError(401, "NotSignedIn", f"no {identity.user} header: sign in through the organisation's "
                       "sign-on proxy")


def caller(request: Request, claimed_actor: str | None, claimed_roles: Sequence[str] | None) -> Person | None:
    """Who asks, for endpoints where developer mode lets a request stay anonymous (start, run, deploy).

    The signed-in person behind a proxy (a body that claims another name or more roles is
    refused, see ``request_person``); in developer mode the person the request names, or
    None when it names nobody and claims no role.
    """
    if identity_of(request) is None and not (claimed_actor or "").strip() and not any(
            r.strip() for r in claimed_roles or ()):
        return None
    return request_person(request, claimed_actor, claimed_roles)


def _checked(request: Request, person: Person | None) -> bool:
    """Whether role rules apply: always behind a proxy; in developer mode once roles are claimed."""
    return person is not None and (identity_of(request) is not None or bool(person.roles))


def _require(request: Request, person: Person, needed: str, doing: str) -> None:
    if needed in person.roles:
        return
    held = ", ".join(sorted(person.roles)) or "no roles"
    how = ("ask whoever manages roles in your sign-on proxy to grant it" if identity_of(request) is not None
           else "claim it in `roles`")
    raise ApiError(403, "NotAuthorized", f"{person.name} may not {doing}: that needs the role {needed!r}, "
                   f"and {person.name} has {held}; {how}")


def _unnamed(doing: str, add: str) -> ApiError:
    return ApiError(403, "NotAuthorized", f"nobody may {doing}: the bundle names no role for it. Add {add} "
                    "under `governance:` in casepilot.yaml and deploy it again")


def _case_governance(orch: Orchestrator, case_id: str) -> GovernanceSpec:
    """The governance of the definition version the case runs on (``NotFound`` → 404)."""
    record = orch.store.case(case_id)
    return orch.runtime.bundle(record.definition_key, record.definition_version).manifest.governance


def require_deployer(request: Request, person: Person | None) -> None:
    """Deploying replaces the guardrails, roles and reveal roles of every later case: the
    service's deployer role only (``create_app(deployer_role=…)``)."""
    if person is None or not _checked(request, person):
        return
    role = getattr(request.app.state, "deployer_role", None)
    _require(request, person, role if isinstance(role, str) else DEFAULT_DEPLOYER_ROLE, "deploy definitions")


def require_starter(request: Request, orch: Orchestrator, definition_key: str, person: Person | None) -> None:
    """Starting a case needs the latest version's ``starter_role``, else its ``operator_role``."""
    if person is None or not _checked(request, person):
        return
    definition = orch.store.definition(definition_key)  # NotFound → 404
    governance = orch.runtime.bundle(definition_key, definition.version).manifest.governance
    role = governance.starter_role or governance.operator_role
    if role is None:
        raise _unnamed(f"start a case of {definition_key!r}", "`starter_role: <role>` (or `operator_role: <role>`)")
    _require(request, person, role, f"start a case of {definition_key!r}")


def require_operator(request: Request, orch: Orchestrator, case_id: str, person: Person | None, doing: str) -> None:
    """Running and steering a case needs its bundle's ``operator_role``; ``doing`` says what, in
    words ("run case 3f…")."""
    if person is None or not _checked(request, person):
        return
    role = _case_governance(orch, case_id).operator_role
    if role is None:
        raise _unnamed(doing, "`operator_role: <role>`")
    _require(request, person, role, doing)


def require_item_role(request: Request, orch: Orchestrator, task: HumanTask, person: Person) -> None:
    """An inbox item names the role that decides it (the orchestrator checks that); an item that
    names none goes to the operator role rather than to anyone."""
    if task.role is None:
        require_operator(request, orch, task.case_id, person, f"decide inbox item {task.id}, which names no role")


def require_action_role(request: Request, orch: Orchestrator, case_id: str, action_id: str, person: Person) -> None:
    """A person's action is for the roles the CMMN model authorises (the orchestrator checks
    that); one the model leaves open to anyone needs the operator role."""
    found = next((a for a in orch.person_actions(case_id) if a.id == action_id), None)
    if found is not None and not found.roles:
        require_operator(request, orch, case_id, person, f"take the action {found.label!r}, which the case model opens to any role")
