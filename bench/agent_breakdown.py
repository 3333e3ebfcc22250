"""Where a governed agent step's CPU goes, beside the bare LangGraph step it is compared with.

Run: ``.venv/bin/python bench/agent_breakdown.py [--tasks 20] [--rounds 30]``

``agent_bench.py`` gives the ratio; this says what it is made of, in CPU time of the thread
that runs the loop (``time.thread_time``: what a busy machine stretches least), median over
``--rounds`` cases of ``--tasks`` steps each, the loops taking turns:

* **LangGraph alone**: the graphs with nodes that do nothing — the bare loop's four nodes,
  and casepilot's five (observe → plan → govern → act → record, with casepilot's loop state
  and its ``Command`` routing): what LangGraph itself costs per step for each shape;
* **bare LangGraph, 4 nodes + SqliteSaver**: ``agent_bench.py``'s reference loop (a checkpoint
  per step, LangGraph's default durability);
* **casepilot, PII layer off**: ``agent_bench.py``'s governed loop, with the CPU of each of
  its nodes (observe, plan, govern, act, record) measured inside it; what remains is
  LangGraph's and the run's own (lease, version read, the loop's checkpoint at exit).
"""

from __future__ import annotations

import argparse
import functools
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

sys.path.insert(0, str(Path(__file__).resolve().parent))
import agent_bench as ab

from casepilot.agent.nodes import LoopState, Nodes
from casepilot.agent.orchestrator import DURABILITY, RESULT_KEYS

NODES = ("observe", "plan", "govern", "act", "record")


def empty_casepilot_graph() -> Any:
    """casepilot's five-node shape with nodes that only route (same state type, same routing style)."""
    graph: StateGraph[LoopState] = StateGraph(LoopState)

    def observe(state: LoopState) -> Command[str]:
        stop = "max_steps" if state.get("steps", 0) >= state.get("max_steps", 0) else None
        return Command(update={"stop": stop, "observation": {}, "plan": None, "approved": None},
                       goto=END if stop else "plan")

    def plan(state: LoopState) -> Command[str]:
        return Command(update={"plan": None}, goto="govern")

    def govern(state: LoopState) -> Command[str]:
        return Command(update={"verdict": None, "steps": state.get("steps", 0) + 1, "call_id": "call"}, goto="act")

    graph.add_node("observe", observe, destinations=("plan", END))
    graph.add_node("plan", plan, destinations=("govern",))
    graph.add_node("govern", govern, destinations=("act",))
    graph.add_node("act", lambda state: {"outcome": None})
    graph.add_node("record", lambda state: {"plan": None, "verdict": None, "outcome": None, "call_id": None})
    graph.add_edge(START, "observe")
    graph.add_edge("act", "record")
    graph.add_edge("record", "observe")
    return graph.compile(checkpointer=InMemorySaver())


def empty_bare_graph() -> Any:
    """The bare loop's four nodes doing nothing but count (no checkpoint written until exit)."""
    graph: StateGraph[ab.BareState] = StateGraph(ab.BareState)
    graph.add_node("observe", lambda s: {"option": None if s["steps"] >= s["max_steps"] else "next"})
    graph.add_node("plan", lambda s: {"option": s["option"]})
    graph.add_node("act", lambda s: {"result": "ok"})
    graph.add_node("record", lambda s: {"steps": s["steps"] + 1})
    graph.add_edge(START, "observe")
    graph.add_conditional_edges("observe", lambda s: "plan" if s.get("option") else END)
    graph.add_edge("plan", "act")
    graph.add_edge("act", "record")
    graph.add_edge("record", "observe")
    return graph.compile(checkpointer=InMemorySaver())


class NodeClock:
    """Thread CPU time spent in each of the loop's nodes (wraps ``Nodes``' methods)."""

    def __init__(self) -> None:
        self.spent: Counter[str] = Counter()
        for name in NODES:
            setattr(Nodes, name, self._timed(name, getattr(Nodes, name)))

    def _timed(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        spent = self.spent

        @functools.wraps(method)
        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.thread_time()
            try:
                return method(*args, **kwargs)
            finally:
                spent[name] += time.thread_time() - began

        return timed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=20, help="steps per case")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    n = args.tasks
    clock = NodeClock()
    with tempfile.TemporaryDirectory(prefix="casepilot-agent-breakdown-") as tmp:
        workdir = Path(tmp)
        conn = sqlite3.connect(str(workdir / "bare.langgraph"), check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        bare = ab.bare_graph(conn)
        empty_cp, empty_bare = empty_casepilot_graph(), empty_bare_graph()
        orch, store = ab.casepilot_setup(workdir, n, privacy=False)

        def empty(graph: Any, thread: str, **extra: Any) -> None:
            graph.invoke({"case_id": thread, "ref": "R", "steps": 0, "max_steps": n, "blocked": [], "done": []},
                         {"configurable": {"thread_id": thread}, "recursion_limit": 10_000}, **extra)

        loops: dict[str, Callable[[int], None]] = {
            "LangGraph alone, bare loop's 4 empty nodes": lambda i: empty(empty_bare, f"eb-{i}", durability="exit"),
            "LangGraph alone, casepilot's 5 empty nodes": lambda i: empty(
                empty_cp, f"ec-{i}", durability=DURABILITY, output_keys=RESULT_KEYS),
            "bare LangGraph, 4 nodes + SqliteSaver": lambda i: ab.bare_case(bare, n, f"bare-{i}") and None,
        }
        cases = [orch.start_case("bench-chain", {"ref": f"B-{i}"}).id for i in range(args.rounds + 1)]
        cpu: dict[str, list[float]] = {label: [] for label in [*loops, "casepilot"]}
        nodes: dict[str, list[float]] = {name: [] for name in NODES}
        for i in range(args.rounds + 1):
            for label, loop in loops.items():
                began = time.thread_time()
                loop(i)
                cpu[label].append((time.thread_time() - began) * 1000 / n)
            clock.spent.clear()
            began = time.thread_time()
            outcome = orch.run(cases[i], max_steps=n + 5)
            cpu["casepilot"].append((time.thread_time() - began) * 1000 / n)
            if outcome.reason != "completed" or outcome.steps != n:
                raise RuntimeError(f"bench case did not complete straight through: {outcome}")
            for name in NODES:
                nodes[name].append(clock.spent[name] * 1000 / n)
        orch.close()
        store.close()
        conn.close()

    def median(values: list[float]) -> float:
        return statistics.median(values[1:])  # the first round warms up

    print(f"CPU ms per step of the thread running the loop (median of {args.rounds} rounds, {n} steps each)\n")
    for label in loops:
        print(f"  {label:<52} {median(cpu[label]):6.2f}")
    total = median(cpu["casepilot"])
    print(f"  {'casepilot, PII layer off':<52} {total:6.2f}")
    in_nodes = 0.0
    for name in NODES:
        in_nodes += median(nodes[name])
        print(f"    {'in ' + name:<50} {median(nodes[name]):6.2f}")
    print(f"    {'LangGraph and the run (lease, reads, checkpoint)':<50} {total - in_nodes:6.2f}")


if __name__ == "__main__":
    main()
