"""A step's transaction on SQLite runs its hot statements on the DBAPI connection and builds
SQLAlchemy's ``Connection`` only when the step needs one (``casepilot.store._step_txn``): whatever
mix of the two a step uses, it commits or rolls back as one, and gives its connection back."""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select

from casepilot.store import Store
from casepilot.store._step_sql import INSERT_EVENTS
from casepilot.store._step_txn import SqliteTransaction
from casepilot.store._tables import HumanTaskRow, VaultEntryRow
from tests.store._store_helpers import new_case


class Boom(RuntimeError):
    pass


def _count(store: Store, table: type, case_id: str) -> int:
    column = table.case_id  # type: ignore[attr-defined]
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(column == case_id)).scalar_one())


def test_inbox_rows_and_events_commit_together(store: Store) -> None:
    case = new_case(store)
    with store.step(case.id, case.version) as step:
        step.append("plan", actor="agent", payload={"next": 1})
        task = step.create_task("Approve?", role="manager", options=["approve", "reject"])  # the ORM joins the step
        step.append("transition", payload={"item": "t", "to": "active"})
        step.save_state({"items": {}, "n": 1})
    assert store.task(task.id).status == "open"
    assert [e.kind for e in store.history(case.id)] == [
        "case_created", "plan", "human_task_created", "transition", "state"]
    assert store.case(case.id).version == case.version + 1


def test_a_failure_after_the_orm_joined_rolls_everything_back(store: Store) -> None:
    case = new_case(store)
    with pytest.raises(Boom), store.step(case.id, case.version) as step:
        step.append("plan", actor="agent", payload={"next": 1})
        step.create_task("Approve?", role="manager")
        step.flush()  # the events are written on the driver's cursor, inside the same transaction
        raise Boom
    assert _count(store, HumanTaskRow, case.id) == 0
    assert [e.kind for e in store.history(case.id)] == ["case_created"]
    assert store.case(case.id).version == case.version


def test_a_vault_write_joins_the_step_and_rolls_back_with_it(store: Store) -> None:
    case = new_case(store)
    with pytest.raises(Boom), store.step(case.id, case.version) as step:
        store.vault.put(case.id, "<PERSON_1>", "John Smith")
        step.append("plan", actor="agent", payload={"payee": "<PERSON_1>"})
        raise Boom
    assert _count(store, VaultEntryRow, case.id) == 0
    with store.step(case.id, case.version) as step:
        store.vault.put(case.id, "<PERSON_1>", "John Smith")
        step.append("plan", actor="agent", payload={"payee": "<PERSON_1>"})
    assert store.vault.get(case.id, "<PERSON_1>") == "John Smith"
    assert [e.kind for e in store.history(case.id)] == ["case_created", "plan"]


def test_steps_give_their_connection_back_whichever_way_they_end(store: Store) -> None:
    # More steps than the pool holds connections (5, and 10 more under a burst): a step that kept
    # its connection would make a later one wait for the pool's timeout, then fail.
    case = new_case(store)
    version = case.version
    for i in range(30):
        if i % 3 == 0:
            with pytest.raises(Boom), store.step(case.id, version) as step:
                step.append("plan", actor="agent", payload={"i": i})
                if i % 2:
                    step.create_task(f"Question {i}")
                raise Boom
            continue
        with store.step(case.id, version) as step:
            step.append("plan", actor="agent", payload={"i": i})
            if i % 2:
                step.create_task(f"Question {i}")
        version += 1
    assert store.case(case.id).version == version
    assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_driver_errors_surface_as_sqlalchemy_errors(tmp_path: object) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path}/txn.db")
    try:
        case = new_case(store)
        row = {"case_id": case.id, "seq": 1, "at": case.updated_at, "kind": "plan", "actor": "agent",
               "payload_json": "{}", "rule_ids_json": "[]", "tokens": None, "cost": None, "cost_nano": None,
               "latency_ms": None, "prev_hash": "0" * 64, "hash": "f" * 64}
        with pytest.raises(sa_exc.IntegrityError), SqliteTransaction(store.engine) as txn:
            txn.executemany(INSERT_EVENTS, [row])  # seq 1 is the case_created event already
        assert [e.kind for e in store.history(case.id)] == ["case_created"]
        assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        store.close()
