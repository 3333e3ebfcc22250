"""One worker per case (issue 15): two orchestrators on one case never run a call twice.

On main, two orchestrators on one case — the second starting up to 0.2 s after the first,
a 0.3 s tool — lost the payment's result in 11 of 24 cases and raised a false "worker
crashed" checkpoint while the first worker was alive. Every path that works a case now
holds the case's lease: the second waits, then finds the case done.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from pydantic import BaseModel

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.errors import CaseBusy
from casepilot.store import Store
from casepilot.tools import NO_RETRY, ToolRegistry, tool
from tests.agent._support import TaskSpec, write_bundle

RUNS = Counter[str]()
_RUNS_LOCK = threading.Lock()


class PayArgs(BaseModel):
    ref: str


class Paid(BaseModel):
    done: str


@tool(name="pay_slowly", side_effect="non_idempotent", retry=NO_RETRY, timeout=None)
def pay_slowly(args: PayArgs) -> Paid:
    """Pay the claim (takes a while; counts every real execution)."""
    with _RUNS_LOCK:
        RUNS[args.ref] += 1
    time.sleep(0.1)
    return Paid(done=f"paid {args.ref}")


@pytest.fixture
def two_workers(tmp_path: Path) -> tuple[Orchestrator, Orchestrator]:
    registry = ToolRegistry([pay_slowly])
    folder = write_bundle(tmp_path / "bundle", "pay-once",
                          [TaskSpec("pay", "Pay", "pay_slowly", {"ref": "ref"}, {"paid": "done"})])
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    stores = [Store.from_url(url), Store.from_url(url)]
    first, second = (Orchestrator(s, registry, RulePlanner(), privacy=False) for s in stores)
    first.deploy(folder)
    yield first, second
    for orch, store in ((first, stores[0]), (second, stores[1])):
        orch.close()
        store.close()


def test_two_orchestrators_racing_on_one_case_pay_once_and_lose_nothing(
        two_workers: tuple[Orchestrator, Orchestrator]) -> None:
    first, second = two_workers
    rng = random.Random(15)
    RUNS.clear()
    outcomes: list[str] = []
    for i in range(100):
        ref = f"CLM-{i:03d}"
        case_id = first.start_case("pay-once", {"ref": ref}).id
        delay = rng.uniform(0, 0.2)

        def work(orch: Orchestrator, wait: float, case_id: str = case_id) -> None:
            time.sleep(wait)
            outcomes.append(orch.run(case_id).reason)

        threads = [threading.Thread(target=work, args=(first, 0.0)), threading.Thread(target=work, args=(second, delay))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        history = first.store.history(case_id)
        completed = [e for e in history if e.kind == "tool_call_completed"]
        assert RUNS[ref] == 1, f"{ref}: the payment ran {RUNS[ref]} times"
        assert len(completed) == 1, f"{ref}: {len(completed)} recorded results (lost or doubled)"
        assert first.store.tasks(case_id=case_id) == [], f"{ref}: a false crash checkpoint was raised"
        assert not [e for e in history if e.kind == "error"], f"{ref}: {[e.payload for e in history if e.kind == 'error']}"
        assert first.store.verify(case_id).ok
    assert outcomes == ["completed"] * 200


def test_a_busy_case_says_so_after_the_wait(tmp_path: Path, two_workers: tuple[Orchestrator, Orchestrator]) -> None:
    first, second = two_workers
    case_id = first.start_case("pay-once", {"ref": "CLM-BUSY"}).id
    impatient = second.leases
    impatient.wait = 0.2
    with first.leases.hold(case_id):
        with pytest.raises(CaseBusy, match=r"is being worked by .*try again"):
            second.run(case_id)
        assert RUNS["CLM-BUSY"] == 0
    assert second.run(case_id).reason == "completed"


def test_a_dead_workers_lease_expires(two_workers: tuple[Orchestrator, Orchestrator]) -> None:
    first, second = two_workers
    case_id = first.start_case("pay-once", {"ref": "CLM-DEAD"}).id
    assert first.store.acquire_lease(case_id, "host:4242:dead-worker", ttl_seconds=0.3)
    assert not second.store.acquire_lease(case_id, "another", ttl_seconds=30)
    assert second.store.lease_holder(case_id) == "host:4242:dead-worker"
    time.sleep(0.4)
    assert second.run(case_id).reason == "completed"
    assert second.store.lease_holder(case_id) is None
