"""Choosing LangGraph's checkpointer to match the store: SQLite beside a SQLite store,
PostgreSQL inside a PostgreSQL store, memory for an in-memory store.

The checkpoint holds only the loop's own state (DESIGN.md); the case lives in the store.
Every saver writes with ``KeepingSerializer``: the loop's state carries the case file, and
msgpack alone refuses values the store keeps (integers beyond 64 bits, deep nesting).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver

from casepilot.agent._checkpoint_serde import KeepingSerializer
from casepilot.store import Store

__all__ = ["SETUP_LOCK", "checkpointer_for"]

SETUP_LOCK = 0x6361_7365_7069_6C74  # "casepilt": the advisory lock key under which schema set-up runs


def _checkpoint_schema_current(pg: Any, saver: Any) -> bool:
    row = pg.execute("SELECT to_regclass('checkpoint_migrations') IS NOT NULL AS present").fetchone()
    if not row["present"]:
        return False
    latest = pg.execute("SELECT max(v) AS v FROM checkpoint_migrations").fetchone()["v"]
    return latest is not None and int(latest) >= len(saver.MIGRATIONS) - 1


def _setup_once(pg: Any, saver: Any, *, poll_seconds: float = 0.05) -> None:
    """Run LangGraph's schema set-up in one process at a time.

    Its migrations are not safe to run concurrently (two workers starting on a new database
    both create its tables: ``UniqueViolation``). A session advisory lock serialises them, but
    it must be *tried*, not waited for: a waiting ``pg_advisory_lock`` is an open transaction,
    and the migrations' ``CREATE INDEX CONCURRENTLY`` waits for every open transaction — a
    deadlock. So the others poll until the first one is done. A database whose checkpoint
    schema is already current is left alone: the service may run as a role without the right
    to create tables (LangGraph's set-up starts with ``CREATE TABLE IF NOT EXISTS``, which needs it).
    """
    if _checkpoint_schema_current(pg, saver):
        return
    while not pg.execute("SELECT pg_try_advisory_lock(%s) AS ok", (SETUP_LOCK,)).fetchone()["ok"]:
        time.sleep(poll_seconds)
    try:
        saver.setup()
    finally:
        pg.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK,))


def checkpointer_for(store: Store) -> tuple[BaseCheckpointSaver[Any], Any]:
    """A checkpointer for ``store`` and the connection to close with it (or ``None``)."""
    conninfo = store.postgres_conninfo
    if conninfo is not None:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg import Connection
        from psycopg.rows import dict_row

        # The loop's checkpoint does not wait for the disk (synchronous_commit off): the store's
        # history is what makes a case durable, and a checkpoint lost in a database crash only
        # means the next run starts at ``observe`` — which every crash already allows for.
        pg = Connection.connect(conninfo, autocommit=True, prepare_threshold=0, row_factory=dict_row,
                                options="-c synchronous_commit=off")
        pg_saver = PostgresSaver(pg, serde=KeepingSerializer())
        _setup_once(pg, pg_saver)
        return pg_saver, pg
    path = store.sqlite_path
    if path is None:
        return InMemorySaver(serde=KeepingSerializer()), None
    conn = sqlite3.connect(str(path.with_name(path.name + ".langgraph")), check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # as the store: WAL + NORMAL survives process crashes
    saver = SqliteSaver(conn, serde=KeepingSerializer())
    saver.setup()
    return saver, conn
