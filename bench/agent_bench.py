"""Per-step overhead of casepilot's governed, persisted agent step against a bare LangGraph loop.

Run: ``.venv/bin/python bench/agent_bench.py [--tasks 20] [--cases 30] [--concurrent 50] [--profile]``

* **casepilot**: a generated bundle of N tasks in a chain, each bound to one cheap tool;
  the offline RulePlanner (no model time). One step = observe → plan → govern → act →
  record: the options from the CMMN engine, the governor's verdict, the plan, verdict and
  tool call recorded as started in one store transaction before the tool runs, its result,
  the transitions and the new state in another after it — each a hash-chained history
  event. The loop's own LangGraph checkpoint (SQLite) is written when the run ends
  (``orchestrator.DURABILITY``): the store already makes every step durable. Measured
  with the PII layer on (the default: every argument and result pseudonymised) and off.
* **bare LangGraph**: a four-node graph (observe → plan → act → record → observe …) with
  the same SQLite checkpointer (a file, WAL), the same tool called directly, N steps —
  with LangGraph's default durability (a checkpoint after every step: the reference of
  the ratio) and, for information, checkpointing only at exit (nothing durable mid-run).
* **concurrency**: ``--concurrent`` cases of the chain, one thread each, one Orchestrator.

The loops take turns, one case each per round, and every ratio is the median of the
per-round ratios, so the load of the shared machine falls on both sides of a ratio alike.
Prints ms/step, steps per second and the ratio — of wall time and of CPU time (the process's,
all threads; it moves much less with the machine's load) —, the concurrent throughput and, with
``--profile``, cProfile summaries of where casepilot's step spends its time (PII layer
off and on).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import yaml
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Durability
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from casepilot.agent.orchestrator import Orchestrator  # noqa: E402
from casepilot.agent.rule_planner import RulePlanner  # noqa: E402
from casepilot.store import Store  # noqa: E402
from casepilot.tools import ToolRegistry, tool  # noqa: E402


class StepArgs(BaseModel):
    ref: str


class StepResult(BaseModel):
    done: str


def _work(ref: str) -> str:
    return f"ok:{ref}"


@tool(name="bench_step", side_effect="idempotent")
def bench_step(args: StepArgs) -> StepResult:
    """One cheap step of work."""
    return StepResult(done=_work(args.ref))


# -- the casepilot side -------------------------------------------------------------------------------


def write_chain_bundle(folder: Path, n: int) -> Path:
    """A case of ``n`` tasks, each starting when the previous completes, all bound to ``bench_step``."""
    items, sentries, defs = [], [], []
    for i in range(n):
        entry = f'<entryCriterion id="ec{i}" sentryRef="s{i}"/>' if i else ""
        items.append(f'<planItem id="pi{i}" name="Step {i}" definitionRef="t{i}">{entry}</planItem>')
        if i:
            sentries.append(f'<sentry id="s{i}"><planItemOnPart id="op{i}" sourceRef="pi{i - 1}">'
                            "<standardEvent>complete</standardEvent></planItemOnPart></sentry>")
        defs.append(f'<task id="t{i}" name="Step {i}"/>')
    cmmn = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="bench" targetNamespace="https://casepilot.dev/bench">
  <caseFileItemDefinition id="cfid" name="Any" definitionType="http://www.omg.org/spec/CMMN/DefinitionType/Unspecified"/>
  <case id="chain" name="Chain">
    <caseFileModel id="cfm"><caseFileItem id="cfi_ref" name="ref" definitionRef="cfid"/>
      <caseFileItem id="cfi_out" name="out" definitionRef="cfid"/></caseFileModel>
    <casePlanModel id="cpm" name="Chain" autoComplete="true">
      {"".join(items)}{"".join(sentries)}{"".join(defs)}
    </casePlanModel>
  </case>
</definitions>"""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "chain.cmmn").write_text(cmmn, encoding="utf-8")
    bindings = [{"task": f"Step {i}", "tool": "bench_step", "inputs": {"ref": "ref"}, "outputs": {"out": "done"}}
                for i in range(n)]
    (folder / "bindings.yaml").write_text(yaml.safe_dump({"bindings": bindings}), encoding="utf-8")
    # Every step calls the same tool with the same argument on purpose: the loop guard
    # (evaluated at every step all the same) allows that many repeats.
    manifest = {"key": "bench-chain", "model": "chain.cmmn", "bindings": "bindings.yaml",
                "governance": {"allowlist": {"tools": ["bench_step"]}, "provenance_role": None,
                               "max_repeats": n + 1}}
    (folder / "casepilot.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    return folder


def casepilot_setup(workdir: Path, n: int, *, privacy: bool) -> tuple[Orchestrator, Store]:
    store = Store.from_url(f"sqlite:///{workdir / ('cp-privacy.db' if privacy else 'cp.db')}")
    orch = Orchestrator(store, ToolRegistry([bench_step]), RulePlanner(), privacy=privacy)
    orch.deploy(write_chain_bundle(workdir / "bundle", n))
    return orch, store


def casepilot_case(orch: Orchestrator, n: int, ref: str) -> tuple[float, int, float]:
    """Seconds spent in ``run`` (start excluded), steps taken and the process's CPU seconds in ``run``."""
    case = orch.start_case("bench-chain", {"ref": ref})
    cpu = time.process_time()
    started = time.perf_counter()
    outcome = orch.run(case.id, max_steps=n + 5)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    if outcome.reason != "completed" or outcome.steps != n:
        raise RuntimeError(f"bench case did not complete straight through: {outcome}")
    return elapsed, outcome.steps, cpu


# -- the bare LangGraph side -------------------------------------------------------------------------


class BareState(TypedDict, total=False):
    ref: str
    steps: int
    max_steps: int
    option: str | None
    result: str | None
    done: list[str]


def bare_graph(conn: sqlite3.Connection) -> Any:
    def observe(state: BareState) -> BareState:
        return {"option": None if state["steps"] >= state["max_steps"] else f"step-{state['steps']}"}

    def plan(state: BareState) -> BareState:
        return {"option": state["option"]}

    def act(state: BareState) -> BareState:
        return {"result": _work(state["ref"])}

    def record(state: BareState) -> BareState:
        return {"steps": state["steps"] + 1, "done": [*state.get("done", []), state["result"] or ""][-3:]}

    graph: StateGraph[BareState] = StateGraph(BareState)
    graph.add_node("observe", observe)
    graph.add_node("plan", plan)
    graph.add_node("act", act)
    graph.add_node("record", record)
    graph.add_edge(START, "observe")
    graph.add_conditional_edges("observe", lambda s: "plan" if s.get("option") else END)
    graph.add_edge("plan", "act")
    graph.add_edge("act", "record")
    graph.add_edge("record", "observe")
    saver = SqliteSaver(conn)
    saver.setup()
    return graph.compile(checkpointer=saver)


def bare_case(graph: Any, n: int, thread: str, *, durability: Durability | None = None) -> tuple[float, int, float]:
    """One run of the bare loop (seconds, steps, CPU seconds); ``durability=None`` is LangGraph's
    default (a checkpoint per step)."""
    cpu = time.process_time()
    started = time.perf_counter()
    out = graph.invoke({"ref": "R-1", "steps": 0, "max_steps": n, "done": []},
                       {"configurable": {"thread_id": thread}, "recursion_limit": 10_000},
                       **({"durability": durability} if durability else {}))
    return time.perf_counter() - started, int(out["steps"]), time.process_time() - cpu


# -- measuring -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """ms/step of one loop over the measured cases, and its ratio to the reference loop."""

    median: float
    best: float
    ratio: float
    """Median over the rounds of (this loop's ms/step ÷ the reference's ms/step in the same round)."""
    cpu_median: float
    """CPU ms/step (the process's CPU time, all threads): what the loop costs whatever else the
    machine does — a loaded machine stretches wall time, much less CPU time."""
    cpu_ratio: float


def per_step(runs: dict[str, Callable[[int], tuple[float, int, float]]], cases: int) -> dict[str, Measured]:
    """Each loop's ms/step over ``cases`` rounds (after one warm-up run each).

    In every round each loop runs one case, one after the other, and the ratio to the first
    loop (the reference) is taken within the round: a change in the shared machine's load
    falls on both sides of a ratio alike instead of on whichever loop happened to run then.
    """
    for run in runs.values():
        run(-1)
    samples: dict[str, list[float]] = {label: [] for label in runs}
    cpu: dict[str, list[float]] = {label: [] for label in runs}
    for i in range(cases):
        for label, run in runs.items():
            seconds, steps, cpu_seconds = run(i)  # both over the run alone (a case's start is not a step)
            cpu[label].append(cpu_seconds * 1000 / steps)
            samples[label].append(seconds * 1000 / steps)
    first = next(iter(runs))

    def paired(values: list[float], reference: list[float]) -> float:
        return statistics.median(v / r for v, r in zip(values, reference, strict=True))

    return {
        label: Measured(statistics.median(values), min(values), paired(values, samples[first]),
                        statistics.median(cpu[label]), paired(cpu[label], cpu[first]))
        for label, values in samples.items()
    }


def concurrent(orch: Orchestrator, n: int, count: int) -> tuple[float, int]:
    ids = [orch.start_case("bench-chain", {"ref": f"C-{i}"}).id for i in range(count)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=count) as pool:
        outcomes = list(pool.map(lambda cid: orch.run(cid, max_steps=n + 5), ids))
    elapsed = time.perf_counter() - started
    failed = [o for o in outcomes if o.reason != "completed"]
    if failed:
        raise RuntimeError(f"{len(failed)} concurrent cases did not complete: {failed[0]}")
    return elapsed, sum(o.steps for o in outcomes)


def profile(orch: Orchestrator, n: int, cases: int, top: int, *, only: str | None = None) -> str:
    profiler = cProfile.Profile()
    ids = [orch.start_case("bench-chain", {"ref": f"P-{i}"}).id for i in range(cases)]
    profiler.enable()
    for cid in ids:
        orch.run(cid, max_steps=n + 5)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    if only:
        stats.sort_stats("cumulative").print_stats(only, top)
        return out.getvalue()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=20, help="steps per case")
    parser.add_argument("--cases", type=int, default=30, help="measured rounds (one case of each loop per round)")
    parser.add_argument("--concurrent", type=int, default=50, help="cases run at once (threads)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary of casepilot's step")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    console = Console(width=130)
    n = args.tasks
    with tempfile.TemporaryDirectory(prefix="casepilot-agent-bench-") as tmp:
        workdir = Path(tmp)
        conn = sqlite3.connect(str(workdir / "bare.langgraph"), check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # the same settings as casepilot's checkpointer
        graph = bare_graph(conn)
        plain_orch, plain_store = casepilot_setup(workdir, n, privacy=False)
        priv_orch, priv_store = casepilot_setup(workdir, n, privacy=True)
        labels = ("bare LangGraph, 4 nodes + SqliteSaver", "casepilot, PII layer off",
                  "casepilot, PII layer on (default)", "bare LangGraph, checkpoint at exit only")
        measured = per_step({
            labels[0]: lambda i: bare_case(graph, n, f"bare-{i}"),
            labels[1]: lambda i: casepilot_case(plain_orch, n, f"R-{i}"),
            labels[2]: lambda i: casepilot_case(priv_orch, n, f"R-{i}"),
            labels[3]: lambda i: bare_case(graph, n, f"bare-exit-{i}", durability="exit"),
        }, args.cases)

        table = Table(title=f"agent step cost ({n} steps per case, {args.cases} rounds; SQLite files)")
        for col in ("loop", "ms/step (median)", "ms/step (best)", "steps/s", "× bare LangGraph (paired median)",
                    "CPU ms/step", "× bare (CPU)"):
            table.add_column(col, justify="right" if col != "loop" else "left")
        for label in labels:
            m = measured[label]
            table.add_row(label, f"{m.median:.2f}", f"{m.best:.2f}", f"{1000 / m.median:.0f}", f"{m.ratio:.2f}",
                          f"{m.cpu_median:.2f}", f"{m.cpu_ratio:.2f}")
        console.print(table)

        elapsed, steps = concurrent(plain_orch, n, args.concurrent)
        console.print(f"{args.concurrent} cases concurrently (threads, one Orchestrator, PII off): "
                      f"{steps} steps in {elapsed:.2f} s = {steps / elapsed:.0f} steps/s, "
                      f"{args.concurrent / elapsed:.1f} cases/s")
        if args.profile:
            console.rule("profile: casepilot, PII layer off")
            console.print(profile(plain_orch, n, max(2, args.cases), args.top), markup=False, highlight=False)
            console.rule("profile: casepilot, PII layer on (casepilot, spaCy and Presidio frames)")
            console.print(profile(priv_orch, n, 2, args.top, only="casepilot|spacy|presidio"),
                          markup=False, highlight=False)
        for orch, store in ((plain_orch, plain_store), (priv_orch, priv_store)):
            orch.close()
            store.close()
        conn.close()


if __name__ == "__main__":
    main()
