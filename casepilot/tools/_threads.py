"""Reusable daemon threads for tool calls that run under a timeout.

Why not ``concurrent.futures.ThreadPoolExecutor``: a timed-out call cannot be killed, only
abandoned, and the executor's workers are joined at interpreter exit — one hung tool
would keep the process from ever exiting — while its ``max_workers`` cap would let a few
hung calls starve every later one. Why not a new thread per call (what this replaced):
starting a thread costs about a tenth of a millisecond, a noticeable part of an agent step.

So: every call gets an idle worker if there is one and a new daemon worker otherwise (no
cap, no call ever waits for another); a worker idle for ``idle_seconds`` exits.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable

__all__ = ["DaemonPool", "shared_pool"]


class DaemonPool:
    """Runs callables on daemon threads, reusing idle ones."""

    def __init__(self, *, idle_seconds: float = 30.0, name: str = "casepilot-tool") -> None:
        self._idle_seconds = idle_seconds
        self._name = name
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._idle = 0
        """Workers waiting for work that no submitted call has claimed yet."""
        self._started = 0

    @property
    def idle_workers(self) -> int:
        with self._lock:
            return self._idle

    def submit(self, work: Callable[[], None]) -> None:
        """Run ``work`` on a worker thread; it must handle its own exceptions."""
        with self._lock:
            spawn = self._idle == 0
            if not spawn:
                self._idle -= 1
            self._started += spawn
            number = self._started
        self._queue.put(work)
        if spawn:
            threading.Thread(target=self._work, name=f"{self._name}-{number}", daemon=True).start()

    def _work(self) -> None:
        # Invariant: live workers not running a call == idle count + calls waiting in the queue.
        while True:
            try:
                work = self._queue.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0:  # nobody claimed this worker: leave
                        self._idle -= 1
                        return
                continue  # a call claimed it just as it timed out: its work is in the queue
            with contextlib.suppress(BaseException):  # work reports its own errors; the worker goes on
                work()
            with self._lock:
                self._idle += 1


_SHARED = DaemonPool()
os.register_at_fork(after_in_child=_SHARED._reset)  # a forked child has none of the parent's threads


def shared_pool() -> DaemonPool:
    """The process-wide pool the tool executor uses."""
    return _SHARED
