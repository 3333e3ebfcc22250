"""casepilot.viz — pictures of cases: the plan diagram of a CMMN case, drawn server-side as SVG.

``plan_diagram(case_definition, items, case_state)`` draws the plan model — stages, tasks,
milestones, event listeners with their current states, and the sentries between them — from
the model's own CMMNDI coordinates when it has them for every item, a layered layout otherwise.
The result shows itself in a notebook (``_repr_svg_``) and embeds in a page (``.svg``)::

    from casepilot.viz import plan_diagram
    diagram = plan_diagram(bundle.case, engine.items(), engine.state, definitions=bundle.definitions)
    diagram            # in Jupyter: the picture
    diagram.svg        # the markup

The diagram reads definitions and states only. Beside it, for notebooks: ``case_view`` (a case
at a glance), ``history_table``/``verdict_table``, ``decision_table`` (a DMN table's rules),
``decision_grid`` (a decision over two inputs, as a heat map), ``bar_chart`` and, across cases from a store,
``verdicts_by_rule``, ``approvals_by_role`` and ``spend_by_case`` — each with ``_repr_html_``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from casepilot.cmmn.definitions import Case, Definitions

from ._layout import di_bounds, lay_out
from ._model import StateView, build_nodes, links
from ._svg import STATE_COLOURS, render

__all__ = [
    "STATE_COLOURS",
    "BarChart",
    "CaseView",
    "DecisionGrid",
    "PlanDiagram",
    "Table",
    "approvals_by_role",
    "bar_chart",
    "case_view",
    "decision_grid",
    "decision_table",
    "history_table",
    "plan_diagram",
    "spend_by_case",
    "verdict_table",
    "verdicts_by_rule",
]


@dataclass(frozen=True, slots=True)
class PlanDiagram:
    """A drawn plan: its SVG markup, how it was placed (``"di"`` or ``"layout"``), each item's state."""

    svg: str
    placement: str
    states: dict[str, str]
    """Plan item id -> its drawn state (``not started`` / ``not planned`` without an instance)."""

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_html_(self) -> str:
        return f'<div style="overflow-x:auto">{self.svg}</div>'

    def __str__(self) -> str:
        return self.svg


def plan_diagram(case: Case, items: Iterable[StateView] = (), case_state: str | None = None, *,
                 definitions: Definitions | None = None) -> PlanDiagram:
    """Draw ``case``'s plan with the states of ``items`` (an engine's ``items()``; none for the bare model).

    ``case_state`` is the case's own state (``active``, ``completed``…); ``definitions`` (the parsed
    file) brings the model's DI coordinates when it has them.
    """
    root = build_nodes(case, items, case_state.capitalize() if case_state else None)
    placement = lay_out(case, root, di_bounds(definitions))
    title = f"Plan of {case.name or case.id}" + (f" ({case_state})" if case_state else "")
    states = {n.id: n.state or ("not planned" if n.discretionary else "not started") for n in root.walk()}
    return PlanDiagram(render(root, links(case, root), title=title), placement, states)


from .case_view import CaseView, case_view  # noqa: E402
from .charts import BarChart, bar_chart  # noqa: E402 — they use PlanDiagram above
from .governance import approvals_by_role, spend_by_case, verdicts_by_rule  # noqa: E402
from .tables import DecisionGrid, Table, decision_grid, decision_table, history_table, verdict_table  # noqa: E402
