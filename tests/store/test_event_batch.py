"""A step's events are written with one ``INSERT`` per flush on PostgreSQL, the last ones in one
statement with the case row's compare-and-set (``_step_txn.MultiRowInsert``; SQLite keeps
``executemany``): exactly the staged events, in order, with a chain that verifies — and a row the
database refuses (here: an actor longer than its column) fails the whole step, never cut short."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from casepilot.store import Store
from tests.store._store_helpers import new_case


def _event_inserts(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """Collect, per statement the store sends that inserts events, how many rows it carries and
    whether it also compare-and-sets the case row (``WITH new_rows AS (INSERT …) UPDATE cases …``).
    On PostgreSQL read off psycopg's cursors: the commit's statements go there straight, in one
    pipeline, past SQLAlchemy (``_step_txn``)."""
    seen: list[tuple[int, bool]] = []

    def note(statement: str, rows: int) -> None:
        if "INSERT INTO history_events" in statement:
            seen.append((rows, "UPDATE cases" in statement))

    if store.engine.dialect.name == "postgresql":
        execute = psycopg.Cursor.execute

        def spy(cursor: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
            text = str(query)
            note(text, text.count("), (") + 1)
            return execute(cursor, query, params, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "execute", spy)
        return seen

    def count(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool) -> None:
        note(statement, len(parameters) if executemany else statement.count("), (") + 1)

    event.listen(store.engine, "before_cursor_execute", count)
    return seen


def test_the_batch_writes_exactly_the_staged_events_with_a_verifying_chain(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    case = new_case(store)
    inserts = _event_inserts(store, monkeypatch)
    many = 69
    with store.step(case.id, case.version) as step:
        step.append("plan", actor="agent", payload={"next": 1}, rule_ids=["R1", "R2"])
        step.append("llm_call", actor="agent", payload={"model": "m"}, tokens=12, cost=0.25, latency_ms=3.5)
        step.flush()  # a first flush: its rows are one statement, the rest another
        for i in range(many):
            step.append("transition", payload={"item": f"t{i}", "to": "active", "text": "x" * (i * 37 % 400)})
        step.save_state({"items": {}, "n": 1})
    staged = step.result.events if step.result is not None else ()
    history = store.history(case.id)
    assert [e.seq for e in history] == list(range(1, len(staged) + 2))
    assert tuple(history[1:]) == staged  # the same events, fields and hashes, in order
    assert history[2].tokens == 12 and history[2].cost == 0.25 and history[2].latency_ms == 3.5
    assert history[1].rule_ids == ("R1", "R2")
    assert store.verify(case.id).ok
    assert store.rebuild_state(case.id) == store.case(case.id).state
    if store.engine.dialect.name == "postgresql":  # (SQLite's run on the driver's cursor, unseen here)
        # The first flush; then 69 transitions + the state event, 3 rows a statement, the last one
        # with the case row's compare-and-set.
        assert inserts == [(2, False)] + [(3, False)] * 23 + [(1, True)]
    # Every row count compiles one statement, once: a second step of the same shape reuses it.
    with store.step(case.id, case.version + 1) as step:
        step.append("plan", actor="agent", payload={"next": 2})
        step.append("transition", payload={"item": "t0", "to": "completed"})
    assert store.verify(case.id).ok
    assert [e.kind for e in store.history(case.id)[-2:]] == ["plan", "transition"]


def test_a_row_the_database_refuses_rolls_the_whole_step_back(pg_store: Store) -> None:
    store = pg_store
    case = new_case(store)
    with pytest.raises(sa_exc.DataError), store.step(case.id, case.version) as step:
        step.append("plan", actor="agent", payload={"next": 1})
        step.flush()  # written, inside the step's transaction
        step.append("transition", payload={"item": "a", "to": "active"})
        step.append("transition", actor="x" * 201, payload={"item": "b", "to": "active"})  # actor: VARCHAR(200)
        step.append("transition", payload={"item": "c", "to": "active"})
        step.save_state({"items": {}, "n": 1})
    assert [e.kind for e in store.history(case.id)] == ["case_created"]  # not even the flushed plan
    after = store.case(case.id)
    assert (after.version, after.state) == (case.version, case.state)
    assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    with store.step(case.id, case.version) as step:  # the same version steps on as if nothing happened
        step.append("plan", actor="agent", payload={"next": 1})
        step.save_state({"items": {}, "n": 1})
    assert [e.seq for e in store.history(case.id)] == [1, 2, 3]
    assert store.verify(case.id).ok
