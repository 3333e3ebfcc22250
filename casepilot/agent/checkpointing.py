"""Choosing LangGraph's checkpointer to match the store: SQLite beside a SQLite store,
PostgreSQL inside a PostgreSQL store, memory for an in-memory store.

The checkpoint holds only the loop's own state (DESIGN.md); the case lives in the store.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver

from casepilot.store import Store

__all__ = ["checkpointer_for"]


def checkpointer_for(store: Store) -> tuple[BaseCheckpointSaver[Any], Any]:
    """A checkpointer for ``store`` and the connection to close with it (or ``None``)."""
    conninfo = store.postgres_conninfo
    if conninfo is not None:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg import Connection
        from psycopg.rows import dict_row

        pg = Connection.connect(conninfo, autocommit=True, prepare_threshold=0, row_factory=dict_row)
        pg_saver = PostgresSaver(pg)
        pg_saver.setup()
        return pg_saver, pg
    path = store.sqlite_path
    if path is None:
        return InMemorySaver(), None
    conn = sqlite3.connect(str(path.with_name(path.name + ".langgraph")), check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # as the store: WAL + NORMAL survives process crashes
    saver = SqliteSaver(conn)
    saver.setup()
    return saver, conn
