"""The definition's running model spend is spread over shards, so recording a model call for
one case does not wait for another case's step that is still open (PostgreSQL row locks);
the totals stay exact, and migration 0008 keeps what 0007's one-row totals held."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from decimal import Decimal

import psycopg
from alembic import command
from sqlalchemy import text

from casepilot.store import Store
from casepilot.store._cases import llm_spend_from_events
from casepilot.store._migrate import _config, head_revision
from casepilot.store._tables import SPEND_SHARDS, spend_shard
from tests._postgres import PgServer, throwaway_database
from tests.store._store_helpers import new_case


def _record_call(store: Store, case_id: str, cost: Decimal, tokens: int = 10) -> None:
    with store.step(case_id, store.case(case_id).version) as step:
        step.append("llm_call", actor="agent", payload={}, tokens=tokens, cost=cost)


def _cases_in_two_shards(store: Store) -> tuple[str, str, str]:
    """Three cases of "claims": the first two share a shard, the third is in another."""
    by_shard: dict[int, list[str]] = {}
    while True:
        case_id = new_case(store, "claims").id
        by_shard.setdefault(spend_shard(case_id), []).append(case_id)
        pair = next((ids for ids in by_shard.values() if len(ids) >= 2), None)
        if pair is not None and len(by_shard) >= 2:
            other = next(ids[0] for shard, ids in by_shard.items() if shard != spend_shard(pair[0]))
            return pair[0], pair[1], other


def test_many_cases_spread_over_shards_and_the_total_stays_exact(store: Store) -> None:
    ids = [new_case(store, "claims").id for _ in range(40)]
    for n, case_id in enumerate(ids):
        _record_call(store, case_id, Decimal("0.001") * (n + 1), tokens=n)
    with store.engine.connect() as conn:
        shards = conn.execute(text("SELECT COUNT(*) FROM definition_spend WHERE definition_key = 'claims'")).scalar()
    assert shards is not None and 1 < shards <= SPEND_SHARDS
    assert store.llm_spend("claims") == (780, Decimal("0.820"), 40) == llm_spend_from_events(store.engine, "claims")


def test_the_shard_of_a_case_is_the_same_in_every_process() -> None:
    # Every worker must add a case's calls to the same row: nothing may depend on the process's hash seed.
    ids = [f"case-{n}" for n in range(200)]
    code = f"from casepilot.store._tables import spend_shard; print([spend_shard(i) for i in {ids!r}])"
    seen = {subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
                           capture_output=True, text=True, check=True).stdout.strip() for seed in ("1", "2")}
    assert seen == {str([spend_shard(i) for i in ids])}
    assert {spend_shard(i) for i in ids} == set(range(SPEND_SHARDS))


def _waiting_for_a_lock(server: PgServer, database: str) -> bool:
    with psycopg.connect(server.libpq_url(database), autocommit=True) as conn:
        row = conn.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                           (database,)).fetchone()
    return bool(row and row[0])


def test_an_open_step_holds_up_only_the_cases_of_its_shard(pg_server: PgServer) -> None:
    # PostgreSQL only: SQLite has one write lock for the whole database, nothing to spread.
    with throwaway_database(pg_server, "casepilot_spend") as pg_database, \
            Store.from_url(pg_server.sqlalchemy_url(pg_database)) as store:
        first, same_shard, other_shard = _cases_in_two_shards(store)
        _record_call(store, first, Decimal("1"))  # the shard's row exists from here on
        # Another worker's step on ``first`` has recorded a model call and not yet committed.
        holder = psycopg.connect(pg_server.libpq_url(pg_database))
        holder.execute("UPDATE definition_spend SET calls = calls + 0 WHERE definition_key = 'claims' AND shard = %s",
                       (spend_shard(first),))
        try:
            done = threading.Event()
            thread = threading.Thread(target=lambda: (_record_call(store, other_shard, Decimal("2")), done.set()))
            thread.start()
            thread.join(60)  # it needs no lock the open step holds: it finishes at once
            assert done.is_set(), "a case of another shard waited for the open step"
            blocked = threading.Thread(target=_record_call, args=(store, same_shard, Decimal("3")))
            blocked.start()
            for _ in range(600):  # the same shard's row: it waits (seen by the server) until the step ends
                if _waiting_for_a_lock(pg_server, pg_database):
                    break
                blocked.join(0.1)
            assert blocked.is_alive() and _waiting_for_a_lock(pg_server, pg_database)
        finally:
            holder.rollback()
            holder.close()
        blocked.join(60)
        assert not blocked.is_alive()
        assert store.llm_spend("claims") == (30, Decimal("6"), 3) == llm_spend_from_events(store.engine, "claims")


def test_upgrading_0007_totals_into_shards(empty_url: str) -> None:
    cost = Decimal("0.25")
    with Store.from_url(empty_url) as store:
        ids = [new_case(store, "claims").id for _ in range(6)]
        for case_id in ids:
            _record_call(store, case_id, cost)
        with store.engine.begin() as conn:
            command.downgrade(_config(conn), "0007_inbox_claims")
            rows = conn.execute(text("SELECT tokens, cost_nano, calls FROM definition_spend")).all()
        assert [tuple(r) for r in rows] == [(60, 1_500_000_000, 6)]  # one row per definition before 0008
        assert store.upgrade() == ("0007_inbox_claims", head_revision())
        assert store.llm_spend("claims") == (60, Decimal("1.5"), 6) == llm_spend_from_events(store.engine, "claims")
        _record_call(store, ids[0], cost)  # and the steps add to the shards from here on
        assert store.llm_spend("claims") == (70, Decimal("1.75"), 7)
