"""What every part of the loop's nodes shares: the runtime, the governance context of an
action, and the loop update that waits for people."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from casepilot.agent._loop_state import LoopState, PendingTask
from casepilot.agent.context import AgentRuntime, LoadedCase
from casepilot.governance.actions import GovernanceContext, ProposedAction
from casepilot.governance.budget import BudgetLimits, BudgetUsage
from casepilot.governance.guardrails import lookup_path

__all__ = ["NodeBase"]


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    return None


class NodeBase:
    """The runtime the nodes work over, and what governance may read about a case."""

    def __init__(self, runtime: AgentRuntime) -> None:
        self.rt = runtime

    def context(self, loaded: LoadedCase, *, confidence: float | None,
                action: ProposedAction | None = None, confidence_source: str | None = None) -> GovernanceContext:
        """What governance may read about ``loaded`` for ``action`` of the agent (``actor``/``roles``
        replaced for people); with the loop-guard counts of ``action`` when it is given."""
        assert loaded.engine is not None
        variables = loaded.engine.variables()
        signals = loaded.bundle.manifest.signals
        signal_conf = _as_float(lookup_path(variables, signals.confidence)) if signals.confidence else None
        definition_usage = None
        if self.rt.governor_for(loaded.bundle).total_budget is not None:
            # Exact: the store sums costs as integers (never as floats), and so does BudgetUsage.
            tokens, cost, calls = self.rt.store.llm_spend(loaded.bundle.key)
            definition_usage = BudgetUsage(tokens=tokens, cost=cost, llm_calls=calls)
        times_planned, times_called = loaded.facts.times(action) if action is not None else (0, 0)
        return GovernanceContext(
            definition_key=loaded.bundle.key,
            definition_version=loaded.record.definition_version,
            actor="agent",
            roles=frozenset(),
            confidence=signal_conf if signal_conf is not None else confidence,
            confidence_source=("case_signal" if signal_conf is not None
                               else confidence_source if confidence is not None else None),
            sentiment=_as_float(lookup_path(variables, signals.sentiment)) if signals.sentiment else None,
            usage=loaded.facts.usage,
            case_budget=(BudgetLimits.from_json(loaded.facts.case_budget)
                         if loaded.facts.case_budget is not None else None),
            definition_usage=definition_usage,
            case_variables=variables,
            now=self.rt.clock(),
            times_planned=times_planned,
            times_called=times_called,
            trusted_variables=frozenset(n for n in variables if loaded.facts.taint([n]) is None),
            tools_called=loaded.facts.tools_called(),
        )

    def _wait_for_people(self, case_id: str) -> LoopState:
        pending: list[PendingTask] = [
            {"task_id": t.id, "role": t.role, "prompt": t.prompt, "options": list(t.options), "kind": t.kind}
            for t in self.rt.store.tasks(case_id=case_id, status="open")
        ]
        if not pending:
            return {"stop": "waiting_for_events", "plan": None}
        return {"plan": {"option": {"id": "wait", "kind": "wait"}}, "pending": pending}
