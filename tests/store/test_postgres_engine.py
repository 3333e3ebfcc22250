"""The PostgreSQL engine's savings (``casepilot.store._postgres``) keep what they replace.

* A read ends in a rollback that keeps psycopg's prepared statements, and the statements go on
  working; a failed transaction is rolled back as before (its prepared statements forgotten).
* A pooled connection whose server session ended is replaced before use (the ping when in doubt).
* New values are compressed with lz4 where the server can.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from casepilot.store._engine import make_engine
from tests._postgres import PgServer, require_postgres, throwaway_database


@pytest.fixture
def engine() -> Iterator[Engine]:
    server = require_postgres()
    with throwaway_database(server, "casepilot_engine") as name:
        made = make_engine(server.sqlalchemy_url(name), pool_size=1, max_overflow=0)
        try:
            yield made
        finally:
            made.dispose()


def _prepared(conn: object) -> int:
    """How many statements the server holds prepared for this session."""
    return int(conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar_one())  # type: ignore[attr-defined]


def test_reads_keep_their_prepared_statements_across_rollbacks(engine: Engine) -> None:
    for i in range(8):  # psycopg prepares a statement the fifth time a connection runs it
        with engine.connect() as conn:  # each read ends in a rollback
            assert conn.execute(text("SELECT CAST(:x AS integer) + 1"), {"x": i}).scalar_one() == i + 1
    with engine.connect() as conn:
        assert _prepared(conn) >= 1
        assert conn.execute(text("SELECT CAST(:x AS integer) + 1"), {"x": 41}).scalar_one() == 42


def test_a_failed_transaction_still_rolls_back_and_the_connection_works(engine: Engine) -> None:
    for i in range(6):
        with engine.connect() as conn:
            conn.execute(text("SELECT CAST(:x AS integer) + 1"), {"x": i})
    with engine.connect() as conn:
        with pytest.raises(DBAPIError):
            conn.execute(text("SELECT 1 / 0"))
        conn.rollback()
        assert conn.execute(text("SELECT CAST(:x AS integer) + 1"), {"x": 1}).scalar_one() == 2
    with engine.connect() as conn:  # a write in a rolled-back transaction is gone
        conn.execute(text("CREATE TABLE scratch (n integer)"))
        conn.commit()
        conn.execute(text("INSERT INTO scratch VALUES (1)"))
        conn.rollback()
        assert conn.execute(text("SELECT count(*) FROM scratch")).scalar_one() == 0


def test_a_connection_whose_session_was_terminated_is_replaced_before_use(engine: Engine) -> None:
    with engine.connect() as conn:
        first = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    server: PgServer = require_postgres()
    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the server's goodbye reaches the pooled connection's socket
        with psycopg.connect(server.url, autocommit=True) as admin:
            if admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (first,)).fetchone() == (0,):
                break
        time.sleep(0.05)
    with engine.connect() as conn:
        second = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert second != first


def test_new_values_are_compressed_with_lz4(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE blobs (body text)"))
        conn.execute(text("INSERT INTO blobs VALUES (repeat('casepilot ', 10000))"))
        conn.commit()
        method = conn.execute(text("SELECT pg_column_compression(body) FROM blobs")).scalar_one()
    assert method == "lz4"
