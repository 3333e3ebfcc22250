"""The claims example on a new SQLite store, paid through the demo bank, on a clock the test moves:
the set-up shared by the payment tests that run the claims case (``test_demo_payment``,
``test_payment_errors``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.demo.payment_tools import DemoBank
from casepilot.demo.run import demo_registry
from casepilot.store import Store

Clocked = tuple[Orchestrator, Store, DemoBank, list[dt.datetime]]
"""The orchestrator, its store, the bank, and ``now`` (``now[0]`` is the orchestrator's clock)."""


@contextmanager
def clocked_claims(bundle: Path, database: Path) -> Iterator[Clocked]:
    """``bundle`` deployed on a new SQLite file ``database``; the clock starts at 2026-05-04 09:00 UTC
    and moves only when the test moves ``now[0]``, so back-offs and timers fire when the test says."""
    now = [dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)]
    bank = DemoBank()
    store = Store.from_url(f"sqlite:///{database}")
    orch = Orchestrator(store, demo_registry(bank), RulePlanner(), clock=lambda: now[0])
    orch.deploy(bundle)
    yield orch, store, bank, now
    orch.close()
    store.close()
