"""Persisted step cost as a case grows: 100, 1,000 and 10,000 plan items, SQLite and PostgreSQL.

    .venv/bin/python bench/step_bench.py [--backend sqlite|postgresql|both] [--steps 100] [--every 1000]

One persisted step = one engine transition (complete the active task of the chained case of
``bench/cmmn_bench.py``; its sentry starts the next) + one store transaction recording its
transition events and the new state, committed. Two ways of recording the state:

* **delta** (what casepilot does now): the step records what it changed
  (``CaseInstance.changes()`` → a ``state_delta`` event); the store writes a full snapshot
  instead once the deltas since the last one outweigh it (or after ``--every`` steps).
  Reported: the median and mean step, the sizes of snapshot, delta and all of a step's
  events (what counts towards the next snapshot), how many steps one snapshot pays for,
  and the amortised step (median delta step + a snapshot's cost spread
  over the steps it pays for) — the figure a long-running case sees.
* **snapshot every step** (what casepilot did before): the whole instance serialised,
  hashed and written as a ``state`` event and into ``cases.state_json`` at every step.

The cases of all sizes are stepped round-robin, so the load of a shared machine falls on
every size alike. The goal: the persisted step costs at most 2× from 100 to 10,000 items.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from cmmn_bench import build_case  # noqa: E402
from sqlalchemy import text  # noqa: E402

from casepilot.cmmn.definitions import Case  # noqa: E402
from casepilot.cmmn.runtime import CaseInstance  # noqa: E402
from casepilot.store import DefinitionBundle, Store  # noqa: E402
from casepilot.store.store import DEFAULT_SNAPSHOT_EVERY  # noqa: E402

SIZES = (100, 1_000, 10_000)


class Chain:
    """A case of ``size`` chained tasks in the store, its engine in memory (as the case cache keeps it)."""

    def __init__(self, store: Store, case: Case, size: int, *, delta: bool) -> None:
        self.store, self.case, self.size, self.delta = store, case, size, delta
        self.new_case()

    def new_case(self) -> None:
        self.engine = CaseInstance.start(self.case, {})
        self.engine.changes()
        state = {"schema": 1, "engine": self.engine.to_dict(), "agent": {"steps": 0}}
        record = self.store.create_case("bench", state)
        self.case_id, self.version, self.steps = record.id, record.version, 0

    def step(self) -> float:
        """One persisted step; milliseconds."""
        active = self.engine.in_state("Active")
        if not active:
            self.new_case()
            active = self.engine.in_state("Active")
        started = time.perf_counter()
        events = [e.to_dict() for e in self.engine.complete(active[0].id)]
        self.steps += 1
        with self.store.step(self.case_id, self.version) as step:
            for event in events:
                step.append("transition", actor="agent", payload=event)
            if self.delta:
                header, items = self.engine.changes()
                ops: list[list[Any]] = [["set", ["engine", k], v] for k, v in header.items()
                                        if k not in ("schema", "case", "id")]
                ops += [["put", ["engine", "items"], item] for item in items]
                ops.append(["set", ["agent"], {"steps": self.steps}])
                step.save_changes(ops, actor="agent", snapshot=self.full)
            else:
                step.save_state(self.full(), actor="agent")
        elapsed = (time.perf_counter() - started) * 1000
        assert step.result is not None
        self.version = step.result.version
        return elapsed

    def full(self) -> dict[str, Any]:
        return {"schema": 1, "engine": self.engine.to_dict(), "agent": {"steps": self.steps}}


def sizes(store: Store, case_id: str) -> tuple[float, float, float]:
    """(bytes of the case's snapshot, mean bytes of its delta events, mean bytes of the events of a
    step that records a delta — what counts towards the next snapshot)."""
    with store.engine.connect() as conn:
        snapshot = conn.execute(text("SELECT snapshot_bytes FROM cases WHERE id = :c"), {"c": case_id}).scalar_one()
        delta, deltas = conn.execute(text(
            "SELECT AVG(LENGTH(payload_json)), COUNT(*) FROM history_events WHERE case_id = :c "
            "AND kind = 'state_delta'"), {"c": case_id}).one()
        steps_bytes = conn.execute(text(
            "SELECT SUM(LENGTH(payload_json)) FROM history_events WHERE case_id = :c AND seq > 1 "
            "AND kind <> 'state'"), {"c": case_id}).scalar_one()
    return float(snapshot), float(delta or 0), float(steps_bytes or 0) / max(int(deltas), 1)


SIZE_INFO: dict[int, tuple[float, float, float]] = {}


def measure(url: str, steps: int, every: int) -> dict[str, dict[int, list[float]]]:
    cases = {n: build_case(n) for n in SIZES}
    out: dict[str, dict[int, list[float]]] = {}
    for mode, delta in (("delta", True), ("snapshot every step", False)):
        with Store.from_url(url, snapshot_every=every) as store:
            store.deploy("bench", DefinitionBundle(files={"case.cmmn": "<definitions/>"}))
            chains = {n: Chain(store, cases[n], n, delta=delta) for n in SIZES}
            for chain in chains.values():  # warm-up
                for _ in range(5):
                    chain.step()
            times: dict[int, list[float]] = {n: [] for n in SIZES}
            for _ in range(steps if delta else max(steps // 4, 20)):
                for n, chain in chains.items():
                    times[n].append(chain.step())
            for n, chain in chains.items():  # the state read back is the engine's
                assert store.load_case(chain.case_id).state["engine"] == chain.engine.to_dict(), n
                if delta:
                    SIZE_INFO[n] = sizes(store, chain.case_id)
            out[mode] = times
    return out


def report(backend: str, results: dict[str, dict[int, list[float]]], every: int) -> None:
    print(f"\n{backend}: persisted step (transition + its events + the state, committed), ms")
    print(f"{'plan items':>10} | {'delta median':>12} | {'delta mean':>10} | {'snapshot KB':>11} | "
          f"{'delta KB':>8} | {'step KB':>7} | {'steps/snapshot':>14} | {'amortised':>9} | "
          f"{'snapshot every step (before)':>28}")
    delta, full = results["delta"], results["snapshot every step"]
    amortised: dict[int, float] = {}
    for n in SIZES:
        snapshot_bytes, delta_bytes, step_bytes = SIZE_INFO[n]
        per = min(every, max(1.0, snapshot_bytes / max(step_bytes, 1.0)))
        amortised[n] = statistics.median(delta[n]) + statistics.median(full[n]) / per
        print(f"{n:>10,} | {statistics.median(delta[n]):12.2f} | {statistics.mean(delta[n]):10.2f} | "
              f"{snapshot_bytes / 1024:11.1f} | {delta_bytes / 1024:8.2f} | {step_bytes / 1024:7.2f} | {per:14.0f} | "
              f"{amortised[n]:9.2f} | "
              f"{statistics.median(full[n]):28.2f}")
    lo, hi = SIZES[0], SIZES[-1]
    print(f"10,000 / 100 items: delta median {statistics.median(delta[hi]) / statistics.median(delta[lo]):.2f}x, "
          f"amortised {amortised[hi] / amortised[lo]:.2f}x (goal ≤ 2x); "
          f"snapshot every step {statistics.median(full[hi]) / statistics.median(full[lo]):.2f}x")


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'steps.db'}"


@contextmanager
def postgres_url(given: str | None) -> Iterator[str]:
    if given:
        yield given
        return
    from tests._postgres import require_postgres, throwaway_database

    server = require_postgres()
    with throwaway_database(server, "casepilot_step_bench") as name:
        yield server.sqlalchemy_url(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--steps", type=int, default=100, help="measured steps per size")
    parser.add_argument("--every", type=int, default=DEFAULT_SNAPSHOT_EVERY,
                        help="a full snapshot at least every this many steps (the store's default)")
    args = parser.parse_args()
    backends: list[tuple[str, Callable[[], AbstractContextManager[str]]]] = []
    if args.backend in ("sqlite", "both"):
        backends.append(("SQLite", sqlite_url))
    if args.backend in ("postgresql", "both"):
        backends.append(("PostgreSQL", lambda: postgres_url(args.pg_url)))
    for name, factory in backends:
        with factory() as url:
            report(name, measure(url, args.steps, args.every), args.every)


if __name__ == "__main__":
    main()
