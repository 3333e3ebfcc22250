"""A fresh PostgreSQL database per test of the worker, and worker processes started as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from casepilot.store import Store
from tests._postgres import require_postgres, throwaway_database
from tests.worker import _tools

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new database (dropped afterwards) with the ``tool_runs`` table of ``_tools``."""
    server = require_postgres()
    with throwaway_database(server, "casepilot_worker") as name:
        with psycopg.connect(server.libpq_url(name), autocommit=True) as conn:
            conn.execute(_tools.TABLE)
        yield server.sqlalchemy_url(name)


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    """A store on the test's database (the one its workers and service work on), closed after it."""
    with Store.from_url(pg_url) as opened:
        yield opened


@pytest.fixture
def base(pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """The base URL of ``casepilot serve`` in queue mode with the counting claims bundle deployed
    (``_queued_service.queued_service``): the server of the tests proving it runs no tool."""
    # Imported here: _queued_service imports this conftest (libpq), so it cannot be imported above.
    from tests.worker._queued_service import queued_service

    with queued_service(pg_url, monkeypatch, tmp_path / "claims") as url:
        yield url


def wait_until(check: Callable[[], bool], message: str, timeout: float = 120.0, every: float = 0.2) -> None:
    """Poll ``check`` until it holds; fail with ``message`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, message
        time.sleep(every)


def libpq(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


class Workers:
    """``python -m casepilot.worker --processes N`` on one database: a supervisor and its workers."""

    def __init__(self, url: str, log: Path, *options: str, delay: float = 0.0) -> None:
        self.url = url
        self.log = log
        self.options = options
        self.env = {**os.environ, _tools.ENV_URL: libpq(url), _tools.ENV_DELAY: str(delay),
                    "PYTHONPATH": str(ROOT)}
        self.supervisor: subprocess.Popen[bytes] | None = None

    def start(self, processes: int) -> None:
        with self.log.open("ab") as out:
            self.supervisor = subprocess.Popen(
                [sys.executable, "-m", "casepilot.worker", "--db", self.url, "--tools", "tests.worker._tools:registry",
                 "--processes", str(processes), *self.options],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def children(self) -> list[int]:
        """The worker processes alive now (the supervisor's children)."""
        assert self.supervisor is not None
        path = Path(f"/proc/{self.supervisor.pid}/task/{self.supervisor.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except FileNotFoundError:
            return []

    def ready(self) -> list[int]:
        """Workers that said they take jobs."""
        text = self.log.read_text(errors="replace")
        return [pid for pid in self.children() if f"casepilot worker ready (pid {pid})" in text]

    def wait_ready(self, count: int, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.ready()) < count:
            assert self.supervisor is not None and self.supervisor.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"workers not ready after {timeout:g} s:\n{self.log.read_text()[-3000:]}"
            time.sleep(0.2)

    def stop(self, timeout: float = 90.0) -> int:
        """SIGTERM the supervisor (it passes it on); its exit code."""
        assert self.supervisor is not None
        if self.supervisor.poll() is None:
            self.supervisor.send_signal(signal.SIGTERM)
        try:
            return self.supervisor.wait(timeout)
        except subprocess.TimeoutExpired:
            for pid in self.children():
                os.kill(pid, signal.SIGKILL)
            self.supervisor.kill()
            self.supervisor.wait()
            raise
