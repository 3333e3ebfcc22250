"""Governance: decide whether a proposed action may happen (DMN guardrails, PII, allowlists, budgets)."""
