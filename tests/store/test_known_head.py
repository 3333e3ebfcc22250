"""A step may start from the head its caller's previous step left (``Step.next_head``, issue 15):
on PostgreSQL it then neither reads nor locks the case row first — one round trip and one row
lock less per agent step — and is exactly as safe: a head that is no longer current fails the
step with ``StaleVersion`` at commit and nothing of it lands, whichever of two writers came first."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, text

from casepilot.store import StepHead, Store
from casepilot.store._step_head import StaleVersion
from tests.store._store_helpers import new_case

_ROW = ("SELECT version, last_seq, head_hash, definition_key, snapshot_version, snapshot_bytes, tail_bytes "
        "FROM cases WHERE id = :id")


def _row_head(store: Store, case_id: str) -> StepHead:
    with store.engine.connect() as conn:
        return StepHead(*conn.execute(text(_ROW), {"id": case_id}).one())


def _locking_reads(store: Store) -> list[str]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM cases" in statement and "FOR UPDATE" in statement:
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", note)
    return seen


def _step(store: Store, case_id: str, version: int, head: StepHead | None, n: int, *, snapshot: bool) -> StepHead:
    with store.step(case_id, version, head=head) as step:
        step.append("plan", actor="agent", payload={"next": n})
        step.append("transition", payload={"item": "t", "to": "active", "text": "x" * (n * 50)})
        if snapshot:
            step.save_state({"items": {}, "n": n})
        else:
            step.save_changes([["set", ["n"], n]], snapshot=lambda: {"items": {}, "n": n})
    assert step.next_head is not None
    return step.next_head


def test_next_head_is_the_row_as_the_step_left_it(store: Store) -> None:
    """Snapshots and deltas alike: the head handed on is what reading the row would give."""
    case = new_case(store)
    head: StepHead | None = None
    for n in range(1, 9):
        head = _step(store, case.id, case.version + n - 1, head, n, snapshot=n % 3 == 0)
        assert head == _row_head(store, case.id)
    with store.step(case.id, case.version + 8, head=head) as step:
        pass  # a step that records nothing leaves the row as it was
    assert step.next_head == head == _row_head(store, case.id)
    assert store.verify(case.id).ok
    assert store.rebuild_state(case.id) == store.case(case.id).state == {"items": {}, "n": 8}


@pytest.mark.postgres
def test_with_a_head_the_step_does_not_read_and_lock_the_row(pg_store: Store) -> None:
    case = new_case(pg_store)
    locking = _locking_reads(pg_store)
    head = _step(pg_store, case.id, case.version, None, 1, snapshot=True)
    assert len(locking) == 1  # without a head: read and locked first
    _step(pg_store, case.id, case.version + 1, head, 2, snapshot=False)
    _step(pg_store, case.id, case.version + 2, _row_head(pg_store, case.id), 3, snapshot=True)
    assert len(locking) == 1
    stale = StepHead(case.version, 0, "0" * 64, case.definition_key, 1, 0, 0)
    _step(pg_store, case.id, case.version + 3, stale, 4, snapshot=True)  # a head of another version: read
    assert len(locking) == 2
    assert pg_store.verify(case.id).ok and pg_store.case(case.id).version == case.version + 4


@pytest.mark.postgres
def test_a_head_that_is_no_longer_current_fails_the_step_and_nothing_lands(pg_store: Store) -> None:
    case = new_case(pg_store)
    head = _step(pg_store, case.id, case.version, None, 1, snapshot=True)
    _step(pg_store, case.id, case.version + 1, None, 2, snapshot=False)  # another writer moved the case
    before = pg_store.history(case.id)
    with pytest.raises(StaleVersion):
        _step(pg_store, case.id, case.version + 1, head, 99, snapshot=True)
    assert pg_store.history(case.id) == before
    assert pg_store.verify(case.id).ok and pg_store.case(case.id).state == {"items": {}, "n": 2}


@pytest.mark.postgres
def test_a_head_at_the_current_version_but_another_chain_head_is_refused(pg_store: Store) -> None:
    """A caller's head is checked, not trusted: one whose chain head is not the row's (a bug, a
    head of another database) fails the step — its events would not chain — and nothing lands.
    (SQLite reads the row whatever the caller hands in.)"""
    store = pg_store
    case = new_case(store)
    head = _step(store, case.id, case.version, None, 1, snapshot=True)
    before = store.history(case.id)
    for forged in (replace(head, head_hash="f" * 64), replace(head, last_seq=head.last_seq - 1)):
        with pytest.raises(StaleVersion):
            _step(store, case.id, case.version + 1, forged, 2, snapshot=False)
        assert store.history(case.id) == before
    _step(store, case.id, case.version + 1, head, 2, snapshot=False)  # the true head steps on
    assert store.verify(case.id).ok and store.case(case.id).state == {"items": {}, "n": 2}


def _wait_for_a_lock_wait(store: Store) -> None:
    """Until a backend of the test's database waits for a lock (the other writer is blocked)."""
    deadline = time.monotonic() + 30
    with store.engine.connect() as conn:
        while conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND wait_event_type = 'Lock'")).scalar() == 0:
            assert time.monotonic() < deadline, "the second writer never waited for the first"
            time.sleep(0.01)
            conn.rollback()


def _in_thread(work: Any) -> tuple[threading.Thread, list[BaseException]]:
    failed: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # handed to the test
            failed.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, failed


@pytest.mark.postgres
@pytest.mark.parametrize("first", ["head writer", "locking writer"])
def test_of_two_writers_the_second_waits_for_the_first_and_then_refuses(pg_store: Store, first: str) -> None:
    """A head writer first: its first event locks the row against ``FOR UPDATE`` (the history's
    foreign key), so a writer without a head waits for it and then finds the case moved on. A
    locking writer first: the head writer's events wait for it and then collide with its sequence
    numbers. Either way the second gets ``StaleVersion`` and nothing of it lands."""
    case = new_case(pg_store)
    head = _step(pg_store, case.id, case.version, None, 1, snapshot=True)
    first_head, second_head = (head, None) if first == "head writer" else (None, head)
    with pg_store.step(case.id, case.version + 1, head=first_head) as step:
        step.append("plan", actor="agent", payload={"next": 2})
        step.flush()
        other, failed = _in_thread(lambda: _step(pg_store, case.id, case.version + 1, second_head, 3, snapshot=True))
        _wait_for_a_lock_wait(pg_store)
        step.save_state({"items": {}, "n": 2})
    other.join(30)
    assert [type(e) for e in failed] == [StaleVersion]
    assert pg_store.verify(case.id).ok and pg_store.case(case.id).state == {"items": {}, "n": 2}
    assert [e.payload.get("next") for e in pg_store.history(case.id) if e.kind == "plan"] == [1, 2]


@pytest.mark.postgres
def test_a_step_from_a_known_head_is_one_round_trip_and_its_commit(
        pg_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its events and the compare-and-set go to the server in one pipeline, the transaction's
    ``BEGIN`` with them (nothing ran before in the step); then the commit."""
    case = new_case(pg_store)
    head = _step(pg_store, case.id, case.version, None, 1, snapshot=True)
    sent: list[tuple[str, int | None]] = []
    pipelines = 0
    pipeline, execute = psycopg.Connection.pipeline, psycopg.Cursor.execute

    @contextmanager
    def counted(conn: psycopg.Connection[Any]) -> Iterator[Any]:
        nonlocal pipelines
        pipelines += 1
        with pipeline(conn) as p:
            yield p

    def spy(cursor: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        first = str(query).split()[0]
        sent.append((first, pipelines if cursor.connection._pipeline is not None else None))
        if len(sent) == 1:
            assert cursor.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE  # BEGIN not sent yet
        return execute(cursor, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "pipeline", counted)
    monkeypatch.setattr(psycopg.Cursor, "execute", spy)
    with pg_store.step(case.id, case.version + 1, head=head) as step:
        for n in range(7):  # 7 events and the state: three statements
            step.append("transition", payload={"item": f"t{n}", "to": "active"})
        step.save_changes([["set", ["n"], 2]], snapshot=lambda: {"items": {}, "n": 2})
    monkeypatch.undo()
    assert sent == [("INSERT", 1), ("INSERT", 1), ("WITH", 1)]
    assert pg_store.verify(case.id).ok and pg_store.case(case.id).state == {"items": {}, "n": 2}
