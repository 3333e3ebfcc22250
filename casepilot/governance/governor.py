"""The Governor: every proposed action passes here before it has any effect.

``Governor.review(action, context) -> Verdict`` runs, in order, the tool allowlist, the
budget, the provenance rule, PII redaction of what would leave the process, the loop guard
and the DMN guardrails, and combines their findings: ``block`` beats ``require_human``
beats ``allow``. A ``require_human`` always ends up with a role that exists in the bundle
(the operator role when a policy named none) or becomes ``block``: no checkpoint anyone can
take. The verdict names every policy and DMN rule that contributed and the digest of
the action; the caller (the orchestrator) records it in the case history and must use
``verdict.transformed`` instead of the original arguments when it is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from casepilot.governance.actions import ActionKind, GovernanceContext, ProposedAction
from casepilot.governance.allowlist import ToolAllowlist
from casepilot.governance.budget import BudgetLimits
from casepilot.governance.guardrails import GuardrailPolicy, guardrail_inputs
from casepilot.governance.verdict import Finding, Verdict, strictest

__all__ = ["Governor", "PayloadRedactor", "RedactedPayload"]


@dataclass(frozen=True, slots=True)
class RedactedPayload:
    """A payload with PII replaced by pseudonyms, and how many values of each type were found."""

    payload: dict[str, Any]
    entity_counts: Mapping[str, int]


class PayloadRedactor(Protocol):
    """What the Governor needs from the PII layer."""

    def redact_arguments(self, arguments: Mapping[str, Any], case_id: str) -> RedactedPayload: ...


OUTBOUND_KINDS: frozenset[ActionKind] = frozenset({"llm_call", "retrieval", "message"})
"""Action kinds whose payload always leaves the process and is therefore redacted."""


@dataclass(frozen=True)
class Governor:
    """Composes the governance policies of one case definition.

    ``external_tools`` names tools that call services outside the process: their arguments
    are redacted like prompts. ``provenance_role``: a non-idempotent tool call whose
    arguments came from an untrusted source (a document, a tool, a model) needs a person
    with this role (``None`` switches the rule off).
    """

    allowlist: ToolAllowlist | None = None
    budget: BudgetLimits | None = None
    total_budget: BudgetLimits | None = None
    """Limits on all cases of the definition together (read from ``context.definition_usage``)."""
    guardrails: tuple[GuardrailPolicy, ...] = ()
    redactor: PayloadRedactor | None = None
    external_tools: frozenset[str] = frozenset()
    provenance_role: str | None = "case supervisor"
    name: str = field(default="governor")
    operator_role: str | None = None
    """Receives every ``require_human`` that names no role (or a role that does not exist)."""
    known_roles: frozenset[str] | None = None
    """The roles that exist in the bundle; ``None`` when the Governor is built without one."""
    max_repeats: int | None = 3
    """Loop guard: a plan item planned, or a tool called with the same arguments, this many times
    already needs a person before it happens again (``None`` switches the guard off)."""

    def review(self, action: ProposedAction, context: GovernanceContext) -> Verdict:
        """Decide on ``action``; pure apart from the redactor's vault writes."""
        findings: list[Finding] = []
        if action.kind == "tool_call" and self.allowlist is not None:
            problem = self.allowlist.check(action.name, stage=action.stage, roles=context.roles)
            if problem is not None:
                findings.append(Finding("allowlist", "block", problem))
        budgets = [
            ("definition budget", self.budget, context.usage),
            ("case budget", context.case_budget, context.usage),
            ("total budget of the definition", self.total_budget, context.definition_usage),
        ]
        for label, limits, usage in budgets:
            if limits is None or usage is None:
                continue
            check = limits.check(
                usage, is_llm_call=action.kind == "llm_call", estimated_tokens=action.estimated_tokens
            )
            if not check.ok:
                findings.append(
                    Finding(
                        "budget",
                        check.on_exceed,
                        f"{label} exceeded: " + ", ".join(check.exceeded),
                        role=check.role,
                        question=f"The case is over its {label} ({', '.join(check.exceeded)}). "
                        f"Allow {action.kind} {action.name!r}?",
                    )
                )
        if (
            self.provenance_role is not None
            and action.kind == "tool_call"
            and action.side_effect == "non_idempotent"
            and action.untrusted_arguments
        ):
            findings.append(
                Finding(
                    "provenance",
                    "require_human",
                    f"non-idempotent tool {action.name!r} would act on untrusted data in "
                    f"{', '.join(action.untrusted_arguments)}",
                    role=self.provenance_role,
                    question=f"Run {action.name!r} with these arguments? "
                    + "; ".join(action.provenance_lines()),
                )
            )
        redacted: dict[str, Any] = dict(action.arguments)
        counts: Mapping[str, int] = {}
        transformed = False
        if self.redactor is not None and self._is_outbound(action):
            result = self.redactor.redact_arguments(action.arguments, action.case_id)
            redacted, counts = result.payload, result.entity_counts
            transformed = True
            if counts:
                findings.append(
                    Finding(
                        "pii",
                        "allow",
                        "redacted " + ", ".join(f"{n} {t}" for t, n in sorted(counts.items())),
                    )
                )
        repeat = self._loop_guard(action, context)
        if repeat is not None:
            findings.append(repeat)
        for policy in self.guardrails:
            inputs = guardrail_inputs(
                action, context, redacted_arguments=redacted, pii_counts=counts, amount_path=policy.amount_path
            )
            finding = policy.review(inputs)
            if finding is not None:
                findings.append(finding)
        findings = [self._routed(f) for f in findings]
        verdict = strictest(findings, action_digest=action.digest(), now=context.now)
        if verdict.kind == "require_human" and action.kind == "tool_call" and action.arguments:
            # The person approves exactly this call: show each argument and where it came from.
            lines = "; ".join(action.provenance_lines())
            if lines not in (verdict.question or ""):
                verdict = replace(verdict, question=f"{verdict.question} — arguments: {lines}")
        return verdict.with_transform(redacted) if transformed else verdict

    def _loop_guard(self, action: ProposedAction, context: GovernanceContext) -> Finding | None:
        if self.max_repeats is None or action.kind not in ("tool_call", "transition"):
            return None
        what = None
        if context.times_called >= self.max_repeats:
            what = f"{action.kind} {action.name!r} was already made {context.times_called} times with these arguments"
        elif action.plan_item is not None and context.times_planned >= self.max_repeats:
            what = f"plan item {action.plan_item!r} was already planned or run {context.times_planned} times"
        if what is None:
            return None
        return Finding("loop guard", "require_human",
                       f"{what} in this case (limit {self.max_repeats}); a person must allow more",
                       question=f"{what}. Allow it once more?")

    def _routed(self, finding: Finding) -> Finding:
        """Fail closed on roles: every ``require_human`` goes to a role that exists, else it blocks.

        A checkpoint without a role (or with one the bundle does not have) could be answered
        by anyone (or by no one): it goes to the operator role, or — with none — blocks.
        """
        if finding.kind != "require_human":
            return finding
        role = finding.role
        if role is not None and (self.known_roles is None or role in self.known_roles):
            return finding
        problem = "names no role" if role is None else f"names role {role!r}, which does not exist in the bundle"
        if self.operator_role is None:
            return replace(finding, kind="block", role=None,
                           reason=f"{finding.reason} — the checkpoint {problem} and the bundle has no "
                                  "operator_role to send it to, so it blocks")
        return replace(finding, role=self.operator_role,
                       reason=f"{finding.reason} (the checkpoint {problem}: it goes to the operator role)")

    def _is_outbound(self, action: ProposedAction) -> bool:
        return action.kind in OUTBOUND_KINDS or (action.kind == "tool_call" and action.name in self.external_tools)
