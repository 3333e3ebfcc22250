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


@dataclass
class CaseLeases:
    """Leases on cases for one orchestrator (thread-safe; each thread holds its own).

    One heartbeat thread renews every lease the orchestrator holds (``_beat``), rather than a
    thread per run: starting and joining a thread for each run cost more than a step of the
    loop does, and fifty concurrent runs held fifty threads that mostly slept. The thread
    starts with the first lease held and ends once none has been held for ``ttl`` seconds.
    """

    store: Store
    ttl: float = 30.0
    """Seconds a lease lives without renewal (a dead worker's case waits this long at most)."""
    wait: float = 60.0
    """Seconds a second worker waits for a busy case before ``CaseBusy``."""
    poll: float = 0.02
    _local: threading.local = field(default_factory=threading.local)
    _due: dict[tuple[str, str], float] = field(default_factory=dict)
    """(case id, owner) of every lease held here → when its next renewal is due (``time.monotonic``)."""
    _wake: threading.Condition = field(default_factory=threading.Condition)
    _beater: threading.Thread | None = None
    _pid: int = field(default_factory=os.getpid)

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
        held[case_id] = _Held(owner, 1)
        self._start_renewing(case_id, owner)
        try:
            yield owner
        finally:
            del held[case_id]
            self._stop_renewing(case_id, owner)
            self.store.release_lease(case_id, owner)

    def _start_renewing(self, case_id: str, owner: str) -> None:
        if self._pid != os.getpid():  # a forked child: its parent's leases, thread and lock are not its own
            self._wake = threading.Condition()
            self._due = {}
            self._beater = None
            self._pid = os.getpid()
        with self._wake:
            self._due[(case_id, owner)] = time.monotonic() + self.ttl / 3
            if self._beater is None or not self._beater.is_alive():
                self._beater = threading.Thread(target=self._beat, daemon=True, name="casepilot-lease-heartbeat")
                self._beater.start()

    def _stop_renewing(self, case_id: str, owner: str) -> None:
        with self._wake:
            self._due.pop((case_id, owner), None)

    def renew_due(self, now: float) -> float | None:
        """Renew the leases due at ``now`` (``time.monotonic``); returns when the next one is due
        (None: none is held). A lease found lost (expired and taken by another worker) is not
        renewed again: the case's version check stops any stale write. The heartbeat calls this."""
        with self._wake:
            due = [key for key, at in self._due.items() if at <= now]
            for key in due:
                self._due[key] = now + self.ttl / 3
        for case_id, owner in due:
            try:
                renewed = self.store.renew_lease(case_id, owner, self.ttl)
            except Exception:  # a passing database hiccup: the next beat tries again
                continue
            if not renewed:
                with self._wake:
                    self._due.pop((case_id, owner), None)
        with self._wake:
            return min(self._due.values(), default=None)

    def _beat(self) -> None:
        idle_since: float | None = None
        while True:
            now = time.monotonic()
            next_due = self.renew_due(now)
            with self._wake:
                if self._beater is not threading.current_thread():
                    return  # replaced (after a fork)
                if next_due is None and not self._due:
                    idle_since = now if idle_since is None else idle_since
                    if now - idle_since >= self.ttl:
                        self._beater = None  # a lease held from now on starts a new thread
                        return
                    self._wake.wait(self.ttl / 3)
                    continue
                idle_since = None
                self._wake.wait(max(0.0, min(self._due.values(), default=now) - time.monotonic()))
