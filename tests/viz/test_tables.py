"""Notebook displays (``casepilot.viz``): a DMN table's rules as written, a decision over a grid as a
heat map, a case's history and verdicts, governance across cases — each with escaped HTML."""

from __future__ import annotations

from pathlib import Path

import pytest

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.rule_planner import RulePlanner
from casepilot.demo.run import CLAIMANTS, EXAMPLE, LETTERS, demo_registry
from casepilot.dmn import DecisionModel
from casepilot.store import Store
from casepilot.viz import (
    Table,
    approvals_by_role,
    case_view,
    decision_grid,
    decision_table,
    history_table,
    spend_by_case,
    verdict_table,
    verdicts_by_rule,
)

GUARDRAILS = EXAMPLE / "guardrails.dmn"


def test_a_decision_table_as_written() -> None:
    table = decision_table(GUARDRAILS, "Review routing")
    assert table.caption == "Review routing (hit policy FIRST)"
    assert table.columns[0] == "rule" and "Claimed amount" in table.columns
    assert [row[0] for row in table.rows][:3] == ["reading_only", "already_approved", "large_amount"]
    assert "<table" in table._repr_html_()


def test_a_decision_over_a_grid() -> None:
    model = DecisionModel.from_xml(GUARDRAILS)
    grid = decision_grid(lambda i: model.evaluate("Review routing", i), x=("confidence", [0.5, 0.95]),
                         y=("sentiment", [-0.4, 0.6]), fixed={"case": {}}, outcome=lambda r: r.value["verdict"])
    assert grid.cells[(0.95, 0.6)] == ("allow", ("otherwise_allow",))
    assert grid.cells[(0.5, 0.6)][0] == "require_human" and grid.cells[(0.5, 0.6)][1] == ("low_confidence",)
    assert grid.outcomes() == ["allow", "require_human"]
    assert grid._repr_svg_().count("<rect") == 4


def test_cells_are_text() -> None:
    html = Table(("a",), (("<b>bold</b>",),))._repr_html_()
    assert "<b>" not in html and "&lt;b&gt;" in html


def test_a_case_and_governance_across_cases(tmp_path: Path) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path / 'viz.db'}")
    orch = Orchestrator(store, demo_registry(), RulePlanner())
    try:
        orch.deploy(EXAMPLE)
        review = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], **CLAIMANTS["senior-review"]},
                                 "CLM-1")
        (task,) = orch.run(review.id).pending
        orch.decide(task.id, Person("Ann", frozenset({"senior analyst"})), "approve")
        orch.run(review.id)
        straight = orch.start_case("claim-triage", {"letter": LETTERS["straight-through"],
                                                     **CLAIMANTS["straight-through"]}, "CLM-2")
        orch.run(straight.id)

        view = case_view(orch, review.id)
        assert (view.title, view.state, view.why) == ("claim-triage · CLM-1", "completed", ("completed",))
        assert view.diagram.states["pi_pay"] == "Completed" and "<svg" in view._repr_html_()
        events = store.history(review.id)
        actions = {row[1]: (row[2], row[3]) for row in verdict_table(events).rows}
        assert actions["Pay claim"] == ("allow", ())  # named as the plan named it: starting the payment process
        # the process's service calls, by tool and element (their verdicts are nested in BPMN events)
        assert actions["pay_claim at payment/pay"] == ("allow", ("already_approved",))
        assert actions["validate_payment at payment/validate"] == ("allow", ("reading_only",))
        assert all(row[3] in ("human_task_created", "human_task_decided") for row in
                   history_table(events, "people").rows if row[3] != "chat_message")

        by_rule = {(rule, kind): n for rule, kind, n in verdicts_by_rule(store).rows}
        # pay_claim and the confirmation of the reviewed claim allowed as already approved; read-only: each claim's
        # extract_claim, sentiment and validate_payment (validation runs before the manager's approval)
        assert by_rule[("already_approved", "allow")] == 2 and by_rule[("reading_only", "allow")] == 6
        assert approvals_by_role(store).rows == (("senior analyst", "decided", "approve", 1),)
        spend = {row[0]: row for row in spend_by_case(store).rows}
        assert spend["CLM-1"][2] == "completed" and spend["CLM-1"][-1] == 1 and spend["CLM-2"][-1] == 0
        assert spend["CLM-2"][2] == "active"  # its payment (1,250.50) waits for a claims manager
    finally:
        orch.close()
        store.close()


def test_a_grouped_bar_chart() -> None:
    from casepilot.viz import bar_chart

    chart = bar_chart("nDCG", ["q1", "q2"], {"hybrid": [0.5, 1.0], "<peer>": [0.25, 0.75]})
    assert chart.means() == {"hybrid": 0.75, "<peer>": 0.5}
    svg = chart._repr_svg_()
    assert svg.count("<rect") == 4 + 2  # a bar per value, a swatch per series
    assert "&lt;peer&gt;" in svg and "<peer>" not in svg
    with pytest.raises(ValueError, match="2 values for 1 categories"):
        bar_chart("x", ["q1"], {"a": [1.0, 2.0]})
