"""Keeping the job queue's own log from growing without end.

pgqueuer writes a row to ``pgqueuer_log`` for every change of a job's status (queued, picked,
successful…) and folds them into ``pgqueuer_statistics`` per second, but never deletes them:
an insurer's thousands of cases a day leave millions of rows a year in a table nobody reads.
Workers prune the rows already folded into the statistics once they are ``keep_days`` old
(the statistics stay; the case histories, which are casepilot's record, are untouched). The
delete runs under an advisory lock, so of several workers due at once one does it and the
others skip, and in batches, so it never holds a long lock on a busy table.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg

__all__ = ["PRUNE_LOCK", "prune_queue_log"]

PRUNE_LOCK = 0x6361_7365_6C6F_6770  # "caselogp": one pruner at a time
_BATCH = 5_000


def prune_queue_log(conninfo: str, keep: timedelta) -> int | None:
    """Delete aggregated ``pgqueuer_log`` rows older than ``keep``; how many (None: another worker is at it).

    The transaction commits without waiting for the disk: a prune lost in a database crash
    is simply done again next time.
    """
    deleted = 0
    with psycopg.connect(conninfo, autocommit=True) as conn:
        locked = conn.execute("SELECT pg_try_advisory_lock(%s)", (PRUNE_LOCK,)).fetchone()
        if not locked or not locked[0]:
            return None
        try:
            while True:
                with conn.transaction():
                    conn.execute("SET LOCAL synchronous_commit TO OFF")
                    cursor: psycopg.Cursor[Any] = conn.execute(
                        "DELETE FROM pgqueuer_log WHERE id IN (SELECT id FROM pgqueuer_log "
                        "WHERE aggregated AND created < now() - %s LIMIT %s)", (keep, _BATCH))
                    deleted += cursor.rowcount
                if cursor.rowcount < _BATCH:
                    return deleted
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (PRUNE_LOCK,))
