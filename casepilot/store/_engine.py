"""Engines for SQLite and PostgreSQL with the settings the store relies on.

SQLite: WAL journal (readers never block the writer), foreign keys on, a busy
timeout, and write transactions opened with ``BEGIN IMMEDIATE`` so that two
workers cannot both read a case and then both write it (the second waits for the
write lock, then sees the new version and fails the compare-and-set).
PostgreSQL: psycopg 3, with ``_postgres``'s savings of the server's CPU (and its pre-ping,
for the pooled connections that may have broken).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from casepilot.errors import StoreError

__all__ = ["JOINED", "WRITE", "active_connection", "bound_to_step", "make_engine", "session_scope", "upsert", "write_connection"]

WRITE = "casepilot_write"
"""Execution option: open this connection's transaction for writing (SQLite ``BEGIN IMMEDIATE``)."""

JOINED = "casepilot_joined"
"""Execution option of a ``Connection`` built over a DBAPI connection whose transaction is already
open (``_step_txn.SqliteTransaction``): the "begin" event must not issue ``BEGIN`` again."""

SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for a ``sqlite:///…`` or ``postgresql+psycopg://…`` URL."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {url!r} ({exc})") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        kwargs.pop("pool_size", None)  # a pool size is PostgreSQL's (SQLite's connections are files)
        return _sqlite_engine(url, **kwargs)
    if backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        elif parsed.drivername != "postgresql+psycopg":
            raise StoreError(f"PostgreSQL is used through psycopg 3: write postgresql+psycopg://… (got {url!r})")
        from casepilot._extras import require

        require("postgres", "a PostgreSQL database")
        if "pool_size" not in kwargs or "max_overflow" not in kwargs:
            from casepilot.settings import load_settings

            settings = load_settings()
            kwargs.setdefault("pool_size", settings.db_pool_size)
            kwargs.setdefault("max_overflow", settings.db_max_overflow)
        from ._postgres import tune_postgres

        return tune_postgres(create_engine(parsed, **kwargs))
    raise StoreError(f"unsupported database {backend!r}: use sqlite:///path or postgresql+psycopg://…")


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    database = parsed.database
    if not database or database == ":memory:":
        # One shared connection: each new connection to :memory: would be another, empty database.
        kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    elif not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred only).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first: switching to WAL takes a lock that a concurrent opener may hold.
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            _switch_to_wal(cursor)
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get(JOINED):
            return
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE) else "BEGIN")

    return engine


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    """Put the database in WAL mode (persistent: later openers find it already set).

    Why the loop: switching takes an exclusive lock and SQLite does not always wait for it
    through the busy handler — several processes opening a new database at once get
    "database is locked" at once. They retry here until the busy timeout has passed.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            mode = cursor.execute("PRAGMA journal_mode").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def write_connection(engine: Engine) -> Connection:
    """A connection whose transaction takes the write lock up front (SQLite) — use as ``with … .begin()``."""
    return engine.connect().execution_options(**{WRITE: True})


def relax_durability(conn: Connection) -> None:
    """Let this transaction commit without waiting for the WAL to reach disk (PostgreSQL's
    ``synchronous_commit = off`` for the transaction; nothing changes on SQLite).

    Why: on PostgreSQL every commit waits for an fsync, and with several workers those waits
    were most of the time their database connections spent (``IO/WALSync``). Only writes whose
    loss in a database crash is harmless take this: a case lease (it expires anyway), a
    pseudonym stored before the step that refers to it. The WAL is one sequential log, so the
    next synchronous commit of any session — every step of a case is one — makes everything
    committed before it durable too: no step outlives the rows it relies on. The commit is
    visible to other sessions at once, as always.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


_steps = threading.local()


@contextmanager
def bound_to_step(engine: Engine, connection: Callable[[], Connection]) -> Iterator[None]:
    """Mark the step whose connection ``connection()`` gives as this thread's open step on
    ``engine`` (see ``session_scope``); the connection is made only if something joins the step."""
    active: dict[int, Callable[[], Connection]] = _steps.__dict__.setdefault("active", {})
    previous = active.get(id(engine))
    active[id(engine)] = connection
    try:
        yield
    finally:
        if previous is None:
            del active[id(engine)]
        else:
            active[id(engine)] = previous


def active_connection(engine: Engine) -> Connection | None:
    """The connection of a step open on ``engine`` in this thread, if any."""
    active: dict[int, Callable[[], Connection]] = _steps.__dict__.get("active", {})
    connection = active.get(id(engine))
    return None if connection is None else connection()


@contextmanager
def session_scope(engine: Engine, *, write: bool, durable: bool = True) -> Iterator[Session]:
    """A session that joins this thread's open step on ``engine``, or has a transaction of its own.

    Why: vault writes made while a step is open must join the step — on SQLite a second
    writer would wait on the step's own write lock — and they then commit (or roll back)
    with it. ``durable=False``: a transaction of its own commits without waiting for the disk
    (``relax_durability``: only for writes a later step makes durable).
    """
    conn = active_connection(engine)
    if conn is not None:
        with Session(bind=conn) as session:
            yield session
            session.flush()
    elif write:
        with write_connection(engine) as own, own.begin(), Session(bind=own) as session:
            if not durable:
                relax_durability(own)
            yield session
            session.flush()
    else:
        with Session(engine) as session:
            yield session


def upsert(
    session: Session,
    table: Table,
    values: Mapping[str, Any],
    *,
    keys: Sequence[str],
    update: Sequence[str] = (),
) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE/NOTHING — race-free on both backends."""
    dialect = pg_dialect if session.get_bind().dialect.name == "postgresql" else sqlite_dialect
    statement = dialect.insert(table).values(**values)
    if update:
        statement = statement.on_conflict_do_update(
            index_elements=list(keys), set_={c: statement.excluded[c] for c in update}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    session.connection().execute(statement)
