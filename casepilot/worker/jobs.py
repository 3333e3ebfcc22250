"""The worker's jobs, and writing them inside the store's own transaction.

A job becomes due through a state change — a case started, a person decided, a timer began
counting, a checkpoint was opened with a deadline, a tool failed. It is written by the same
transaction as that change (``Step.enqueue``), so a crash loses both or neither: no case
waits for a job that was never written, no job runs for a change that never committed.

The queue is pgqueuer's table; its own ``enqueue`` query runs on the step's psycopg
connection (pgqueuer's synchronous driver insists on autocommit, so ``_InTransaction``
gives its query builder the step's connection instead). Every job carries a dedupe key:
a second copy of a job that is still queued or running is skipped, never an error that
would roll the step back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import psycopg
from pgqueuer.queries import SyncQueries
from sqlalchemy import Connection, Engine, text

from casepilot.store._engine import write_connection

__all__ = [
    "ENTRYPOINTS",
    "EXPIRE_CHECKPOINT",
    "FIRE_TIMER",
    "RETRY_TOOL",
    "RUN_CASE",
    "Job",
    "enqueue",
    "expire_checkpoint",
    "fire_timer",
    "retry_tool",
    "run_case",
    "runs_in_flight",
    "write_jobs",
]

RUN_CASE = "casepilot.run_case"
"""Work the case until it finishes, waits, or ``max_steps`` (started, decided, handed back)."""
FIRE_TIMER = "casepilot.fire_timer"
"""A CMMN timer event listener is due: move the case clock, then work the case."""
EXPIRE_CHECKPOINT = "casepilot.expire_checkpoint"
"""A checkpoint's deadline passed: resolve it by its policy's default, then work the case."""
RETRY_TOOL = "casepilot.retry_tool"
"""A tool failed: after a backoff, offer its task again, then work the case."""
ENTRYPOINTS = (RUN_CASE, FIRE_TIMER, EXPIRE_CHECKPOINT, RETRY_TOOL)

_RUN_PREFIX = "run:"


@dataclass(frozen=True, slots=True)
class Job:
    """One job for one case; ``dedupe_key`` makes enqueueing it twice a no-op while it is pending."""

    entrypoint: str
    case_id: str
    dedupe_key: str
    delay: timedelta = timedelta(0)
    data: Mapping[str, Any] = field(default_factory=dict)
    priority: int = 0

    def payload(self) -> bytes:
        return json.dumps({"case_id": self.case_id, **self.data}, sort_keys=True).encode("utf-8")

    def write(self, conn: Connection) -> None:
        """Write the job on ``conn``, inside its transaction (what ``Step.enqueue`` calls at commit)."""
        write_jobs(conn, [self])


def read_payload(raw: bytes | None) -> dict[str, Any]:
    """A job's payload as written by ``Job.payload`` (a job without a case id is refused)."""
    data = json.loads(raw or b"{}")
    if not isinstance(data, dict) or not isinstance(data.get("case_id"), str):
        raise ValueError(f"not a casepilot job payload: {raw!r}")
    return cast("dict[str, Any]", data)


def run_case(case_id: str, *, key: str, max_steps: int = 50, delay: timedelta = timedelta(0)) -> Job:
    """Work ``case_id``; ``key`` names the change that made the run due (e.g. the case's new version)."""
    return Job(RUN_CASE, case_id, f"{_RUN_PREFIX}{case_id}:{key}", delay, {"max_steps": max_steps})


def fire_timer(case_id: str, due: datetime, *, now: datetime) -> Job:
    return Job(FIRE_TIMER, case_id, f"timer:{case_id}:{due.isoformat()}", _until(due, now),
               {"due": due.isoformat()})


def expire_checkpoint(case_id: str, task_id: str, expires_at: datetime, *, now: datetime) -> Job:
    return Job(EXPIRE_CHECKPOINT, case_id, f"expire:{task_id}", _until(expires_at, now), {"task_id": task_id})


def retry_tool(case_id: str, option_id: str, tool: str, *, attempt: int, delay: timedelta) -> Job:
    return Job(RETRY_TOOL, case_id, f"retry:{case_id}:{option_id}:{attempt}", delay,
               {"option_id": option_id, "tool": tool, "attempt": attempt})


def _until(moment: datetime, now: datetime) -> timedelta:
    return max(moment - now, timedelta(0))


class _InTransaction:
    """pgqueuer's ``SyncDriver`` on a connection that is inside the caller's transaction."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._connection = connection

    def fetch(self, query: str, *args: object) -> list[dict[str, object]]:
        from psycopg.rows import dict_row

        cursor = psycopg.RawCursor(self._connection, row_factory=dict_row)
        cursor.execute(query, args or None)
        return cursor.fetchall()


def write_jobs(conn: Connection, jobs: Sequence[Job]) -> None:
    """Enqueue ``jobs`` on ``conn`` (a PostgreSQL connection), in its current transaction."""
    if not jobs:
        return
    raw = conn.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError("the worker queue needs a PostgreSQL store (postgresql+psycopg://…); "
                        "on SQLite cases are worked in process, without jobs")
    SyncQueries(_InTransaction(raw)).enqueue(
        [j.entrypoint for j in jobs], [j.payload() for j in jobs], [j.priority for j in jobs],
        [j.delay for j in jobs], [j.dedupe_key for j in jobs], on_conflict="skip")


def enqueue(engine: Engine, jobs: Sequence[Job]) -> None:
    """Enqueue ``jobs`` in a transaction of their own (a request to run, a handed-back case)."""
    with write_connection(engine) as conn, conn.begin():
        write_jobs(conn, jobs)


_IN_FLIGHT = text(
    "SELECT count(*) FROM pgqueuer WHERE dedupe_key LIKE :prefix AND status IN ('queued', 'picked') "
    "AND (status = 'picked' OR execute_after <= now())")


def runs_in_flight(engine: Engine, case_id: str) -> int:
    """How many runs of ``case_id`` are queued (due now) or being worked: 0 once the case has stopped."""
    with engine.connect() as conn:
        return int(conn.execute(_IN_FLIGHT, {"prefix": f"{_RUN_PREFIX}{case_id}:%"}).scalar_one())
