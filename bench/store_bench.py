"""Store benchmark: append throughput and step cost versus history length, SQLite and PostgreSQL.

    .venv/bin/python bench/store_bench.py [--backend sqlite|postgresql|both] [--pg-url URL]

Measures, per backend:
- events appended per second, one writer (steps of 3 events, one commit each);
- the same with 4 writer processes on 4 different cases;
- the cost of one step (load case, apply, append 3 events + state snapshot, commit)
  when the case already has 10, 1,000 and 100,000 events — the target is that it does
  not grow with history length (within 1.5x from 10 to 100,000), since the chain head
  and last sequence number live on the case row.

PostgreSQL comes from ``--pg-url``, else ``CASEPILOT_TEST_POSTGRES_URL``, else the test
helper (local server on 127.0.0.1:5432, or an embedded one); a throwaway database is
created and dropped.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from casepilot.store import DefinitionBundle, Store  # noqa: E402

SINGLE_STEPS = 400
WORKER_STEPS = 200
WORKERS = 4
STEP_REPS = 150
TRIALS = 3
HISTORY_SIZES = (10, 1_000, 100_000)


def _case(store: Store) -> str:
    store.deploy("bench", DefinitionBundle(files={"case.cmmn": "<definitions/>"}))
    return store.create_case("bench", {"n": 0, "items": {f"PI_{i}": "available" for i in range(20)}}).id


def _append_steps(store: Store, case_id: str, steps: int) -> None:
    version = store.case(case_id).version
    for i in range(steps):
        with store.step(case_id, version) as step:
            step.append("plan", actor="agent", payload={"i": i, "action": "start", "item": "PI_3"}, tokens=90)
            step.append("verdict", payload={"allow": True}, rule_ids=["G1", "G4"])
            step.append("transition", payload={"item": "PI_3", "transition": "start"})
        assert step.result is not None
        version = step.result.version


def single_writer(url: str) -> float:
    with Store.from_url(url) as store:
        case_id = _case(store)
        t0 = time.perf_counter()
        _append_steps(store, case_id, SINGLE_STEPS)
        return SINGLE_STEPS * 3 / (time.perf_counter() - t0)


def _worker(url: str, barrier: Any, out: Any) -> None:
    with Store.from_url(url) as store:
        case_id = _case(store)
        barrier.wait()
        t0 = time.perf_counter()
        _append_steps(store, case_id, WORKER_STEPS)
        out.put(time.perf_counter() - t0)


def concurrent_writers(url: str) -> float:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(WORKERS + 1)
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, barrier, out)) for _ in range(WORKERS)]
    for p in procs:
        p.start()
    barrier.wait()
    t0 = time.perf_counter()
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    if any(p.exitcode != 0 for p in procs):
        raise RuntimeError("a writer process failed")
    return WORKERS * WORKER_STEPS * 3 / wall


def _fill(store: Store, case_id: str, events: int) -> None:
    """Grow the history to ``events`` events (big steps, to get there quickly)."""
    have = store.case(case_id).last_seq
    while have < events:
        batch = min(2_000, events - have)
        case = store.case(case_id)
        with store.step(case_id, case.version) as step:
            for i in range(batch):
                step.append("llm_call", actor="agent", payload={"i": have + i, "prompt": "redacted"}, tokens=12)
        have += batch


def _one_step(store: Store, case_id: str) -> float:
    t0 = time.perf_counter()
    case = store.case(case_id)  # load
    state = {**case.state, "n": case.state["n"] + 1}  # apply
    with store.step(case_id, case.version) as step:
        step.append("plan", actor="agent", payload={"n": state["n"]}, tokens=50, cost=0.001)
        step.append("verdict", payload={"allow": True}, rule_ids=["G1"])
        step.append("transition", payload={"item": "PI_1", "transition": "complete"})
        step.save_state(state)
    return (time.perf_counter() - t0) * 1000


def step_costs(url: str) -> dict[int, float]:
    """Median milliseconds of one step on cases that already have 10, 1,000 and 100,000 events.

    The cases live in one database and are stepped round-robin, so that the noise of a
    shared machine falls on all sizes alike.
    """
    with Store.from_url(url) as store:
        cases = {}
        for n in HISTORY_SIZES:
            cases[n] = _case(store)
            _fill(store, cases[n], n)
        for n in HISTORY_SIZES:  # warm-up
            for _ in range(10):
                _one_step(store, cases[n])
        times: dict[int, list[float]] = {n: [] for n in HISTORY_SIZES}
        for _ in range(STEP_REPS):
            for n in HISTORY_SIZES:
                times[n].append(_one_step(store, cases[n]))
        biggest = cases[HISTORY_SIZES[-1]]
        t0 = time.perf_counter()
        report = store.verify(biggest)
        verify_s = time.perf_counter() - t0
        assert report.ok
        print(f"verify a {report.events_checked:,}-event history: {verify_s:.2f} s "
              f"({report.events_checked / verify_s:,.0f} events/s)")
        return {n: statistics.median(t) for n, t in times.items()}


def _trials(label: str, measure: Callable[[str], float], url_factory: Callable[[], Any]) -> None:
    rates = []
    for _ in range(TRIALS):
        with url_factory() as url:
            rates.append(measure(url))
    print(f"{label:<22} median {statistics.median(rates):7.0f} events/s, best {max(rates):7.0f} ({TRIALS} trials)")


def run(name: str, url_factory: Callable[[], Any]) -> None:
    print(f"\n## {name}")
    _trials("single writer:", single_writer, url_factory)
    _trials(f"{WORKERS} writers, {WORKERS} cases:", concurrent_writers, url_factory)
    with url_factory() as url:
        costs = step_costs(url)
    for n, ms in costs.items():
        print(f"step cost, {n:>7,} events: {ms:6.2f} ms (median of {STEP_REPS})")
    ratio = costs[HISTORY_SIZES[-1]] / costs[HISTORY_SIZES[0]]
    verdict = "OK" if ratio <= 1.5 else "ABOVE TARGET"
    print(f"ratio 100,000 / 10: {ratio:.2f}x (target <= 1.5x: {verdict})")


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="casepilot-bench-") as d:
        yield f"sqlite:///{d}/bench.db"


def pg_factory(pg_url: str | None) -> Callable[[], Any]:
    from tests._postgres import PgServer, postgres_server, throwaway_database

    server = PgServer(url=pg_url.replace("+psycopg", ""), source="env") if pg_url else postgres_server()

    @contextmanager
    def factory() -> Iterator[str]:
        with throwaway_database(server, "casepilot_bench") as name:
            yield server.sqlalchemy_url(name)

    return factory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=None)
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        run("SQLite (WAL, synchronous=NORMAL)", sqlite_url)
    if args.backend in ("postgresql", "both"):
        run("PostgreSQL (psycopg 3)", pg_factory(args.pg_url))


if __name__ == "__main__":
    main()
