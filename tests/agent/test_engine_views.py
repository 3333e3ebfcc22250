"""The agent's views of plan items follow the engine: a new view for what moved, the same one for what did not."""

from __future__ import annotations

import datetime as dt

from casepilot.agent.engine import EngineCase
from tests.cmmn.runtime._models import case_of, on

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
CHAIN = (
    '<planItem id="pa" definitionRef="ta"/>'
    '<planItem id="pb" definitionRef="tb"><entryCriterion id="ec_b" sentryRef="s_a"/></planItem>'
    '<planItem id="pc" definitionRef="tc"><entryCriterion id="ec_c" sentryRef="s_b"/></planItem>'
    + on("s_a", "pa", "complete") + on("s_b", "pb", "complete")
    + '<humanTask id="ta" name="A"/><humanTask id="tb" name="B"/><humanTask id="tc" name="C"/>'
)


def test_views_show_each_operation_and_reuse_what_did_not_move() -> None:
    engine, _events = EngineCase.start(case_of(CHAIN), {}, T0)
    before = {v.name: v for v in engine.items()}
    assert {n: v.state for n, v in before.items()} == {"A": "active", "B": "available", "C": "available"}
    assert engine.items() is engine.items()  # listed once per state of the case

    engine.complete(before["A"].instance_id)
    after = {v.name: v for v in engine.items()}
    assert {n: v.state for n, v in after.items()} == {"A": "completed", "B": "active", "C": "available"}
    assert after["C"] is before["C"] and after["B"] is not before["B"]
    assert engine.item(after["B"].instance_id) is after["B"]
    assert [v.name for v in engine.active_items()] == ["B"]
    # A copy loaded from the stored state sees the same states (views are not part of the state).
    loaded = EngineCase.load(engine.case, engine.dump())
    assert [(v.name, v.state) for v in loaded.items()] == [(v.name, v.state) for v in engine.items()]
