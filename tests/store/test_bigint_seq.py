"""Sequence numbers are 64-bit on PostgreSQL (migration 0006, issue 15): a case's history may
pass 2,147,483,647 events. Upgraded on the real server from the schema before, with a case in
it; SQLite's INTEGER is 64-bit already and its schema is left as it was."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from alembic import command
from sqlalchemy import text

from casepilot.store import Store
from casepilot.store._migrate import _config, head_revision
from tests._postgres import PgServer, require_postgres, throwaway_database
from tests.store._store_helpers import advance, new_case

SEQ_COLUMNS = [("cases", "last_seq"), ("cases", "snapshot_seq"), ("history_events", "seq")]
BEYOND_32_BITS = 2**31 + 10


@pytest.fixture
def pg() -> Iterator[tuple[PgServer, str]]:
    server = require_postgres()  # a missing server fails the test, never skips it
    with throwaway_database(server, "casepilot_bigint") as name:
        yield server, name


def _types(server: PgServer, name: str) -> list[str]:
    with psycopg.connect(server.libpq_url(name)) as conn:
        rows = {(r[0], r[1]): r[2] for r in conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name IN ('seq', 'last_seq', 'snapshot_seq')")}
    return [rows[column] for column in SEQ_COLUMNS]


@pytest.mark.postgres
def test_upgrading_postgresql_makes_sequence_numbers_bigint(pg: tuple[PgServer, str]) -> None:
    server, name = pg
    url = server.sqlalchemy_url(name)
    with Store.from_url(url) as store:
        case = new_case(store)
        advance(store, case.id, 2)
        with store.engine.begin() as conn:
            command.downgrade(_config(conn), "0005_flat_steps")
    assert _types(server, name) == ["integer", "integer", "integer"]

    with Store.from_url(url, migrate=False) as store:  # as `casepilot db upgrade` opens it
        assert store.upgrade() == ("0005_flat_steps", head_revision())

    assert _types(server, name) == ["bigint", "bigint", "bigint"]
    with Store.from_url(url) as store:
        assert store.verify(case.id).ok  # the history survived the rewrite
        # a case past 2**31 events: the next one is written and read back with its number
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE cases SET last_seq = :n WHERE id = :id"), {"n": BEYOND_32_BITS, "id": case.id})
        current = store.case(case.id)
        with store.step(case.id, current.version) as step:
            event = step.append("plan", actor="agent", payload={"next": 1})
        assert event.seq == BEYOND_32_BITS + 1
        assert store.history(case.id, after_seq=BEYOND_32_BITS)[0].seq == BEYOND_32_BITS + 1
