"""The Governor: every proposed action passes here before it has any effect.

``Governor.review(action, context) -> Verdict`` runs, in order, the tool allowlist, the
budget, the provenance rule, PII redaction of what would leave the process, and the DMN
guardrails, and combines their findings: ``block`` beats ``require_human`` beats
``allow``. The verdict names every policy and DMN rule that contributed and the digest of
the action; the caller (the orchestrator) records it in the case history and must use
``verdict.transformed`` instead of the original arguments when it is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
        for policy in self.guardrails:
            inputs = guardrail_inputs(
                action, context, redacted_arguments=redacted, pii_counts=counts, amount_path=policy.amount_path
            )
            finding = policy.review(inputs)
            if finding is not None:
                findings.append(finding)
        verdict = strictest(findings, action_digest=action.digest(), now=context.now)
        return verdict.with_transform(redacted) if transformed else verdict

    def _is_outbound(self, action: ProposedAction) -> bool:
        return action.kind in OUTBOUND_KINDS or (action.kind == "tool_call" and action.name in self.external_tools)
