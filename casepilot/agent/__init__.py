"""The orchestrator agent: works a CMMN case step by step — observe → plan → govern → act →
record — as a LangGraph loop, one thread per case, durable across restarts.

Embed it with ``Orchestrator(store, registry)``; plan offline with ``RulePlanner`` (the
default) or with any OpenAI-compatible model through ``LLMPlanner``.
"""

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
