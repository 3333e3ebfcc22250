"""A worker whose every job slot is taken asks the queue nothing, and fills a freed slot at once.

On a real PostgreSQL database with pgqueuer's schema: a queue manager with two slots works jobs
that block until the test lets them go. While both run, other jobs are queued (each notifies
every listening worker) and more than a second passes (pgqueuer's loop looks again every 0.1 s
while eligible work waits, ``SlotAwareQueueManager`` at most every second): the slot-aware
manager makes no dequeue and no count of eligible work in that time — pgqueuer's own manager, in
the same scenario, makes many (the contrast shows the test can fail). A job let go frees its slot
and the next queued job starts; every job is worked once.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from pgqueuer import AsyncpgDriver, Queries, QueueManager
from pgqueuer.models import Job

from casepilot.worker.schema import ensure_queue
from casepilot.worker.slots import SlotAwareQueueManager
from tests._postgres import require_postgres, throwaway_database

SLOTS = 2


class Counted:
    """Counts the calls of one of ``Queries``' methods, and makes them (the real statement runs)."""

    def __init__(self, method: Callable[..., Awaitable[Any]]) -> None:
        self.method = method
        self.calls = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return await self.method(*args, **kwargs)


async def scenario(conninfo: str, manager: type[QueueManager]) -> dict[str, int]:
    """Work 6 blocking jobs with 2 slots; return the queue statements made while both slots were taken."""
    conn = await asyncpg.connect(conninfo)
    queries = Queries(AsyncpgDriver(conn))
    qm = manager(queries)
    dequeue, eligible = Counted(queries.dequeue), Counted(queries.eligible_queued_work)
    queries.dequeue, queries.eligible_queued_work = dequeue, eligible  # type: ignore[method-assign]
    started: list[int] = []
    release: dict[int, asyncio.Event] = {}

    @qm.entrypoint("blocking")
    async def blocking(job: Job) -> None:
        number = int((job.payload or b"0").decode())
        started.append(number)
        release.setdefault(number, asyncio.Event())
        try:
            await release[number].wait()
        finally:
            if isinstance(qm, SlotAwareQueueManager):  # as casepilot's worker does at a job's end
                qm.job_ended(job.id)

    async def until(check: Callable[[], bool], what: str) -> None:
        for _ in range(400):
            if check():
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"{what} did not happen within 10 s (started: {started})")

    try:
        for number in range(3):
            await queries.enqueue("blocking", str(number).encode())
        loop = asyncio.create_task(qm.run(batch_size=1, max_concurrent_tasks=SLOTS,
                                          dequeue_timeout=timedelta(seconds=5)))
        await until(lambda: len(started) == SLOTS, "two jobs running")
        await asyncio.sleep(0.3)  # the loop settles after filling the slots
        before = {"dequeue": dequeue.calls, "eligible": eligible.calls}
        for number in range(3, 6):  # each enqueue notifies the loop
            await queries.enqueue("blocking", str(number).encode())
        await asyncio.sleep(1.5)
        assert len(started) == SLOTS, f"a job started although both slots were taken: {started}"
        while_full = {"dequeue": dequeue.calls - before["dequeue"], "eligible": eligible.calls - before["eligible"]}
        release.setdefault(started[0], asyncio.Event()).set()
        await until(lambda: len(started) == SLOTS + 1, "the freed slot taken by the next job")
        for number in range(6):
            release.setdefault(number, asyncio.Event()).set()
        await until(lambda: len(started) == 6, "every job worked")
        assert sorted(started) == list(range(6)), started
        left = await conn.fetchval("SELECT count(*) FROM pgqueuer WHERE status IN ('queued', 'picked')")
        for _ in range(200):  # the last ends are written by pgqueuer's buffer
            if not left:
                break
            await asyncio.sleep(0.05)
            left = await conn.fetchval("SELECT count(*) FROM pgqueuer WHERE status IN ('queued', 'picked')")
        assert left == 0
        qm.shutdown.set()
        await asyncio.wait_for(loop, 30)
        return while_full
    finally:
        for event in release.values():
            event.set()
        await conn.close()


@pytest.fixture
def queue_db() -> Any:
    server = require_postgres()
    with throwaway_database(server, "casepilot_slots") as name:
        conninfo = server.libpq_url(name)
        ensure_queue(conninfo)
        yield conninfo


def test_no_queue_statements_while_every_slot_is_taken(queue_db: str) -> None:
    while_full = asyncio.run(scenario(queue_db, SlotAwareQueueManager))
    assert while_full == {"dequeue": 0, "eligible": 0}


def test_pgqueuers_own_manager_asks_while_full(queue_db: str) -> None:
    """The contrast: what the slot-aware manager saves (and why the test above can fail)."""
    while_full = asyncio.run(scenario(queue_db, QueueManager))
    assert while_full["dequeue"] >= 5 and while_full["eligible"] >= 5, while_full


def test_the_overridden_methods_keep_their_shape() -> None:
    """``SlotAwareQueueManager`` overrides pgqueuer's methods, one private: an upgrade that changes them fails here."""
    expected = {
        "fetch_jobs": ["self", "batch_size", "global_concurrency_limit", "heartbeat_timeout"],
        "_effective_dequeue_timeout": ["self", "dequeue_timeout"],
        "forget_job": ["self", "job_id", "context", "task"],
    }
    for name, parameters in expected.items():
        assert list(inspect.signature(getattr(QueueManager, name)).parameters) == parameters, name
    assert "job_context" in {field.name for field in QueueManager.__dataclass_fields__.values()}
