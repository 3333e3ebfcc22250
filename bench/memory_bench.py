"""Memory of one worker process as it works many cases: RSS after 1,000 and 10,000 cases.

Run: ``.venv/bin/python bench/memory_bench.py [--cases 10000] [--tasks 3] [--privacy] [--unbounded]``

One Orchestrator (SQLite file, offline RulePlanner) starts and runs cases of the chain
bundle of ``bench/agent_bench.py`` one after another, as a worker does. It prints the
process's resident set size (RSS, from ``/proc/self/statm``) after 100, 1,000, 2,000,
5,000 and 10,000 cases, the growth from 1,000 to 10,000 (the goal: flat, within ±10%)
and what the case cache holds. ``--unbounded`` lifts the cache's limits, which shows what
keeping every case costs (the behaviour before the bounded cache).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from agent_bench import bench_step, write_chain_bundle  # noqa: E402

from casepilot.agent.case_cache import CacheLimits  # noqa: E402
from casepilot.agent.orchestrator import Orchestrator  # noqa: E402
from casepilot.agent.rule_planner import RulePlanner  # noqa: E402
from casepilot.store import Store  # noqa: E402
from casepilot.tools import ToolRegistry  # noqa: E402

CHECKPOINTS = (100, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000)


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--tasks", type=int, default=3, help="tasks in the chain (steps per case)")
    parser.add_argument("--privacy", action="store_true", help="with the PII layer (loads its models)")
    parser.add_argument("--unbounded", action="store_true", help="keep every case (no eviction)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        store = Store.from_url(f"sqlite:///{work / 'memory.db'}")
        orch = Orchestrator(store, ToolRegistry([bench_step]), RulePlanner(), privacy=args.privacy)
        if args.unbounded:
            orch.runtime.case_cache.limits = CacheLimits(max_cases=10**9, max_bytes=2**62)
        orch.deploy(write_chain_bundle(work / "bundle", args.tasks))
        limits = orch.runtime.case_cache.limits
        print(f"cache limits: {limits.max_cases} cases, {limits.max_bytes / 2**20:.0f} MB, "
              f"{limits.per_thread} per thread; PII layer {'on' if args.privacy else 'off'}; "
              f"{args.tasks} tasks per case")
        figures: dict[int, float] = {}
        t0 = time.perf_counter()
        for i in range(1, args.cases + 1):
            case = orch.start_case("bench-chain", {"ref": f"r{i}"})
            outcome = orch.run(case.id, max_steps=args.tasks + 5)
            if outcome.reason != "completed":
                raise RuntimeError(f"case {i} did not complete: {outcome}")
            if i in CHECKPOINTS or i == args.cases:
                gc.collect()
                figures[i] = rss_mb()
                cache = orch.runtime.case_cache
                print(f"{i:>7,} cases: RSS {figures[i]:7.1f} MB | cache {cache.pooled} cases, "
                      f"~{cache.pooled_bytes / 2**20:.1f} MB, {cache.evictions:,} evicted | "
                      f"{(time.perf_counter() - t0) / i * 1000:.1f} ms/case")
        orch.close()
        store.close()
    if 1_000 in figures and args.cases >= 10_000:
        growth = figures[10_000] / figures[1_000] - 1
        print(f"RSS 1,000 → 10,000 cases: {figures[1_000]:.1f} → {figures[10_000]:.1f} MB ({growth:+.1%}); "
              f"goal ±10%: {'met' if abs(growth) <= 0.10 else 'NOT met'}")


if __name__ == "__main__":
    main()
