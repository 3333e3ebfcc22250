"""Steps that record what they changed: deltas between snapshots, a snapshot every N steps,
the current state read back (case, load_case, rebuild_state) and the running spend total."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from casepilot.store import Store
from casepilot.store._canonical import digest
from casepilot.store._cases import llm_spend_from_events
from casepilot.store.history import apply_ops
from tests.store._store_helpers import new_case


def items_state(n: int) -> dict[str, Any]:
    return {"engine": {"now": "t0", "items": [{"id": f"i{k}", "state": "available"} for k in range(n)]},
            "agent": {"steps": 0}}


def change(store: Store, case_id: str, k: int, *, extra: bool = False) -> None:
    """One step that changes item ``k`` (and appends a new item when ``extra``)."""
    case = store.case(case_id)
    ops: list[list[Any]] = [["set", ["engine", "now"], f"t{case.version}"],
                            ["put", ["engine", "items"], {"id": f"i{k}", "state": f"active@{case.version}"}],
                            ["set", ["agent"], {"steps": case.state["agent"]["steps"] + 1}]]
    if extra:
        ops.append(["put", ["engine", "items"], {"id": f"new{case.version}", "state": "available"}])
    expected = {**case.state, "engine": dict(case.state["engine"])}
    apply_ops(expected, ops)
    with store.step(case_id, case.version) as step:
        step.append("transition", payload={"item": f"i{k}"})
        step.save_changes(ops, snapshot=lambda: expected, actor="agent")
    assert store.case(case_id).state == expected


@pytest.fixture
def small_snapshots(store_url: str) -> Any:
    s = Store.from_url(store_url, snapshot_every=4)
    yield s
    s.close()


def test_steps_between_snapshots_record_deltas(small_snapshots: Store) -> None:
    store = small_snapshots
    case = new_case(store, state=items_state(200))  # big enough: the steps never outweigh it here
    for i in range(9):
        change(store, case.id, i % 20, extra=i % 3 == 0)
    kinds = [e.kind for e in store.history(case.id) if e.kind in ("state", "state_delta", "case_created")]
    # the snapshot of case_created is version 1; every 4th step after a snapshot writes one
    assert kinds == ["case_created", "state_delta", "state_delta", "state_delta", "state", "state_delta",
                     "state_delta", "state_delta", "state", "state_delta"]
    current = store.case(case.id)
    assert store.rebuild_state(case.id) == current.state
    assert store.load_case(case.id).state == current.state
    assert [c.state for c in store.cases(definition_key="claims")] == [current.state]
    assert len(current.state["engine"]["items"]) == 203  # three new items appended, none lost
    assert store.verify(case.id).ok


def test_a_delta_event_holds_only_what_changed(small_snapshots: Store) -> None:
    store = small_snapshots
    case = new_case(store, state=items_state(2_000))
    change(store, case.id, 7)
    delta = store.history(case.id)[-1]
    assert delta.kind == "state_delta"
    assert len(str(delta.payload)) < 300
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT state_json FROM cases WHERE id = :c"), {"c": case.id}).scalar_one()
    assert digest(items_state(2_000)) == digest(json.loads(stored))  # the row keeps the snapshot


def test_a_snapshot_is_due_once_the_events_since_outweigh_the_last_one(store_url: str) -> None:
    with Store.from_url(store_url, snapshot_every=1000) as store:
        case = new_case(store, state=items_state(10))
        kinds = []
        for i in range(12):
            change(store, case.id, i % 10)
            kinds.append(store.history(case.id)[-1].kind)
        # a snapshot of ~0.5 KB, steps of ~0.2 KB (delta and transition): a snapshot every third step
        assert kinds.count("state") >= 3 and kinds.count("state_delta") >= 6
        assert kinds[:3] == ["state_delta", "state_delta", "state"]
        big = new_case(store, state=items_state(5_000))
        for i in range(12):
            change(store, big.id, i)
        assert [e.kind for e in store.history(big.id)].count("state") == 0  # 12 steps weigh far less


def test_save_state_writes_a_snapshot_at_once(small_snapshots: Store) -> None:
    store = small_snapshots
    case = new_case(store, state=items_state(3))
    change(store, case.id, 1)
    with store.step(case.id, store.case(case.id).version) as step:
        step.save_state({"on": "demand"})
    assert store.history(case.id)[-1].kind == "state"
    assert store.case(case.id).state == store.load_case(case.id).state == {"on": "demand"}


def test_the_store_writes_the_snapshot_when_one_is_due(store_url: str) -> None:
    with Store.from_url(store_url, snapshot_every=1) as store:
        case = new_case(store, state=items_state(3))
        change(store, case.id, 1)
        assert store.history(case.id)[-1].kind == "state"


def test_delta_events_are_written_by_the_store_only(store: Store) -> None:
    case = new_case(store)
    with pytest.raises(ValueError, match="written by the store"), store.step(case.id, case.version) as step:
        step.append("state_delta", payload={"ops": []})


def test_snapshot_every_is_validated(store_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="snapshot_every"):
        Store.from_url(store_url, snapshot_every=0)
    monkeypatch.setenv("CASEPILOT_SNAPSHOT_EVERY", "7")
    with Store.from_url(store_url) as store:
        assert store.snapshot_every == 7
    monkeypatch.delenv("CASEPILOT_SNAPSHOT_EVERY")
    monkeypatch.chdir(tmp_path)  # the settings' .env file, read from the working folder
    (tmp_path / ".env").write_text("CASEPILOT_SNAPSHOT_EVERY=9\n", encoding="utf-8")
    with Store.from_url(store_url) as store:
        assert store.snapshot_every == 9


def test_apply_ops_puts_by_id_and_sets_by_path() -> None:
    state: dict[str, Any] = {"a": {"items": [{"id": 1, "v": 0}, {"id": 2, "v": 0}]}}
    index: dict[tuple[str, ...], dict[Any, int]] = {}
    apply_ops(state, [["put", ["a", "items"], {"id": 2, "v": 9}], ["put", ["a", "items"], {"id": 3}]], index)
    apply_ops(state, [["set", ["a", "items"], [{"id": 5}]], ["put", ["a", "items"], {"id": 5, "v": 1}]], index)
    apply_ops(state, [["set", ["b", "c"], True]], index)
    assert state == {"a": {"items": [{"id": 5, "v": 1}]}, "b": {"c": True}}
    with pytest.raises(ValueError, match="unknown delta operation"):
        apply_ops(state, [["drop", ["a"], None]])


# -- the running spend total --------------------------------------------------------------------


def spend(store: Store, case_id: str, *costs: Decimal | float | None, tokens: int = 10) -> None:
    case = store.case(case_id)
    with store.step(case_id, case.version) as step:
        for cost in costs:
            step.append("llm_call", actor="agent", payload={}, tokens=tokens, cost=cost)
        step.append("plan", payload={}, tokens=999, cost=Decimal("5"))  # not a model call: not counted


def test_the_running_total_equals_the_sum_over_the_events(store: Store) -> None:
    a, b = new_case(store, "claims"), new_case(store, "claims")
    other = new_case(store, "other")
    spend(store, a.id, Decimal("0.1"), Decimal("0.2"))
    spend(store, b.id, Decimal("0.000000001"), None, tokens=7)
    spend(store, other.id, Decimal("3"))
    spend(store, a.id, Decimal("1e7"))  # beyond an exact BIGINT amount: summed as a float, as before
    for key in ("claims", "other"):
        assert store.llm_spend(key) == llm_spend_from_events(store.engine, key)
    tokens, cost, calls = store.llm_spend("claims")
    assert (tokens, calls) == (44, 5)
    assert cost == Decimal("10000000.300000001")
    assert store.llm_spend("nobody") == (0, Decimal(0), 0)


def test_a_failed_step_adds_nothing_to_the_total(store: Store) -> None:
    case = new_case(store)
    spend(store, case.id, Decimal("0.5"))
    with pytest.raises(RuntimeError), store.step(case.id, store.case(case.id).version) as step:
        step.append("llm_call", payload={}, tokens=5, cost=Decimal("1"))
        raise RuntimeError("the step fails after staging a model call")
    assert store.llm_spend("claims") == (10, Decimal("0.5"), 1)


def test_concurrent_steps_keep_the_total_exact(store: Store) -> None:
    import threading

    cases = [new_case(store, "claims") for _ in range(4)]
    errors: list[BaseException] = []

    def work(case_id: str) -> None:
        try:
            for _ in range(15):
                spend(store, case_id, Decimal("0.001"), tokens=3)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c.id,)) for c in cases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.llm_spend("claims") == (180, Decimal("0.060"), 60) == llm_spend_from_events(store.engine, "claims")
