"""Fixtures: one contract suite, run against SQLite and a real PostgreSQL server.

``store`` is parametrised over both backends. On PostgreSQL one migrated throwaway database
serves the session and is emptied (``TRUNCATE``) before each test — creating a database
per test costs a second or more; SQLite tests get a copy of a migrated file. Either way
every test starts from a migrated, empty store. Tests that change the schema itself ask
for ``empty_url`` (a database of their own) instead.

After each test, every case it created must verify and its state rebuilt from the
history must equal the stored state (tests that tamper on purpose use ``tampering``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from casepilot.store import Store
from casepilot.store._tables import metadata
from tests._postgres import PgServer, require_postgres, throwaway_database

BACKENDS = ["sqlite", "postgresql"]
_TAMPERED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def pg_server() -> PgServer:
    return require_postgres()


@pytest.fixture(scope="session")
def pg_database(pg_server: PgServer) -> Iterator[str]:
    with throwaway_database(pg_server, "casepilot_store") as name:
        Store.from_url(pg_server.sqlalchemy_url(name)).close()
        yield name


def _empty_pg(server: PgServer, name: str) -> None:
    tables = ", ".join(t for t in metadata.tables)
    with psycopg.connect(server.libpq_url(name), autocommit=True) as conn:
        # The owner may switch the append-only guard off to empty the test database; the store never does.
        conn.execute("ALTER TABLE history_events DISABLE TRIGGER history_events_no_truncate")
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        conn.execute("ALTER TABLE history_events ENABLE TRIGGER ALL")  # a tampering test may have disabled it


@pytest.fixture
def pg_store(pg_server: PgServer, pg_database: str) -> Iterator[Store]:
    """A store on the session's PostgreSQL test database, emptied: for tests of PostgreSQL's own
    statements (the event batch, the lease's one round trip)."""
    _empty_pg(pg_server, pg_database)
    store = Store.from_url(pg_server.sqlalchemy_url(pg_database))
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    Store.from_url(f"sqlite:///{path}").close()
    return path


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, migrated, empty database on each backend."""
    if request.param == "sqlite":
        target = tmp_path / "store.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name = request.getfixturevalue("pg_database")
    _empty_pg(server, name)
    yield server.sqlalchemy_url(name)


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own with nothing in it (not even the schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nested' / 'fresh.db'}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    with throwaway_database(server, "casepilot_empty") as name:
        yield server.sqlalchemy_url(name)


@pytest.fixture
def tampering(request: pytest.FixtureRequest) -> None:
    """Declare that this test corrupts histories on purpose (skips the end-of-test replay check)."""
    request.node.stash[_TAMPERED] = True


@pytest.fixture
def store(store_url: str, request: pytest.FixtureRequest) -> Iterator[Store]:
    s = Store.from_url(store_url)
    try:
        yield s
        if not request.node.stash.get(_TAMPERED, False):
            for case in s.cases(limit=1_000_000):
                report = s.verify(case.id)
                assert report.ok, report
                assert s.rebuild_state(case.id) == case.state, f"case {case.id}: replayed state differs"
    finally:
        s.close()
