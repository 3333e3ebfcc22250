"""Who is asking: the name and roles a request claims, or — behind a sign-on proxy — what the
proxy says.

casepilot does not authenticate people; an organisation's sign-on proxy does, and passes
the person on in headers it sets itself (``X-Forwarded-User``, ``X-Forwarded-Groups`` and
the like). With ``TrustedHeaders`` configured, those headers are the only source of the
actor and roles: a request without them is refused (401), and a body or form that claims a
different name or more roles than the proxy gave is refused (403) instead of being
believed. Without it, the service takes the name and roles the request states, which is
fine on a developer's machine and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import Request

from casepilot.agent.orchestrator import Person
from casepilot.api.errors import ApiError

__all__ = ["TrustedHeaders", "identity_of", "request_person"]


@dataclass(frozen=True, slots=True)
class TrustedHeaders:
    """The headers a sign-on proxy sets (and strips from what clients send)."""

    user: str = "X-Forwarded-User"
    roles: str = "X-Forwarded-Groups"
    separator: str = ","

    def person(self, request: Request) -> Person | None:
        name = (request.headers.get(self.user) or "").strip()
        if not name:
            return None
        roles = frozenset(r.strip() for r in (request.headers.get(self.roles) or "").split(self.separator) if r.strip())
        return Person(name, roles)


def identity_of(request: Request) -> TrustedHeaders | None:
    """The app's identity source (set by ``create_app``), None when requests name themselves."""
    found = getattr(request.app.state, "identity", None)
    return found if isinstance(found, TrustedHeaders) else None


def request_person(request: Request, claimed_actor: str | None, claimed_roles: Sequence[str] | None) -> Person:
    """The person behind ``request``; raises ``ApiError`` (401/403/422) when it cannot be told."""
    claimed_actor = (claimed_actor or "").strip() or None
    identity = identity_of(request)
    if identity is None:
        if claimed_actor is None:
            raise ApiError(422, "ValidationError", "say who is acting: `actor` (and `roles`) are required "
                           "unless the service runs behind a sign-on proxy with trusted identity headers")
        return Person(claimed_actor, frozenset(r.strip() for r in claimed_roles or () if r.strip()))
    person = identity.person(request)
    if person is None:
        raise ApiError(401, "NotSignedIn", f"no {identity.user} header: sign in through the organisation's "
                       "sign-on proxy")
    if claimed_actor is not None and claimed_actor != person.name:
        raise ApiError(403, "IdentityMismatch", f"the request names {claimed_actor!r}, but the sign-on proxy "
                       f"says this is {person.name!r}")
    extra = {r.strip() for r in claimed_roles or () if r.strip()} - set(person.roles)
    if extra:
        raise ApiError(403, "IdentityMismatch", f"roles come from the sign-on proxy; {person.name} does not have "
                       f"{', '.join(sorted(extra))}")
    return person
