"""The lease heartbeat: one thread per ``CaseLeases`` renews every lease it holds.

``renew_due`` is what the heartbeat thread runs at each beat; it is driven here with explicit
times (``time.monotonic`` values) and a store whose clock the test moves, so nothing waits.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from casepilot.agent.lease import CaseLeases
from casepilot.store import Store


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _store(tmp_path: Path, clock: _Clock) -> Store:
    return Store.from_url(f"sqlite:///{tmp_path / 'leases.db'}", clock=clock)


def test_due_leases_are_renewed_and_a_lost_one_is_let_go(tmp_path: Path) -> None:
    clock = _Clock()
    store = _store(tmp_path, clock)
    first = "case-a"
    leases = CaseLeases(store, ttl=30.0)
    with leases.hold(first) as owner_a, leases.hold("case-b") as owner_b:
        start = next(iter(leases._due.values()))
        assert store.lease_holder(first) == owner_a
        # Not due yet: nothing is renewed, the next beat is when the earlier lease falls due.
        assert leases.renew_due(start - 1) == min(leases._due.values())
        # 25 s on (the leases live 30 s): a renewal keeps them past their first expiry.
        clock.now += timedelta(seconds=25)
        next_due = leases.renew_due(start + 1)
        assert next_due is not None and next_due >= start + 1 + 30.0 / 3 - 1e-9
        clock.now += timedelta(seconds=25)  # 50 s after taking them, 25 s after the renewal
        assert store.lease_holder(first) == owner_a
        assert store.lease_holder("case-b") == owner_b
        # case-b's lease expires and another worker takes it: renewing fails, and it is not tried again.
        clock.now += timedelta(seconds=40)
        assert store.acquire_lease("case-b", "another-worker", 30.0)
        leases.renew_due(start + 1000)
        assert ("case-b", owner_b) not in leases._due
        assert (first, owner_a) in leases._due  # its own lease (renewed just now) stays on the heartbeat
        assert store.lease_holder(first) == owner_a
    assert store.lease_holder(first) is None  # given back at the end of the block
    assert leases._due == {}
    store.close()


def test_one_heartbeat_thread_serves_every_lease(tmp_path: Path) -> None:
    store = _store(tmp_path, _Clock())
    leases = CaseLeases(store, ttl=30.0)
    before = {t.ident for t in threading.enumerate()}
    with leases.hold("case-a"), leases.hold("case-b"), leases.hold("case-c"):
        started = [t for t in threading.enumerate() if t.ident not in before]
        assert [t.name for t in started] == ["casepilot-lease-heartbeat"]
    with leases.hold("case-d"):  # the idle heartbeat is reused, not a new one started
        assert [t for t in threading.enumerate() if t.ident not in before] == started
    store.close()
