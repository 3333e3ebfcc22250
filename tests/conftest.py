"""Fixtures every test folder may use."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._postgres import require_postgres, throwaway_database


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Child processes a test starts (workers it may SIGKILL): any still running at the end are
    killed — only those, never another test's."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


@pytest.fixture
def fresh_calls() -> Iterator[None]:
    """The recording tools' log (``tests.agent._support.CALLS``, one per process) empty when the
    test starts and again after it, so that a test counts only its own tool calls. A folder or module
    asks for it (``pytest.mark.usefixtures("fresh_calls")``); imported here rather than at the top,
    so that folders which record nothing do not load the agent's test support."""
    from tests.agent._support import CALLS

    CALLS.clear()
    yield
    CALLS.clear()


def _module_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A throwaway PostgreSQL database named after the test module (``casepilot_<module>_<hex>``),
    dropped when the fixture ends. A missing server fails the test, never skips it."""
    server = require_postgres()
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    with throwaway_database(server, f"casepilot_{module}") as name:
        yield server.sqlalchemy_url(name)


@pytest.fixture(scope="module")
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """One PostgreSQL database for the whole test module (creating one per test costs a second or
    more); each test works its own cases in it. A folder's conftest or a module may define its own."""
    yield from _module_database(request)


@pytest.fixture
def fresh_pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL database of the test's own, dropped after it: for tests whose workers or
    queue act on whatever the database holds, so another test's jobs must not be there."""
    yield from _module_database(request)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The test once on each backend: a new SQLite file, then the module's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cases.db'}"
    return str(request.getfixturevalue("pg_url"))
