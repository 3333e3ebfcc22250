"""Governance: decide whether a proposed action may happen, and prove it afterwards.

``Governor.review(action, context) -> Verdict`` is called for every plan-item transition,
tool call, LLM call, retrieval and outgoing message before it has any effect. It combines
tool allowlists, budgets, the provenance rule, PII pseudonymisation and DMN guardrails;
the verdict names the policies, their versions and the DMN rules that produced it, and
the digest of the action. Human checkpoints are decided by ``check_decision``; PII is in
``casepilot.governance.pii``.
"""

from casepilot.governance.actions import ActionKind, GovernanceContext, ProposedAction, canonical_json
from casepilot.governance.allowlist import ToolAllowlist
from casepilot.governance.budget import BudgetCheck, BudgetLimits, BudgetUsage, ModelPrice, PriceTable
from casepilot.governance.checkpoints import CheckpointRequest, InboxItem, check_decision, expiry_resolution
from casepilot.governance.governor import Governor, PayloadRedactor, RedactedPayload
from casepilot.governance.guardrails import INPUTS, GuardrailPolicy, guardrail_inputs
from casepilot.governance.provenance import ProvenanceLike
from casepilot.governance.verdict import Finding, Verdict, VerdictKind, strictest

__all__ = [
    "INPUTS",
    "ActionKind",
    "BudgetCheck",
    "BudgetLimits",
    "BudgetUsage",
    "CheckpointRequest",
    "Finding",
    "GovernanceContext",
    "Governor",
    "GuardrailPolicy",
    "InboxItem",
    "ModelPrice",
    "PayloadRedactor",
    "PriceTable",
    "ProposedAction",
    "ProvenanceLike",
    "RedactedPayload",
    "ToolAllowlist",
    "Verdict",
    "VerdictKind",
    "canonical_json",
    "check_decision",
    "expiry_resolution",
    "guardrail_inputs",
    "strictest",
]
