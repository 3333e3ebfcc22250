"""Deploy-time lints of a bundle's guardrails: inputs a guardrail reads that an action cannot supply.

A guardrail that reads ``amount`` says nothing useful about a tool that has no amount: at
run time the input is missing, and if it would have decided a stricter rule the bundle's
``missing_input`` fallback applies (a person with the operator role, by default). That is
safe, but it is rarely what the author meant, so ``casepilot validate`` says it before the
first case runs. Lints are warnings, not errors: the bundle still deploys.
"""

from __future__ import annotations

from casepilot.agent.bundle import CaseBundle
from casepilot.governance.guardrails import GuardrailPolicy
from casepilot.tools import ToolRegistry

__all__ = ["guardrail_lints"]


def _case_names(bundle: CaseBundle) -> frozenset[str]:
    return frozenset(i.name for i in bundle.case.case_file_items if i.name)


def _tool_fields(registry: ToolRegistry, tool: str) -> frozenset[str] | None:
    if tool not in registry:
        return None
    return frozenset(registry.get(tool).args_model.model_fields)


def _policy_lints(policy: GuardrailPolicy, bundle: CaseBundle, registry: ToolRegistry) -> list[str]:
    reads = policy.read_inputs()
    heads = {path.split(".")[0] for path in reads}
    case_names = _case_names(bundle)
    fallback = bundle.manifest.governance.missing_input
    operator = bundle.manifest.governance.operator_role
    outcome = (f"at run time it is missing, and a rule that needs it yields the fallback ({fallback}"
               + (f" to {operator!r})" if fallback == "require_human" and operator else ")"))
    who = f"guardrail {policy.decision!r} ({policy.name})"
    lints: list[str] = []
    signals = bundle.manifest.signals
    if "confidence" in heads and signals.confidence is None:
        lints.append(f"{who} reads `confidence`, but the bundle names no `signals.confidence`: only a language-"
                     f"model planner's own estimate supplies it; {outcome}")
    if "sentiment" in heads and signals.sentiment is None:
        lints.append(f"{who} reads `sentiment`, but the bundle names no `signals.sentiment`; {outcome}")
    for path in sorted(p for p in reads if p.startswith("case.")):
        name = path.split(".")[1]
        if name not in case_names:
            lints.append(f"{who} reads `{path}`, but the case file has no item {name!r}; {outcome}")
    amount_head = policy.amount_path.split(".")[0]
    tools = sorted({b.tool for b in bundle.bindings})
    if "tool_call" in policy.applies_to:
        for tool in tools:
            fields = _tool_fields(registry, tool)
            if fields is None:
                continue
            if "amount" in heads and amount_head not in fields and amount_head not in case_names:
                lints.append(f"{who} reads `amount`, which tool {tool!r} cannot supply (no argument "
                             f"{amount_head!r} and no case-file item {amount_head!r}); {outcome}")
            for path in sorted(p for p in reads if p.startswith("arguments.")):
                argument = path.split(".")[1]
                if argument not in fields:
                    lints.append(f"{who} reads `{path}`, which tool {tool!r} does not have; {outcome}")
    others = sorted(policy.applies_to - {"tool_call"})
    if others and "amount" in heads and amount_head not in case_names:
        lints.append(f"{who} reads `amount` for {', '.join(others)} actions, which have no amount argument, and "
                     f"the case file has no item {amount_head!r}; {outcome}")
    if others and heads & {"tool", "tool_tags"}:
        lints.append(f"{who} reads the tool for {', '.join(others)} actions, which call no tool (it is null for "
                     "them); scope the guardrail with `applies_to: [tool_call]` if it is about tools")
    return lints


def guardrail_lints(bundle: CaseBundle, registry: ToolRegistry) -> list[str]:
    """Every input a guardrail of ``bundle`` reads that some action it applies to cannot supply."""
    return [lint for policy in bundle.governor.guardrails for lint in _policy_lints(policy, bundle, registry)]
