"""On PostgreSQL a lease write is one statement in autocommit that relaxes its own transaction's
durability (``_leases``: ``set_config('synchronous_commit', 'off', true)`` in a subquery it
joins) — what ``BEGIN``, ``SET LOCAL synchronous_commit TO OFF``, the statement and ``COMMIT``
did in four round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from casepilot.store import Store, _leases

TTL = timedelta(seconds=30)


def test_each_lease_statement_turns_off_synchronous_commit_for_its_own_transaction(pg_store: Store) -> None:
    now = datetime.now(UTC)
    params: dict[str, Any] = {"case_id": "c1", "owner": "w1", "expires_at": now + TTL, "now": now}
    for statement in (_leases._ACQUIRE["postgresql"], _leases._RENEW["postgresql"], _leases._RELEASE["postgresql"]):
        with pg_store.engine.connect() as conn, conn.begin():
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
            assert statement.execute(conn, params).rowcount == 1  # took, renewed, gave back the lease
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
        if statement is not _leases._RELEASE["postgresql"]:  # (the row stays for the next statement)
            assert _leases.holder(pg_store.engine, "c1", now=now) == "w1"
        with pg_store.engine.connect() as conn:  # the setting ended with the transaction
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    assert _leases.holder(pg_store.engine, "c1", now=now) is None


def test_a_lease_write_is_one_statement_and_keeps_its_meaning(pg_store: Store) -> None:
    engine = pg_store.engine
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_rest: sent.append(statement.split(" ", 1)[0]))
    now = datetime.now(UTC)
    assert _leases.acquire(engine, "c1", "w1", now=now, ttl=TTL)
    assert not _leases.acquire(engine, "c1", "w2", now=now, ttl=TTL)  # held by another
    assert _leases.acquire(engine, "c1", "w2", now=now + TTL + timedelta(seconds=1), ttl=TTL)  # it expired
    assert not _leases.renew(engine, "c1", "w1", now=now, ttl=TTL)  # no longer w1's
    assert _leases.renew(engine, "c1", "w2", now=now, ttl=TTL)
    _leases.release(engine, "c1", "w1")  # not w1's to give back
    assert _leases.holder(engine, "c1", now=now) == "w2"
    _leases.release(engine, "c1", "w2")
    assert _leases.holder(engine, "c1", now=now) is None
    # One statement per lease write (the two holder() reads are SELECTs); no SET LOCAL, no BEGIN.
    writes = [verb for verb in sent if verb != "SELECT"]
    assert writes == ["INSERT", "INSERT", "INSERT", "UPDATE", "UPDATE", "DELETE", "DELETE"]
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    with engine.connect() as conn:  # a pooled connection came back out of autocommit
        assert conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"
        assert not conn.connection.driver_connection.autocommit  # type: ignore[union-attr]
