"""DMN guardrails: a decision model attached to a case definition decides per action.

A guardrail decision reads the documented input context below and returns either a
string (``"allow"``, ``"block"``, ``"require_human"``) or a context with
``verdict`` and optionally ``role``, ``reason``, ``question``, ``options`` (list of
strings), ``expires_in`` (days-and-time duration or seconds) and ``default`` (the
choice an expired checkpoint resolves to). A decision table with a collect hit policy
may return several such results: the strictest wins. The ids of the matched rules go
into the verdict and the history.

Inputs offered to every guardrail (``INPUTS``; the model reads those it declares):

| name                  | FEEL type        | meaning                                                       |
|-----------------------|------------------|---------------------------------------------------------------|
| action_kind           | string           | transition, tool_call, llm_call, retrieval, message           |
| action                | string           | transition name, tool name, model, collection or channel      |
| tool                  | string or null   | the tool, for tool calls                                      |
| plan_item             | string or null   | the plan item the action belongs to                           |
| stage                 | string or null   | its stage                                                     |
| actor                 | string           | ``agent`` or the person acting                                |
| roles                 | list of strings  | the actor's roles                                             |
| confidence            | number or null   | the planner's confidence in this action (0..1)                |
| sentiment             | number or null   | the latest sentiment score of the case (-1..1)                |
| pii_types             | list of strings  | PII entity types found in what the action sends out           |
| pii_count             | number           | how many PII values were found                                |
| tokens_spent          | number           | tokens used by the case so far                                |
| cost_spent            | number           | money spent by the case so far                                |
| llm_calls             | number           | LLM calls made by the case so far                             |
| amount                | number or null   | the action's ``amount`` argument, else the case's ``amount``  |
| untrusted_arguments   | list of strings  | arguments whose value came from a tool, document or model     |
| side_effect           | string           | read_only, idempotent or non_idempotent                       |
| arguments             | context          | the action's arguments (already redacted)                     |
| case                  | context          | the case variables                                            |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casepilot.errors import DefinitionError
from casepilot.governance.actions import GovernanceContext, ProposedAction
from casepilot.governance.verdict import Finding, VerdictKind

if TYPE_CHECKING:
    from casepilot.dmn import DecisionModel

__all__ = ["INPUTS", "GuardrailPolicy", "guardrail_inputs", "lookup_path"]

INPUTS: tuple[str, ...] = (
    "action_kind",
    "action",
    "tool",
    "plan_item",
    "stage",
    "actor",
    "roles",
    "confidence",
    "sentiment",
    "pii_types",
    "pii_count",
    "tokens_spent",
    "cost_spent",
    "llm_calls",
    "amount",
    "untrusted_arguments",
    "side_effect",
    "arguments",
    "case",
)

_VERDICTS: frozenset[str] = frozenset({"allow", "block", "require_human"})


def _number(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, Decimal)):
        return value
    return None


def lookup_path(mapping: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (``claim.amount``) in nested mappings, ``None`` where it is absent."""
    current: Any = mapping
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def guardrail_inputs(
    action: ProposedAction,
    context: GovernanceContext,
    *,
    redacted_arguments: Mapping[str, Any],
    pii_counts: Mapping[str, int],
    amount_path: str = "amount",
) -> dict[str, Any]:
    """The documented input context of a guardrail decision for one action."""
    amount = lookup_path(action.arguments, amount_path)
    if amount is None:
        amount = lookup_path(context.case_variables, amount_path)
    return {
        "action_kind": action.kind,
        "action": action.name,
        "tool": action.name if action.kind == "tool_call" else None,
        "plan_item": action.plan_item,
        "stage": action.stage,
        "actor": context.actor,
        "roles": sorted(context.roles),
        "confidence": context.confidence,
        "sentiment": context.sentiment,
        "pii_types": sorted(pii_counts),
        "pii_count": sum(pii_counts.values()),
        "tokens_spent": context.usage.tokens,
        "cost_spent": context.usage.cost,
        "llm_calls": context.usage.llm_calls,
        "amount": _number(amount),
        "untrusted_arguments": list(action.untrusted_arguments),
        "side_effect": action.side_effect,
        "arguments": dict(redacted_arguments),
        "case": dict(context.case_variables),
    }


@dataclass(frozen=True, slots=True)
class GuardrailPolicy:
    """One DMN decision used as a guardrail, versioned with the case definition."""

    name: str
    model: DecisionModel
    decision: str
    version: str | None = None
    applies_to: frozenset[str] = frozenset({"transition", "tool_call", "llm_call", "retrieval", "message"})
    amount_path: str = "amount"

    @classmethod
    def from_file(
        cls, path: str | Path, decision: str, *, name: str | None = None, version: str | None = None
    ) -> GuardrailPolicy:
        """Load a guardrail from a DMN file; the decision must exist."""
        from casepilot.dmn import DecisionModel

        model = DecisionModel.from_xml(Path(path))
        known = [d.name for d in model.decisions]
        if decision not in known:
            raise DefinitionError(
                f"guardrail decision {decision!r} not found; the model has: {', '.join(known)}", file=str(path)
            )
        return cls(name=name or Path(path).stem, model=model, decision=decision, version=version)

    def with_scope(self, *, applies_to: frozenset[str], amount_path: str = "amount") -> GuardrailPolicy:
        """The same policy limited to ``applies_to`` action kinds, reading the amount at ``amount_path``."""
        return GuardrailPolicy(self.name, self.model, self.decision, self.version, applies_to, amount_path)

    def review(self, inputs: Mapping[str, Any]) -> Finding | None:
        """Evaluate the decision; ``None`` when the policy does not apply to this action kind."""
        if inputs.get("action_kind") not in self.applies_to:
            return None
        result = self.model.evaluate(self.decision, dict(inputs))
        rule_ids = tuple(rid for ids in result.decision_rule_ids.values() for rid in ids) or tuple(result.rule_ids)
        if not result.ok and result.value is None:
            # A guardrail that cannot decide must not silently allow: a person looks at it.
            problems = "; ".join(str(m) for m in result.errors)
            return Finding(
                policy=self.name,
                kind="require_human",
                reason=f"guardrail {self.decision!r} could not be evaluated: {problems}",
                rule_ids=rule_ids,
                policy_version=self.version,
            )
        outputs = result.value if isinstance(result.value, list) else [result.value]
        findings = [self._finding(o, rule_ids) for o in outputs]
        if not findings:
            return Finding(self.name, "allow", "no rule matched", rule_ids, self.version)
        order: dict[VerdictKind, int] = {"allow": 0, "require_human": 1, "block": 2}
        return max(findings, key=lambda f: order[f.kind])

    def _finding(self, output: Any, rule_ids: tuple[str, ...]) -> Finding:
        if output is None:
            return Finding(self.name, "allow", "no rule matched", rule_ids, self.version)
        if isinstance(output, str):
            output = {"verdict": output}
        if not isinstance(output, Mapping):
            return Finding(
                self.name,
                "require_human",
                f"guardrail {self.decision!r} returned {output!r}, not a verdict",
                rule_ids,
                self.version,
            )
        verdict = output.get("verdict")
        if verdict not in _VERDICTS:
            return Finding(
                self.name,
                "require_human",
                f"guardrail {self.decision!r} returned verdict {verdict!r}; expected one of {sorted(_VERDICTS)}",
                rule_ids,
                self.version,
            )
        kind: VerdictKind = verdict
        options_raw = output.get("options")
        options = tuple(str(o) for o in options_raw) if isinstance(options_raw, list) else ()
        expires = output.get("expires_in")
        expires_s: float | None = None
        if isinstance(expires, timedelta):
            expires_s = expires.total_seconds()
        elif isinstance(expires, (int, float, Decimal)) and not isinstance(expires, bool):
            expires_s = float(expires)
        reason = output.get("reason")
        return Finding(
            policy=self.name,
            kind=kind,
            reason=str(reason) if reason is not None else f"guardrail {self.decision!r} said {kind}",
            rule_ids=rule_ids,
            policy_version=self.version,
            role=str(output["role"]) if output.get("role") is not None else None,
            question=str(output["question"]) if output.get("question") is not None else None,
            options=options,
            expires_in_seconds=expires_s,
            default_choice=str(output["default"]) if output.get("default") is not None else None,
        )
