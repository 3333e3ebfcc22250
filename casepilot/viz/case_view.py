"""A case at a glance for a notebook: its title and state, why it stands where it does (the same
words as ``casepilot run`` and the case page), its plan diagram and its recent history."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from casepilot.agent.stop_reason import guardrail_decisions, stop_reason

from . import PlanDiagram, plan_diagram
from .tables import Table, history_table, verdict_table

if TYPE_CHECKING:
    from casepilot.agent.orchestrator import Orchestrator

__all__ = ["CaseView", "case_view"]


@dataclass(frozen=True, slots=True)
class CaseView:
    """What a notebook shows for a case (``_repr_html_``); its parts are there for code too."""

    case_id: str
    title: str
    state: str
    why: tuple[str, ...]
    diagram: PlanDiagram
    history: Table
    verdicts: Table

    def _repr_html_(self) -> str:
        recent = Table(self.history.columns, self.history.rows[-15:], "the last 15 events")
        why = "".join(f"<li>{escape(line)}</li>" for line in self.why)
        return (f"<div class='casepilot-case'><h3>{escape(self.title)} — {escape(self.state)}</h3>"
                f"<ul>{why}</ul>{self.diagram._repr_html_()}{recent._repr_html_()}</div>")


def case_view(orch: Orchestrator, case_id: str) -> CaseView:
    """Read the case from ``orch``'s store and draw it."""
    record = orch.store.case(case_id)
    loaded = orch.runtime.load(case_id)
    engine = loaded.engine
    state = engine.state if engine is not None else "active"
    reason = stop_reason(orch.outcome(case_id), orch.store.iter_history(case_id),
                         guardrail_decisions(loaded.bundle.manifest))
    diagram = plan_diagram(loaded.bundle.case, engine.items() if engine is not None else (), state,
                           definitions=loaded.bundle.definitions)
    title = f"{record.definition_key} · {record.business_key or record.id[:8]}"
    events = list(orch.store.iter_history(case_id))
    return CaseView(case_id, title, state, reason.lines, diagram, history_table(events), verdict_table(events))
