"""DMN guardrails: a decision model attached to a case definition decides per action.

A guardrail decision reads the documented input context below and returns either a
string (``"allow"``, ``"block"``, ``"require_human"``) or a context with
``verdict`` and optionally ``role``, ``reason``, ``question``, ``options`` (list of
strings), ``expires_in`` (days-and-time duration or seconds) and ``default`` (the
choice an expired checkpoint resolves to). A decision table with a collect hit policy
may return several such results: the strictest wins. The ids of the matched rules go
into the verdict and the history.

Fail closed (DESIGN.md): a verdict outside that vocabulary is a deploy error when it is a
literal of the table and ``block`` when it is computed; an error while evaluating (in any
cell) is ``block``; an input that is missing but would have let a stricter rule match
yields the bundle's ``missing_input`` fallback, and the finding names the input. Role
names must exist in the bundle (checked at deploy).

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
| confidence_source     | string or null   | where it comes from: logprobs, sample_agreement, self_reported, rule, case_signal |
| sentiment             | number or null   | the latest sentiment score of the case (-1..1)                |
| pii_types             | list of strings  | PII entity types found in what the action sends out           |
| pii_count             | number           | how many PII values were found                                |
| tokens_spent          | number           | tokens used by the case so far                                |
| cost_spent            | number           | money spent by the case so far                                |
| llm_calls             | number           | LLM calls made by the case so far                             |
| amount                | number or null   | the action's ``amount`` argument, else the case's ``amount``  |
| untrusted_arguments   | list of strings  | arguments whose value came from a tool, document or model     |
| side_effect           | string           | read_only, idempotent or non_idempotent                       |
| tool_tags             | list of strings  | the tool's labels (``Tool.tags``: ``sends_externally`` …)     |
| untrusted_targets     | list of strings  | untrusted arguments that decide where the effect lands        |
| argument_sources      | context          | per argument, where its value came from (``request``, ``tool:x``) |
| named_in_request      | list of strings  | arguments whose value occurs verbatim in the request or a person's words, even if a tool result holds it too |
| times_planned         | number           | how often the case already planned/ran this plan item         |
| times_called          | number           | how often the case already called this tool, same arguments   |
| arguments             | context          | the action's arguments (already redacted)                     |
| case                  | context          | the case variables                                            |
| trusted_variables     | list of strings  | case variables whose whole value is trusted (nothing in them from a tool or model) |
| argument_fields       | context          | per untrusted argument, for each of its values (each element of a list), the untrusted case-file fields (paths, list indices dropped) where it occurs verbatim |
| tools_called          | context          | per tool, how many calls of it the case already planned or ran |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casepilot.errors import DefinitionError
from casepilot.governance._guardrail_table import VERDICTS, TableAnalysis, analyse_guardrail, free_input_names
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
    "confidence_source",
    "sentiment",
    "pii_types",
    "pii_count",
    "tokens_spent",
    "cost_spent",
    "llm_calls",
    "amount",
    "untrusted_arguments",
    "side_effect",
    "tool_tags",
    "untrusted_targets",
    "argument_sources",
    "named_in_request",
    "times_planned",
    "times_called",
    "arguments",
    "case",
    "trusted_variables",
    "argument_fields",
    "tools_called",
)


def _number(value: Any) -> Any:
    """A number for the ``amount`` input: numbers as they are, numeric text (``"1250.50"``, as tools
    return Decimals) as ``Decimal``; anything else is missing (and a rule that needs it falls back)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except ArithmeticError:
            return None
        return number if number.is_finite() else None
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
        "confidence_source": context.confidence_source,
        "sentiment": context.sentiment,
        "pii_types": sorted(pii_counts),
        "pii_count": sum(pii_counts.values()),
        "tokens_spent": context.usage.tokens,
        "cost_spent": context.usage.cost,
        "llm_calls": context.usage.llm_calls,
        "amount": _number(amount),
        "untrusted_arguments": list(action.untrusted_arguments),
        "side_effect": action.side_effect,
        "tool_tags": list(action.tags),
        "untrusted_targets": list(action.untrusted_targets),
        "argument_sources": {name: p.source for name, p in action.provenance.items()},
        "named_in_request": list(action.named_in_request),
        "times_planned": context.times_planned,
        "times_called": context.times_called,
        "arguments": dict(redacted_arguments),
        "case": dict(context.case_variables),
        "trusted_variables": sorted(context.trusted_variables),
        "argument_fields": {name: [list(f) for f in per_value] for name, per_value in action.argument_fields.items()},
        "tools_called": dict(context.tools_called),
    }


@dataclass(frozen=True, slots=True)
class GuardrailPolicy:
    """One DMN decision used as a guardrail, versioned with the case definition.

    Fails closed: an output that is not a verdict, an error anywhere in the evaluation (a
    literal expression, an input expression, an input entry, an output entry) is ``block``;
    a missing input that kept a stricter rule from matching yields ``missing_input`` (the
    Governor sends a ``require_human`` without a role to the operator role).
    """

    name: str
    model: DecisionModel
    decision: str
    version: str | None = None
    applies_to: frozenset[str] = frozenset({"transition", "tool_call", "llm_call", "retrieval", "message"})
    amount_path: str = "amount"
    analysis: TableAnalysis | None = None
    """The table reading used to catch errors in cells and decisive missing inputs (tables only)."""
    missing_input: VerdictKind = "require_human"
    declared_inputs: tuple[str, ...] = ()
    """The guardrail inputs the decision declares (for non-table decisions' missing-input check)."""

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        decision: str,
        *,
        name: str | None = None,
        version: str | None = None,
        known_roles: frozenset[str] | None = None,
        operator_role: str | None = None,
        missing_input: VerdictKind = "require_human",
    ) -> GuardrailPolicy:
        """Load a guardrail from a DMN file; the decision must exist and speak the verdict vocabulary.

        Raises ``DefinitionError`` listing every problem: an unknown decision, an output value or
        rule verdict that is not a verdict, a role that does not exist in the bundle
        (``known_roles``), a person required with no role and no ``operator_role``.
        """
        from casepilot.dmn import DecisionModel

        model = DecisionModel.from_xml(Path(path))
        known = [d.name for d in model.decisions]
        if decision not in known:
            raise DefinitionError(
                f"guardrail decision {decision!r} not found; the model has: {', '.join(known)}", file=str(path)
            )
        analysis, problems = analyse_guardrail(
            Path(path), decision, known_roles=known_roles, operator_role=operator_role
        )
        if problems:
            raise DefinitionError(
                f"guardrail {decision!r} in {Path(path).name} cannot be trusted to decide: "
                + "; ".join(p.message for p in problems),
                file=str(path), line=problems[0].line, problems=problems,
            )
        info = next(d for d in model.decisions if d.name == decision)
        return cls(name=name or Path(path).stem, model=model, decision=decision, version=version,
                   analysis=analysis, missing_input=missing_input,
                   declared_inputs=tuple(n for n in info.requires if n in INPUTS))

    def with_scope(self, *, applies_to: frozenset[str], amount_path: str = "amount") -> GuardrailPolicy:
        """The same policy limited to ``applies_to`` action kinds, reading the amount at ``amount_path``."""
        return replace(self, applies_to=applies_to, amount_path=amount_path)

    def read_inputs(self) -> frozenset[str]:
        """The guardrail inputs (with paths such as ``case.review.decision``) this decision reads."""
        if self.analysis is not None:
            return free_input_names(self.analysis)
        return frozenset(self.declared_inputs)

    def review(self, inputs: Mapping[str, Any]) -> Finding | None:
        """Evaluate the decision; ``None`` when the policy does not apply to this action kind."""
        if inputs.get("action_kind") not in self.applies_to:
            return None
        result = self.model.evaluate(self.decision, dict(inputs))
        rule_ids = tuple(rid for ids in result.decision_rule_ids.values() for rid in ids) or tuple(result.rule_ids)
        outputs = result.value if isinstance(result.value, list) else [result.value]
        findings = [self._finding(o, rule_ids) for o in outputs] or [
            Finding(self.name, "allow", "no rule matched", rule_ids, self.version)
        ]
        order: dict[VerdictKind, int] = {"allow": 0, "require_human": 1, "block": 2}
        decided = max(findings, key=lambda f: order[f.kind])
        errors = [m.text for m in result.errors]
        if self.analysis is not None:
            reading = self.analysis.read(inputs, rule_ids, decided.kind)
            errors = [e for e in errors if e not in reading.explained] + list(reading.errors)
            if not errors and reading.missing and order[self.missing_input] > order[decided.kind]:
                return self._missing(reading.missing, reading.stricter_rules)
        elif errors:
            absent = tuple(n for n in self.declared_inputs if inputs.get(n) is None)
            if absent:
                return self._missing(absent, ())
        if errors:
            return Finding(
                policy=self.name,
                kind="block",
                reason=f"guardrail {self.decision!r} could not be evaluated, so it blocks: " + "; ".join(errors),
                rule_ids=rule_ids,
                policy_version=self.version,
            )
        return decided

    def _missing(self, names: tuple[str, ...], rules: tuple[str, ...]) -> Finding:
        because = f" (it would decide rule {', '.join(rules)})" if rules else ""
        return Finding(
            policy=self.name,
            kind=self.missing_input,
            reason=f"guardrail {self.decision!r} is missing its input {', '.join(names)}{because}",
            rule_ids=rules,
            policy_version=self.version,
            missing_inputs=names,
        )

    def _finding(self, output: Any, rule_ids: tuple[str, ...]) -> Finding:
        if output is None:
            return Finding(self.name, "allow", "no rule matched", rule_ids, self.version)
        if isinstance(output, str):
            output = {"verdict": output}
        if not isinstance(output, Mapping):
            return Finding(
                self.name,
                "block",
                f"guardrail {self.decision!r} returned {output!r}, not a verdict, so it blocks",
                rule_ids,
                self.version,
            )
        verdict = output.get("verdict")
        if verdict not in VERDICTS:
            return Finding(
                self.name,
                "block",
                f"guardrail {self.decision!r} returned verdict {verdict!r}, which is not one of "
                f"{sorted(VERDICTS)}, so it blocks",
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
