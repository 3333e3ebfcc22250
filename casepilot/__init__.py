"""casepilot — governed AI orchestration over CMMN cases.

An orchestrator agent works a CMMN 1.1 case step by step; DMN guardrails, PII
redaction, tool allowlists, budgets and human checkpoints stand between every
decision and its effect; every step lands in an append-only, hash-chained history.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
