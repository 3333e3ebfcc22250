"""Claims on inbox items (``Store.claim_task``): one person at a time, again is fine, released by
anyone, over once the item closes — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from casepilot.errors import ConcurrencyConflict, NotFound
from casepilot.store import Store
from tests.store._store_helpers import new_case


def _open_task(store: Store) -> str:
    case = new_case(store)
    with store.step(case.id, case.version) as step:
        task = step.create_task("Approve?", kind="checkpoint", plan_item="pi", role="senior analyst",
                                options=["approve", "reject"])
    return task.id


def test_one_claim_at_a_time(store: Store) -> None:
    task_id = _open_task(store)
    person, since = store.claim_task(task_id, "ann")
    assert person == "ann" and store.task_claims([task_id]) == {task_id: ("ann", since)}
    assert store.claim_task(task_id, "ann")[0] == "ann"  # claiming again is fine
    with pytest.raises(ConcurrencyConflict, match="claimed by ann"):
        store.claim_task(task_id, "bob")
    assert store.release_task(task_id) == "ann"
    assert store.task_claims([task_id]) == {}
    assert store.claim_task(task_id, "bob")[0] == "bob"
    with pytest.raises(NotFound):
        store.claim_task("no-such-item", "bob")


def test_a_closed_item_cannot_be_claimed_and_its_claim_is_over(store: Store) -> None:
    task_id = _open_task(store)
    store.claim_task(task_id, "ann")
    store.decide_task(task_id, decided_by="ann", decision="approve")
    assert store.task_claims([task_id]) == {}
    with pytest.raises(ConcurrencyConflict, match="is decided"):
        store.claim_task(task_id, "bob")
