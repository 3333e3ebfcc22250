"""One worker per case: every path that works a case holds the case's lease (DESIGN.md).

Two orchestrators on one case (two API requests, two worker processes, a person's decision
while the agent runs) each planned on their own copy: a tool ran twice, a result was lost, a
false "worker crashed" checkpoint was raised (issue 15). ``CaseLeases.hold(case_id)`` takes
the store's lease (a row that works across threads, processes and machines), renews it from
a heartbeat thread while the work goes on, and gives it back after. A second worker waits
(polling) up to ``wait`` seconds and then raises ``CaseBusy``; a worker that died leaves a
lease that expires after ``ttl`` seconds, so its cases move on.

The lease is re-entrant within a thread: ``run`` holds it while a chat instruction inside
it, or a child case's run, takes it again.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from casepilot.errors import CaseBusy
from casepilot.store import Store

__all__ = ["CaseLeases"]


@dataclass
class _Held:
    owner: str
    depth: int
    stop: threading.Event
    heartbeat: threading.Thread | None


@dataclass
class CaseLeases:
    """Leases on cases for one orchestrator (thread-safe; each thread holds its own)."""

    store: Store
    ttl: float = 30.0
    """Seconds a lease lives without renewal (a dead worker's case waits this long at most)."""
    wait: float = 60.0
    """Seconds a second worker waits for a busy case before ``CaseBusy``."""
    poll: float = 0.02
    _local: threading.local = field(default_factory=threading.local)

    def _held(self) -> dict[str, _Held]:
        held: dict[str, _Held] | None = getattr(self._local, "held", None)
        if held is None:
            held = self._local.held = {}
        return held

    def mine(self, case_id: str) -> str | None:
        """The owner name of this thread's lease on ``case_id`` (new for every hold), or None."""
        held = self._held().get(case_id)
        return held.owner if held is not None else None

    @contextmanager
    def hold(self, case_id: str) -> Iterator[str]:
        """Hold the lease on ``case_id`` for the block; yields the owner name recorded in the store."""
        held = self._held()
        mine = held.get(case_id)
        if mine is not None:
            mine.depth += 1
            try:
                yield mine.owner
            finally:
                mine.depth -= 1
            return
        owner = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"
        deadline = time.monotonic() + self.wait
        delay = self.poll
        while not self.store.acquire_lease(case_id, owner, self.ttl):
            if time.monotonic() >= deadline:
                raise CaseBusy(
                    f"case {case_id} is being worked by {self.store.lease_holder(case_id) or 'another worker'}; "
                    f"it was not free within {self.wait:g} s — try again when that work is done")
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
        stop = threading.Event()
        beat = threading.Thread(target=self._renew, args=(case_id, owner, stop), daemon=True,
                                name=f"casepilot-lease-{case_id[:8]}")
        held[case_id] = _Held(owner, 1, stop, beat)
        beat.start()
        try:
            yield owner
        finally:
            del held[case_id]
            stop.set()
            beat.join(timeout=self.ttl)
            self.store.release_lease(case_id, owner)

    def _renew(self, case_id: str, owner: str, stop: threading.Event) -> None:
        while not stop.wait(self.ttl / 3):
            try:
                if not self.store.renew_lease(case_id, owner, self.ttl):
                    return  # lost (expired and taken): the case's version check stops any stale write
            except Exception:  # a passing database hiccup: the next beat tries again
                continue
