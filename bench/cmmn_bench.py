"""CMMN runtime benchmark: cost per transition and per ``activatable()`` as cases grow.

Builds cases with 10, 100, 1,000 and 10,000 human tasks in one stage, chained by sentries
(task i enters when task i-1 completes), with every tenth task also waiting on an if-part
sentry that reads its own variable. Completing the active task is one measured transition
step (the completion plus the sentry-driven start of the next task); ``set_variables`` of one
variable is measured too. Sentry evaluation is indexed by event source and by variable name,
so the per-step cost should stay flat while the number of plan items grows 1,000-fold.

Run: ``.venv/bin/python bench/cmmn_bench.py [--sizes 10,100,1000,10000] [--steps 200]``
"""

from __future__ import annotations

import argparse
import statistics
import time

from casepilot.cmmn.definitions import (
    Case,
    Criterion,
    Expression,
    HumanTask,
    IfPart,
    PlanItem,
    PlanItemOnPart,
    Sentry,
    Stage,
)
from casepilot.cmmn.runtime import CaseInstance


def build_case(size: int) -> Case:
    """``size`` chained human tasks; every tenth one also has an if-part-only entry sentry."""
    items: list[PlanItem] = []
    sentries: list[Sentry] = []
    defs = [HumanTask(id="ht", name="Task", kind="humanTask")]
    for i in range(size):
        entry: list[Criterion] = []
        if i:
            sentries.append(Sentry(f"s{i}", None, (PlanItemOnPart(None, f"p{i - 1}", "complete"),), None))
            entry.append(Criterion(f"ec{i}", f"s{i}", "entry"))
        if i and i % 10 == 0:
            cond = IfPart(Expression(f"v{i} = true"))
            sentries.append(Sentry(f"v{i}", None, (), cond))
            entry.append(Criterion(f"ev{i}", f"v{i}", "entry"))
        items.append(PlanItem(f"p{i}", f"Task {i}", "ht", entry_criteria=tuple(entry)))
    plan = Stage(
        id="cpm",
        name="Bench",
        kind="stage",
        plan_items=tuple(items),
        sentries=tuple(sentries),
        plan_item_definitions=tuple(defs),
    )
    return Case(id=f"bench{size}", name=None, plan_model=plan)


def _median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def measure(size: int, steps: int) -> tuple[float, float, float, float]:
    """(start ms, median µs per completion step, per activatable(), per set_variables)."""
    case = build_case(size)
    t0 = time.perf_counter()
    inst = CaseInstance.start(case)
    start_ms = (time.perf_counter() - t0) * 1e3
    per_step: list[float] = []
    per_act: list[float] = []
    per_set: list[float] = []
    for n in range(min(steps, size - 1)):
        t0 = time.perf_counter()
        actions = inst.activatable()
        per_act.append(time.perf_counter() - t0)
        active = next(a for a in actions if a.kind == "complete")
        t0 = time.perf_counter()
        inst.apply(active)
        per_step.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        inst.set_variables({f"x{n % 7}": n})
        per_set.append(time.perf_counter() - t0)
    return start_ms, _median_us(per_step), _median_us(per_act), _median_us(per_set)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"{'plan items':>10} | {'start (ms)':>10} | {'step µs':>8} | {'activatable µs':>14} | {'set µs':>7}"
    )
    print("-" * 63)
    rows = []
    for size in sizes:
        row = measure(size, args.steps)
        rows.append((size, *row))
        print(f"{size:>10,} | {row[0]:>10.1f} | {row[1]:>8.1f} | {row[2]:>14.1f} | {row[3]:>7.1f}")
    by_size = {r[0]: r for r in rows}
    if 100 in by_size and 10000 in by_size:
        print(f"step cost ratio 10,000 / 100 items: {by_size[10000][2] / by_size[100][2]:.2f}x")
        print(f"activatable ratio 10,000 / 100 items: {by_size[10000][3] / by_size[100][3]:.2f}x")


if __name__ == "__main__":
    main()
