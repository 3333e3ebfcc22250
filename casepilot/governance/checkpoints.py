"""Human checkpoints: the rules for deciding an inbox item, kept apart from storage.

``require_human`` verdicts become inbox items in the store (role, question, options,
the action digest, expiry). Deciding one needs an actor holding the role; a decision
whose digest no longer matches the pending action (the action changed since it was
asked about) is refused; an expired item resolves by the policy's default. This module
only decides and records; pausing and resuming the agent happens in ``casepilot.agent``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from casepilot.errors import DecisionRejected
from casepilot.governance.actions import ProposedAction
from casepilot.governance.verdict import Verdict

__all__ = ["CheckpointRequest", "InboxItem", "check_decision", "expiry_resolution"]


@dataclass(frozen=True, slots=True)
class CheckpointRequest:
    """What the store needs to open an inbox item for a ``require_human`` verdict."""

    case_id: str
    plan_item: str | None
    role: str | None
    question: str
    options: tuple[str, ...]
    action_digest: str
    expires_at: datetime | None
    default_choice: str | None

    @classmethod
    def from_verdict(cls, verdict: Verdict, action: ProposedAction) -> CheckpointRequest:
        if verdict.kind != "require_human":
            raise ValueError(f"only require_human verdicts open checkpoints, not {verdict.kind}")
        return cls(
            case_id=action.case_id,
            plan_item=action.plan_item,
            role=verdict.role,
            question=verdict.question or verdict.reason,
            options=verdict.options or ("approve", "reject"),
            action_digest=verdict.action_digest,
            expires_at=verdict.expires_at,
            default_choice=verdict.default_choice,
        )


class InboxItem(Protocol):
    """The fields of a stored inbox item that the decision rules read (``store.HumanTask`` has them)."""

    @property
    def id(self) -> str: ...
    @property
    def role(self) -> str | None: ...
    @property
    def options(self) -> tuple[str, ...]: ...
    @property
    def status(self) -> str: ...
    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def action_digest(self) -> str | None: ...


def check_decision(
    item: InboxItem,
    *,
    actor: str,
    actor_roles: Iterable[str],
    choice: str,
    now: datetime,
    current_digest: str | None = None,
) -> None:
    """Raise ``DecisionRejected`` unless ``actor`` may decide ``item`` with ``choice`` now."""
    roles = set(actor_roles)
    if item.status != "open":
        raise DecisionRejected(f"inbox item {item.id} is {item.status}, not open; it cannot be decided again")
    if item.expires_at is not None and now >= item.expires_at:
        raise DecisionRejected(
            f"inbox item {item.id} expired at {item.expires_at.isoformat()}; it resolves by its policy's default"
        )
    if item.role is not None and item.role not in roles:
        raise DecisionRejected(
            f"{actor} cannot decide inbox item {item.id}: it needs the role {item.role!r}, "
            f"and {actor} has {', '.join(sorted(roles)) or 'no roles'}"
        )
    if item.options and choice not in item.options:
        raise DecisionRejected(f"{choice!r} is not an option of inbox item {item.id}; choose one of {list(item.options)}")
    if current_digest is not None and item.action_digest is not None and current_digest != item.action_digest:
        raise DecisionRejected(
            f"the action of inbox item {item.id} changed since it was asked about "
            f"(digest {item.action_digest[:12]}… is now {current_digest[:12]}…); the decision is refused, "
            "a new checkpoint will be opened for the changed action"
        )


def expiry_resolution(item: InboxItem, *, now: datetime, default_choice: str | None) -> str | None:
    """The choice an expired open item resolves to (``None`` while it has not expired).

    Without a default, an expired item resolves to ``reject``: silence never approves.
    """
    if item.status != "open" or item.expires_at is None or now < item.expires_at:
        return None
    return default_choice or "reject"
