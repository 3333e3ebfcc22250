"""Verdicts: governance results as data, never as log lines (DESIGN.md, example 6).

A verdict says whether an action may happen (``allow``), may not (``block``), or waits
for a person with a given role (``require_human``); it may carry a ``transformed``
payload (the action's arguments with PII replaced by pseudonyms) that must be used
instead of the original. It always names the policies and the DMN rule ids that
produced it and the digest of the action it judged, and it is what the case history
records.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, TypeAlias

__all__ = ["Finding", "Verdict", "VerdictKind", "strictest"]

VerdictKind: TypeAlias = Literal["allow", "block", "require_human"]

_RANK: dict[str, int] = {"allow": 0, "require_human": 1, "block": 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """What one policy said about an action (a verdict is the strictest of its findings)."""

    policy: str
    kind: VerdictKind
    reason: str
    rule_ids: tuple[str, ...] = ()
    policy_version: str | None = None
    role: str | None = None
    question: str | None = None
    options: tuple[str, ...] = ()
    expires_in_seconds: float | None = None
    default_choice: str | None = None
    missing_inputs: tuple[str, ...] = ()
    """Guardrail inputs that were missing and decided the finding (the fallback applied)."""

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "policy": self.policy,
            "policy_version": self.policy_version,
            "kind": self.kind,
            "reason": self.reason,
            "rule_ids": list(self.rule_ids),
            "role": self.role,
        }
        if self.missing_inputs:
            body["missing_inputs"] = list(self.missing_inputs)
        return body


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision on one action. Build it with ``strictest(findings, …)``."""

    kind: VerdictKind
    reason: str
    action_digest: str
    policies: tuple[str, ...]
    rule_ids: tuple[str, ...]
    findings: tuple[Finding, ...] = ()
    role: str | None = None
    question: str | None = None
    options: tuple[str, ...] = ()
    expires_at: datetime | None = None
    default_choice: str | None = None
    """What an expired human checkpoint resolves to."""
    transformed: dict[str, Any] | None = field(default=None)
    """Arguments to use instead of the original ones (PII redacted), when set."""

    @property
    def allowed(self) -> bool:
        return self.kind == "allow"

    def with_transform(self, payload: dict[str, Any]) -> Verdict:
        return replace(self, transformed=payload)

    def to_json(self) -> dict[str, Any]:
        """The history payload of this verdict (the transformed arguments are already redacted)."""
        return {
            "kind": self.kind,
            "reason": self.reason,
            "action_digest": self.action_digest,
            "policies": list(self.policies),
            "rule_ids": list(self.rule_ids),
            "role": self.role,
            "question": self.question,
            "options": list(self.options),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "default_choice": self.default_choice,
            "findings": [f.to_json() for f in self.findings],
            "transformed": self.transformed,
        }


def strictest(findings: list[Finding], *, action_digest: str, now: datetime | None = None) -> Verdict:
    """Combine findings: block beats require_human beats allow; rule ids of all decisive findings are kept."""
    from datetime import timedelta

    if not findings:
        return Verdict("allow", "no policy objected", action_digest, (), ())
    top = max(_RANK[f.kind] for f in findings)
    decisive = [f for f in findings if _RANK[f.kind] == top]
    kind = decisive[0].kind
    rule_ids = tuple(dict.fromkeys(r for f in findings for r in f.rule_ids))
    policies = tuple(dict.fromkeys(f.policy + (f"@{f.policy_version}" if f.policy_version else "") for f in findings))
    reason = "; ".join(dict.fromkeys(f.reason for f in decisive if f.reason)) or kind
    first = decisive[0]
    expires_at = None
    if kind == "require_human" and first.expires_in_seconds is not None and now is not None:
        expires_at = now + timedelta(seconds=first.expires_in_seconds)
    options = first.options or (("approve", "reject") if kind == "require_human" else ())
    return Verdict(
        kind=kind,
        reason=reason,
        action_digest=action_digest,
        policies=policies,
        rule_ids=rule_ids,
        findings=tuple(findings),
        role=first.role if kind == "require_human" else None,
        question=(first.question or reason) if kind == "require_human" else None,
        options=options,
        expires_at=expires_at,
        default_choice=first.default_choice if kind == "require_human" else None,
    )
