"""Fixtures: one contract suite, run against SQLite and a real PostgreSQL server.

``store`` is parametrised over both backends. PostgreSQL databases are cheap copies of
a migrated template (``CREATE DATABASE … TEMPLATE``), SQLite files copies of a migrated
file, so every test starts from a fresh, migrated, empty store.

After each test, every case it created must verify and its state rebuilt from the
history must equal the stored state (tests that tamper on purpose use ``tampering``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from casepilot.store import Store
from tests._postgres import PgServer, PostgresUnavailable, postgres_server, throwaway_database

BACKENDS = ["sqlite", "postgresql"]
_TAMPERED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def pg_server() -> PgServer:
    try:
        return postgres_server()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL is required for the store contract tests: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> Iterator[str]:
    with throwaway_database(pg_server, "casepilot_tmpl") as name:
        Store.from_url(pg_server.sqlalchemy_url(name)).close()
        yield name


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
    with throwaway_database(server, template=request.getfixturevalue("pg_template")) as name:
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
