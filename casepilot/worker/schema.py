"""Installing the queue's tables once, under a lock, however many workers start at the same time.

pgqueuer's install script is not safe to run twice at once (two workers on a new database
both create its enum type and tables: one of them fails), and not at all once installed. So
it runs under a PostgreSQL advisory lock, after checking whether the queue is there already;
a database whose queue exists is left alone, so the service may run as a role that cannot
create tables. Same approach as LangGraph's checkpoint set-up (``agent.checkpointing``).
"""

from __future__ import annotations

from typing import Any

import psycopg
from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment

__all__ = ["QUEUE_LOCK", "ensure_queue", "queue_installed"]

QUEUE_LOCK = 0x6361_7365_7071_7565  # "caseque": the advisory lock key of the queue's set-up


def _installed(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT to_regclass('pgqueuer') IS NOT NULL").fetchone()
    return bool(row and row[0])


def queue_installed(conninfo: str) -> bool:
    """Whether the database at ``conninfo`` has the queue's tables, i.e. workers serve it (a worker and
    ``casepilot serve`` with workers install them; nothing else does)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return _installed(conn)


def ensure_queue(conninfo: str) -> bool:
    """Install pgqueuer's schema into the database at ``conninfo`` unless present; True if it installed it."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if _installed(conn):
            return False
        # The install script has no CREATE INDEX CONCURRENTLY: a waiting lock cannot deadlock it.
        conn.execute("SELECT pg_advisory_lock(%s)", (QUEUE_LOCK,))
        try:
            if _installed(conn):
                return False
            with conn.transaction():
                conn.execute(QueryBuilderEnvironment().build_install_query().encode())
            return True
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (QUEUE_LOCK,))
