"""The PostgreSQL store's connection pool is sized by settings (a worker raises it to what it needs)."""

from __future__ import annotations

import pytest

from casepilot.store import Store
from tests._postgres import require_postgres, throwaway_database


def test_the_pool_size_comes_from_the_settings_or_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    server = require_postgres()
    with throwaway_database(server, "casepilot_pool") as name:
        monkeypatch.setenv("CASEPILOT_DB_POOL_SIZE", "7")
        monkeypatch.setenv("CASEPILOT_DB_MAX_OVERFLOW", "3")
        store = Store.from_url(server.sqlalchemy_url(name))
        try:
            assert (store.engine.pool.size(), store.engine.pool._max_overflow) == (7, 3)  # type: ignore[attr-defined]
        finally:
            store.close()
        store = Store.from_url(server.sqlalchemy_url(name), pool_size=12)
        try:
            assert store.engine.pool.size() == 12  # type: ignore[attr-defined]
        finally:
            store.close()


def test_a_pool_size_means_nothing_to_sqlite(tmp_path: object) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path}/cases.db", pool_size=12)  # accepted, not passed to SQLite
    try:
        assert store.engine.dialect.name == "sqlite"
        assert list(store.definitions()) == []
    finally:
        store.close()


def test_a_bad_pool_size_is_refused_with_the_variable_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from casepilot.settings import SettingsError, load_settings

    monkeypatch.setenv("CASEPILOT_DB_POOL_SIZE", "0")
    with pytest.raises(SettingsError, match="CASEPILOT_DB_POOL_SIZE"):
        load_settings()
