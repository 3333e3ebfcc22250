"""The human-task inbox: created and decided inside steps, each recorded in the history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from casepilot.errors import ConcurrencyConflict, NotFound, StoreError
from casepilot.store import Store
from tests.store._store_helpers import new_case


def _open_task(store: Store, case_id: str, **kw: object) -> str:
    case = store.case(case_id)
    with store.step(case_id, case.version) as step:
        task = step.create_task(
            "Approve the payout of 1200 EUR to <PERSON_1>?",
            kind="checkpoint",
            plan_item="PI_pay",
            role="claims-supervisor",
            options=["approve", "reject"],
            action_digest="sha256:abc",
            **kw,  # type: ignore[arg-type]
        )
    return task.id


def test_a_created_task_is_in_the_inbox_and_the_history(store: Store) -> None:
    case = new_case(store)
    task_id = _open_task(store, case.id)
    task = store.task(task_id)
    assert (task.status, task.kind, task.role, task.options) == ("open", "checkpoint", "claims-supervisor",
                                                                  ("approve", "reject"))
    assert (task.plan_item, task.action_digest, task.decided_by) == ("PI_pay", "sha256:abc", None)
    assert [t.id for t in store.tasks(role="claims-supervisor")] == [task_id]
    assert store.tasks(role="clerk") == []
    assert [t.id for t in store.tasks(case_id=case.id, status=None)] == [task_id]
    created = store.history(case.id)[-1]
    assert created.kind == "human_task_created"
    assert created.payload["task_id"] == task_id and created.payload["options"] == ["approve", "reject"]


def test_deciding_records_who_what_when(store: Store) -> None:
    case = new_case(store)
    task_id = _open_task(store, case.id)
    decided = store.decide_task(task_id, decided_by="person:ann", decision="approve", comment="documents ok")
    assert (decided.status, decided.decided_by, decided.decision, decided.comment) == (
        "decided", "person:ann", "approve", "documents ok")
    assert decided.decided_at is not None
    assert store.task(task_id) == decided
    assert store.tasks() == []
    event = store.history(case.id)[-1]
    assert (event.kind, event.actor) == ("human_task_decided", "person:ann")
    assert event.payload == {"task_id": task_id, "status": "decided", "decision": "approve",
                             "comment": "documents ok", "action_digest": "sha256:abc", "plan_item": "PI_pay"}


def test_a_task_is_decided_once(store: Store) -> None:
    case = new_case(store)
    task_id = _open_task(store, case.id)
    store.decide_task(task_id, decided_by="person:ann", decision="approve")
    with pytest.raises(ConcurrencyConflict, match="already decided"):
        store.decide_task(task_id, decided_by="person:bob", decision="reject")
    assert store.task(task_id).decided_by == "person:ann"


def test_a_decision_must_be_one_of_the_options(store: Store) -> None:
    case = new_case(store)
    task_id = _open_task(store, case.id)
    with pytest.raises(ValueError, match="not one of"):
        store.decide_task(task_id, decided_by="person:ann", decision="maybe")
    assert store.task(task_id).status == "open"


def test_an_expired_task_cannot_be_decided_and_can_be_closed(store: Store) -> None:
    case = new_case(store)
    task_id = _open_task(store, case.id, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(StoreError, match="expired"):
        store.decide_task(task_id, decided_by="person:ann", decision="approve")
    later = _open_task(store, case.id, expires_at=datetime.now(UTC) + timedelta(hours=1))
    assert [t.id for t in store.tasks(expired_before=datetime.now(UTC))] == [task_id]
    assert {t.id for t in store.tasks()} == {task_id, later}
    current = store.case(case.id)
    with store.step(case.id, current.version) as step:
        closed = step.close_task(task_id, "expired", comment="timer")
    assert closed.status == "expired" and [t.id for t in store.tasks()] == [later]
    assert store.history(case.id)[-1].payload["status"] == "expired"


def test_tasks_of_other_cases_or_unknown_ids_are_not_found(store: Store) -> None:
    a = new_case(store)
    b = new_case(store)
    task_id = _open_task(store, a.id)
    with pytest.raises(NotFound), store.step(b.id, b.version) as step:
        step.decide_task(task_id, decided_by="person:ann", decision="approve")
    with pytest.raises(NotFound):
        store.task("nope")
