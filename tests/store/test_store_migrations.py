"""Alembic migrations: automatic on an empty database, explicit otherwise, matching the models."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from casepilot.errors import StoreError
from casepilot.store import Store
from casepilot.store._migrate import VERSION_TABLE, current_revision, head_revision
from casepilot.store._tables import metadata


def test_first_use_of_an_empty_database_migrates_it(empty_url: str) -> None:
    with Store.from_url(empty_url) as store:
        with store.engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            tables = set(inspect(conn).get_table_names())
        assert set(metadata.tables) <= tables
        assert store.upgrade() == (head_revision(), head_revision())


def test_the_migrated_schema_matches_the_models(store: Store) -> None:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "version_table": VERSION_TABLE})
        diffs = compare_metadata(ctx, metadata)
    assert diffs == []


def test_several_workers_starting_on_an_empty_database_at_once(empty_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def start() -> None:
        try:
            barrier.wait()
            Store.from_url(empty_url).close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_an_outdated_database_asks_for_db_upgrade(empty_url: str) -> None:
    with Store.from_url(empty_url) as store, store.engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0000_older'"))
    with pytest.raises(StoreError, match="run `casepilot db upgrade`"):
        Store.from_url(empty_url)


def test_tables_without_a_migration_record_are_refused(empty_url: str) -> None:
    with Store.from_url(empty_url) as store, store.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {VERSION_TABLE}"))
    with pytest.raises(StoreError, match="no migration record"):
        Store.from_url(empty_url)


def test_downgrade_and_upgrade_round_trip(empty_url: str) -> None:
    from alembic import command

    from casepilot.store._migrate import _config

    with Store.from_url(empty_url) as store:
        with store.engine.begin() as conn:
            command.downgrade(_config(conn), "base")
        with store.engine.connect() as conn:
            assert not set(metadata.tables) & set(inspect(conn).get_table_names())
        assert store.upgrade() == (None, head_revision())


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    with Store.from_url(f"sqlite:///{tmp_path / 'x.db'}") as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert store.backend == "sqlite"


@pytest.mark.parametrize("url", ["mysql://x/y", "not a url", "postgresql+asyncpg://h/db"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(StoreError):
        Store.from_url(url)
