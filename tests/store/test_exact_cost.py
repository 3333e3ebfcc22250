"""Money is summed exactly: ``llm_spend`` adds integer billionths, never floats.

0.7 + 0.1 is 0.7999999999999999 in floating point — a definition whose total budget is
0.8 would pass it unnoticed. Stored and summed as ``cost_nano``, it is 0.8.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from casepilot.store import DefinitionBundle, Store, _step
from casepilot.store._spend import cost_nano


def test_costs_sum_exactly_over_every_case(store: Store) -> None:
    store.deploy("k", DefinitionBundle(files={"m.cmmn": "<x/>"}))
    for cost in (Decimal("0.7"), Decimal("0.1"), 0.1, 0.2):  # floats are read as the decimal they print as
        case = store.create_case("k", {})
        with store.step(case.id, case.version) as step:
            event = step.append("llm_call", payload={"model": "m"}, tokens=1, cost=cost)
        assert event.cost == float(cost)  # the hashed, readable value stays a number

    tokens, spent, calls = store.llm_spend("k")

    assert (tokens, calls) == (4, 4)
    assert isinstance(spent, Decimal) and spent == Decimal("1.1")


def test_a_fraction_of_a_billionth_counts_as_a_whole_one() -> None:
    assert cost_nano(Decimal("0.0000000001")) == 1  # rounded up: a budget never undercounts
    assert cost_nano(Decimal("1.5")) == 1_500_000_000
    assert cost_nano(None) is None
    assert cost_nano(1e300) is None and cost_nano(float("inf")) is None  # left to the float column


def test_an_absurd_cost_is_still_counted(store: Store) -> None:
    store.deploy("k", DefinitionBundle(files={"m.cmmn": "<x/>"}))
    case = store.create_case("k", {})
    with store.step(case.id, case.version) as step:
        step.append("llm_call", payload={"model": "m"}, tokens=1, cost=Decimal("0.5"))
        step.append("llm_call", payload={"model": "m"}, tokens=1, cost=1e300)
    assert store.llm_spend("k")[1] >= Decimal("1e300")


def test_events_from_before_the_exact_column_still_count(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.deploy("k", DefinitionBundle(files={"m.cmmn": "<x/>"}))
    case = store.create_case("k", {})
    with store.step(case.id, case.version) as step:
        step.append("llm_call", payload={"model": "m"}, tokens=1, cost=Decimal("0.5"))
    with monkeypatch.context() as older:  # an event written by a casepilot without the exact column
        older.setattr(_step, "cost_nano", lambda cost: None)
        with store.step(case.id, store.case(case.id).version) as step:
            step.append("llm_call", payload={"model": "m"}, tokens=1, cost=Decimal("0.25"))

    assert store.llm_spend("k")[1] == Decimal("0.75")
