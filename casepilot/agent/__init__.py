"""The orchestrator agent: works a CMMN case step by step — observe → plan → govern → act →
record — as a LangGraph loop, one thread per case, durable across restarts.

Embed it with ``Orchestrator(store, registry)``; plan offline with ``RulePlanner`` (the
default) or with any OpenAI-compatible model through ``LLMPlanner``.

The names below load on first use (PEP 562): importing one module of the package — the CLI's
commands, ``casepilot.agent.manifest`` for ``validate`` — does not load LangGraph, the
language-model client and the PII stack with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from casepilot.agent.bundle import CaseBundle, load_files, load_folder
    from casepilot.agent.llm_planner import LLMPlanner
    from casepilot.agent.orchestrator import Orchestrator, Person, RunOutcome, default_planner
    from casepilot.agent.planning import (
        ActionOption,
        ChatMessage,
        LLMUsage,
        Observation,
        Plan,
        Planner,
        PlannerError,
    )
    from casepilot.agent.privacy import CasePrivacy
    from casepilot.agent.rule_planner import RulePlanner

__all__ = [
    "ActionOption",
    "CaseBundle",
    "CasePrivacy",
    "ChatMessage",
    "LLMPlanner",
    "LLMUsage",
    "Observation",
    "Orchestrator",
    "Person",
    "Plan",
    "Planner",
    "PlannerError",
    "RulePlanner",
    "RunOutcome",
    "default_planner",
    "load_files",
    "load_folder",
]

_WHERE = {
    **dict.fromkeys(("CaseBundle", "load_files", "load_folder"), "casepilot.agent.bundle"),
    "LLMPlanner": "casepilot.agent.llm_planner",
    **dict.fromkeys(("Orchestrator", "Person", "RunOutcome", "default_planner"), "casepilot.agent.orchestrator"),
    **dict.fromkeys(("ActionOption", "ChatMessage", "LLMUsage", "Observation", "Plan", "Planner", "PlannerError"),
                    "casepilot.agent.planning"),
    "CasePrivacy": "casepilot.agent.privacy",
    "RulePlanner": "casepilot.agent.rule_planner",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'casepilot.agent' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
