"""The job queue's own log is pruned: rows already counted in its statistics, once old enough."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import psycopg

from casepilot.worker.housekeeping import PRUNE_LOCK, prune_queue_log
from casepilot.worker.schema import ensure_queue
from tests.worker.conftest import Workers, libpq


def _log_rows(conninfo: str, rows: list[tuple[str, bool]]) -> None:
    """Insert log rows: (age as an SQL interval, aggregated)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for age, aggregated in rows:
            conn.execute("INSERT INTO pgqueuer_log (created, job_id, status, priority, entrypoint, aggregated) "
                         "VALUES (now() - %s::interval, 1, 'successful', 0, 'casepilot.run_case', %s)",
                         (age, aggregated))


def _remaining(conninfo: str) -> list[tuple[bool, int]]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute("SELECT aggregated, extract(day FROM now() - created)::int FROM pgqueuer_log "
                            "ORDER BY created").fetchall()
    return [(bool(a), int(d)) for a, d in rows]


def test_old_counted_rows_go_and_the_rest_stays(pg_url: str) -> None:
    conninfo = libpq(pg_url)
    ensure_queue(conninfo)
    _log_rows(conninfo, [("30 days", True), ("10 days", True), ("10 days", False), ("2 days", True),
                         ("1 hour", True)])

    assert prune_queue_log(conninfo, timedelta(days=7)) == 2

    # Kept: the old row not yet counted in the statistics, and everything younger than a week.
    assert _remaining(conninfo) == [(False, 10), (True, 2), (True, 0)]
    assert prune_queue_log(conninfo, timedelta(days=7)) == 0


def test_one_worker_prunes_at_a_time(pg_url: str) -> None:
    conninfo = libpq(pg_url)
    ensure_queue(conninfo)
    _log_rows(conninfo, [("30 days", True)])
    with psycopg.connect(conninfo, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (PRUNE_LOCK,))  # another worker is pruning

        assert prune_queue_log(conninfo, timedelta(days=7)) is None
        assert len(_remaining(conninfo)) == 1
    assert prune_queue_log(conninfo, timedelta(days=7)) == 1


def test_many_rows_are_pruned_in_batches(pg_url: str) -> None:
    conninfo = libpq(pg_url)
    ensure_queue(conninfo)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("INSERT INTO pgqueuer_log (created, job_id, status, priority, entrypoint, aggregated) "
                     "SELECT now() - interval '20 days', g, 'successful', 0, 'casepilot.run_case', true "
                     "FROM generate_series(1, 12000) g")

    assert prune_queue_log(conninfo, timedelta(days=7)) == 12000
    assert _remaining(conninfo) == []


def test_a_running_worker_prunes_the_log(pg_url: str, tmp_path: Path) -> None:
    conninfo = libpq(pg_url)
    ensure_queue(conninfo)
    _log_rows(conninfo, [("3 days", True), ("1 hour", True)])
    workers = Workers(pg_url, tmp_path / "workers.log", "--queue-log-days", "1")
    workers.start(2)  # a supervisor with two workers: one of them prunes, the other finds it locked or done
    try:
        workers.wait_ready(2)
        deadline = time.monotonic() + 60
        while len(_remaining(conninfo)) != 1:
            assert time.monotonic() < deadline, workers.log.read_text()[-2000:]
            time.sleep(0.2)
    finally:
        assert workers.stop() == 0
    assert _remaining(conninfo) == [(True, 0)]
