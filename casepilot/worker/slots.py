"""pgqueuer's queue manager, minus the queries it makes while every job slot of the worker is taken.

Why: pgqueuer's loop wakes on every change to the queue table by anyone — its trigger notifies
once per statement: each job queued, picked, heartbeat and finished, by any worker — and every
0.1 s while eligible work waits. Each wake costs a dequeue statement and a count of the eligible
jobs, even when this worker has no free slot and could take nothing: on one database, with the
straight-through claim of ``bench/load.py``, 2.8 / 3.8 / 5.9 dequeues and 1.9 / 2.9 / 5.4 counts
per claim with 1 / 2 / 4 worker processes, where one dequeue is needed — work for PostgreSQL that
grows with the number of workers, the one resource they all share.

While every slot is taken, :class:`SlotAwareQueueManager` skips both and waits for the next
wake. A slot counts as free from the moment its job's own code has ended (:meth:`job_ended`,
called by the worker's job function as it returns or raises) — before pgqueuer writes that end
to the queue table, the write whose notification wakes the loop to fill the slot. (pgqueuer's own
count, its jobs' contexts, frees the slot only when the job's task is done, which may come after
that notification.) A wait of at most :data:`FULL_WAIT` bounds the time between looks should a
wake be missed. What is dequeued, and when a worker with a free slot asks, is unchanged —
including taking over the jobs of a worker that died (the dequeue query does that), which a
worker without a free slot could not do anyway; the dequeue query still enforces the limit.

This overrides three methods of ``pgqueuer.QueueManager``, one of them private (``pgqueuer>=1.6,<2``);
``tests/worker/test_slots.py`` fails if any of them changes shape.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import timedelta

from pgqueuer import QueueManager
from pgqueuer.models import Context, Job
from pgqueuer.ports import RepositoryPort
from pgqueuer.types import JobId

__all__ = ["FULL_WAIT", "SlotAwareQueueManager"]

FULL_WAIT = timedelta(seconds=1)
"""The longest a worker with every slot taken waits before looking again without a wake."""


class SlotAwareQueueManager(QueueManager):
    """A ``QueueManager`` that asks the queue nothing while its ``max_concurrent_tasks`` jobs run."""

    def __init__(self, queries: RepositoryPort) -> None:
        super().__init__(queries)
        self._slots: int | None = None
        """``max_concurrent_tasks`` of the running loop (known once it first asks for jobs)."""
        self._ended: set[JobId] = set()
        """Jobs whose own code has ended and whose task pgqueuer has not yet forgotten."""

    def job_ended(self, job_id: JobId) -> None:
        """The job's own code has ended: its slot is free, though pgqueuer has yet to record the end."""
        self._ended.add(job_id)

    def forget_job(self, job_id: JobId, context: Context, task: asyncio.Task[None]) -> None:
        super().forget_job(job_id, context, task)
        if job_id not in self.job_context:  # (a job handed back may run here again already)
            self._ended.discard(job_id)

    def every_slot_taken(self) -> bool:
        """Whether this worker runs as many jobs as it may (``max_concurrent_tasks`` of ``run``)."""
        if self._slots is None:
            return False
        return sum(1 for job_id in self.job_context if job_id not in self._ended) >= self._slots

    async def fetch_jobs(self, batch_size: int, global_concurrency_limit: int | None,
                         heartbeat_timeout: timedelta) -> AsyncGenerator[Job, None]:
        self._slots = global_concurrency_limit
        if self.every_slot_taken():
            return
        async with aclosing(super().fetch_jobs(batch_size, global_concurrency_limit, heartbeat_timeout)) as jobs:
            async for job in jobs:
                yield job  # the loop dispatches it (and takes its slot) before asking for the next
                if self.every_slot_taken():
                    return

    async def _effective_dequeue_timeout(self, dequeue_timeout: timedelta) -> timedelta:
        if self.every_slot_taken():
            return min(dequeue_timeout, FULL_WAIT)
        return await super()._effective_dequeue_timeout(dequeue_timeout)
