"""A worker process: takes jobs from the queue and works each case under its lease.

Any number of these run against one PostgreSQL database, on any number of machines: the
queue hands each job to one worker (pgqueuer's ``FOR UPDATE SKIP LOCKED``), the case's lease
keeps a second worker off a case whatever job brought it there, and the store's version
check stays the last line of defence.

When a worker dies (SIGKILL, a lost machine), its job's heartbeat stops and another worker
takes the job after ``heartbeat_timeout``; the case's lease expires after ``lease_ttl``, and
the loop's own recovery (``agent._recovery``) hands a tool call that may have run to a
person instead of repeating it. On SIGTERM a worker stops taking jobs, finishes the node in
flight, stops at the next point where nothing is half done, gives the lease back and hands
the job back to the queue for another worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from casepilot.agent.orchestrator import Orchestrator
from casepilot.errors import CaseBusy, ConcurrencyConflict, NotFound
from casepilot.store import Store
from casepilot.worker import jobs, metrics
from casepilot.worker.housekeeping import prune_queue_log
from casepilot.worker.schedule import JobScheduler, next_timer
from casepilot.worker.schema import ensure_queue

__all__ = ["HandedBack", "Worker", "WorkerSettings"]

log = logging.getLogger("casepilot.worker")

_SAFE_STOPS = frozenset({"observe", "plan", "record"})
"""Nodes after which a stopping worker may let go of a case: nothing is half done there
(after ``govern`` a tool call is recorded as started and ``act`` must follow)."""


class HandedBack(Exception):
    """The worker let go of the case before its run ended; the job goes back to the queue."""

    def __init__(self, reason: str, delay: timedelta = timedelta(0)) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """How a worker process works (``casepilot worker``'s options)."""

    concurrency: int = 2
    """Jobs this process works at once (threads; a case is CPU-bound Python, so 1–2 per core)."""
    lease_ttl: float = 30.0
    """Seconds a dead worker's case stays leased before another worker may take it."""
    heartbeat_timeout: float = 30.0
    """Seconds without a heartbeat after which a running job counts as abandoned and is re-picked."""
    max_steps: int = 50
    """Steps per run before the job re-enqueues the case (so long cases share the workers fairly)."""
    busy_retry: float = 1.0
    """Seconds before a job whose case another worker holds is tried again."""
    stats_path: str | None = None
    """Append one line per job here: entrypoint, pick-up latency and run time in ms (for benches)."""
    queue_log_days: float = 7.0
    """Days the queue's own per-job log rows are kept once folded into its statistics
    (``housekeeping.prune_queue_log``; the case histories are not touched)."""
    prune_every: float = 3600.0
    """Seconds between two prunings of the queue's log (one worker at a time does it)."""


@dataclass
class Worker:
    """Works jobs for one orchestrator; ``handle`` is the whole job logic (called in a thread)."""

    orch: Orchestrator
    settings: WorkerSettings = field(default_factory=WorkerSettings)
    stopping: threading.Event = field(default_factory=threading.Event)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    # -- one job ---------------------------------------------------------------------------------

    def handle(self, entrypoint: str, payload: dict[str, Any]) -> str:
        """Work one job; returns the case's run outcome reason (``HandedBack`` to requeue it)."""
        case_id = str(payload["case_id"])
        if self.stopping.is_set():
            raise HandedBack("the worker is stopping")
        max_steps = int(payload.get("max_steps") or self.settings.max_steps)
        try:
            with self.orch.leases.hold(case_id):
                if entrypoint == jobs.FIRE_TIMER:
                    self._tick(case_id)
                elif entrypoint == jobs.RETRY_TOOL:
                    self._offer_again(case_id, str(payload["option_id"]), str(payload["tool"]),
                                      int(payload.get("attempt") or 2))
                reason = self._work(case_id, max_steps)
        except CaseBusy as exc:
            raise HandedBack(f"case {case_id} is busy", timedelta(seconds=self.settings.busy_retry)) from exc
        except NotFound:
            log.warning("job %s for case %s: the case no longer exists", entrypoint, case_id)
            return "gone"
        if reason == "max_steps":
            # Long cases go back to the queue instead of holding a worker: fair to the others.
            version = self.orch.store.case_version(case_id)
            jobs.enqueue(self.orch.store.engine, [jobs.run_case(case_id, key=f"v{version}:more")])
        return reason

    def _tick(self, case_id: str) -> None:
        """Move the case clock if a timer is due (a step does: due timers occur in it)."""
        loaded = self.orch.runtime.load(case_id)
        due = next_timer(loaded.engine) if loaded.engine is not None and not loaded.engine.finished else None
        if due is not None and due <= self.clock():
            with self.orch.runtime.step(case_id, loaded) as (step, fresh):
                self.orch.runtime.sync_inbox(step, fresh)  # a human task the timer started goes to the inbox

    def _offer_again(self, case_id: str, option_id: str, tool: str, attempt: int) -> None:
        loaded = self.orch.runtime.load(case_id)
        if option_id not in loaded.facts.rejected:
            return
        with self.orch.runtime.step(case_id, loaded) as (step, fresh):
            fresh.facts.rejected.remove(option_id)
            step.append("plan", actor="system", payload={
                "label": f"retry {tool}", "rationale": f"attempt {attempt} after the tool failed",
                "option_id": option_id, "tool": tool, "attempt": attempt})

    def _work(self, case_id: str, max_steps: int) -> str:
        """Run the case; a stopping worker lets go at the first safe point (``HandedBack``)."""
        loaded = self.orch.runtime.load(case_id)
        if loaded.engine is not None and loaded.engine.state == "suspended":
            # A person suspended it after the job was queued: nothing to do until they resume it
            # (resuming queues a new run), and no reason to fail the job.
            log.info("job for case %s: the case is suspended; resuming it queues a new run", case_id)
            return "suspended"
        # A person's confirmed chat proposal goes first: ``Orchestrator.run`` / ``stream`` carry it out.
        if loaded.facts.children:
            return self.orch.run(case_id, max_steps=max_steps).reason  # child cases: the full run
        reason = "waiting_for_events"
        for update in self.orch.stream(case_id, max_steps=max_steps):
            node, values = update["node"], update["update"]
            if node == "__interrupt__":
                reason = "waiting_for_people"
            elif isinstance(values, dict) and values.get("stop"):
                reason = str(values["stop"])
            if self.stopping.is_set() and node in _SAFE_STOPS:
                raise HandedBack("the worker is stopping")
        return reason

    # -- the process -----------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load what the first job would (the PII models, the deployed bundles) before taking any,
        so that a worker that says it is ready works at full speed."""
        privacy = self.orch.runtime.privacy
        if privacy is not None:
            privacy.pseudonymizer.detector.analyze("Warm-up: Jane Doe, jane@example.com, +44 20 7946 0000.")
        latest: dict[str, int] = {}
        for definition in self.orch.store.definitions():
            latest[definition.key] = max(latest.get(definition.key, 0), definition.version)
        for key, version in latest.items():
            self.orch.runtime.bundle(key, version)

    def _record(self, entrypoint: str, picked_after: float, took: float) -> None:
        if self.settings.stats_path is None:
            return
        line = f"{entrypoint} {picked_after * 1000:.1f} {took * 1000:.1f}\n".encode()
        fd = os.open(self.settings.stats_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    async def serve(self) -> None:
        """Take jobs until SIGTERM/SIGINT (or ``stopping``), then finish or hand back those in flight."""
        import asyncpg  # type: ignore[import-untyped]  # (no stubs; only connect() is used)
        from pgqueuer import AsyncpgDriver, Queries, RetryRequested
        from pgqueuer.models import Job as QueuedJob

        from .slots import SlotAwareQueueManager

        conninfo = self.orch.store.postgres_conninfo
        if conninfo is None:
            raise ValueError("casepilot worker needs a PostgreSQL database (postgresql+psycopg://…); "
                             "on SQLite, `casepilot serve` and `casepilot run` work cases in process")
        ensure_queue(conninfo)
        # asyncpg, not psycopg, for the queue's own connection: it listens for new jobs while it
        # queries (psycopg's async LISTEN holds the connection up to a second at a time, and
        # every pick-up waited for it).
        # The queue's own writes (taking a job, finishing it, its log) do not wait for the disk:
        # jobs are at-least-once by design — one whose end is lost in a database crash runs again,
        # and every job is safe to run again (a case step is recorded durably by the store).
        conn = await asyncpg.connect(conninfo, server_settings={"synchronous_commit": "off"})
        qm = SlotAwareQueueManager(Queries(AsyncpgDriver(conn)))
        loop = asyncio.get_running_loop()

        def stop() -> None:
            self.stopping.set()
            qm.shutdown.set()

        if threading.current_thread() is threading.main_thread():  # elsewhere: stop with ``stopping``
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop)

        async def watch() -> None:  # ``stopping`` set from another thread (tests, embedding code)
            while not self.stopping.is_set():
                await asyncio.sleep(0.2)
            qm.shutdown.set()

        async def prune() -> None:  # the queue's log would grow without end (``housekeeping``)
            keep = timedelta(days=self.settings.queue_log_days)
            while not self.stopping.is_set():
                try:
                    done = await asyncio.to_thread(prune_queue_log, conninfo, keep)
                    if done:
                        log.info("pruned %d rows of the queue's log older than %s", done, keep)
                except Exception:  # housekeeping never stops the worker; the next round tries again
                    log.exception("pruning the queue's log failed")
                await asyncio.sleep(self.settings.prune_every)

        async def work(job: QueuedJob) -> None:
            picked = time.monotonic()
            started = max(job.created, job.execute_after)
            picked_after = max((datetime.now(UTC) - started).total_seconds(), 0.0)
            entrypoint, outcome = str(job.entrypoint), "failed"
            metrics.picked(entrypoint, picked_after)
            try:
                payload = jobs.read_payload(job.payload)
                await asyncio.to_thread(self.handle, entrypoint, payload)
                outcome = "finished"
            except HandedBack as back:
                outcome = "handed_back"
                raise RetryRequested(delay=back.delay, reason=back.reason) from back
            except ConcurrencyConflict as exc:  # lost a race five times over: later, on a fresh read
                outcome = "handed_back"
                raise RetryRequested(delay=timedelta(seconds=self.settings.busy_retry), reason=str(exc)) from exc
            finally:
                qm.job_ended(job.id)  # its slot is free now: pgqueuer records the end (and wakes the loop) next
                took = time.monotonic() - picked
                metrics.observe_job(entrypoint, outcome, took)
                self._record(entrypoint, picked_after, took)

        for name in jobs.ENTRYPOINTS:
            qm.entrypoint(name, on_failure="hold")(work)
        await asyncio.to_thread(self.warm_up)
        print(f"casepilot worker ready (pid {os.getpid()})", file=sys.stderr, flush=True)
        watcher = asyncio.create_task(watch())
        pruner = asyncio.create_task(prune())
        try:
            await qm.run(batch_size=1, max_concurrent_tasks=max(2, self.settings.concurrency),
                         heartbeat_timeout=timedelta(seconds=self.settings.heartbeat_timeout),
                         dequeue_timeout=timedelta(seconds=5))
        finally:
            watcher.cancel()
            pruner.cancel()
            await conn.close()


def worker_for(store: Store, orch: Orchestrator, settings: WorkerSettings) -> Worker:
    """A worker over ``orch``: its steps stage timer, expiry and retry jobs (not runs: it runs them)."""
    orch.runtime.on_step = JobScheduler(run_on_change=False, clock=orch.runtime.clock)
    return Worker(orch, settings)
