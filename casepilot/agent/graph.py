"""The LangGraph wiring of the loop: observe → plan → govern → act → record, and wait.

One LangGraph thread per case (``thread_id`` = case id). The checkpointer persists the
loop's own state after every node, so a worker that dies between ``act`` and ``record``
resumes at ``record`` with the tool's outcome, and a pause in ``wait`` survives a restart.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, StateGraph
from langgraph.types import RetryPolicy

from casepilot.agent.nodes import LoopState, Nodes
from casepilot.errors import ConcurrencyConflict

__all__ = ["build_graph"]


def _after_observe(state: LoopState) -> Literal["plan", "govern", "__end__"]:
    if state.get("stop"):
        return "__end__"
    return "govern" if state.get("approved") is not None else "plan"


def _after_plan(state: LoopState) -> Literal["govern", "wait", "__end__"]:
    if state.get("stop"):
        return "__end__"
    plan = state.get("plan")
    if plan is None:
        return "__end__"
    return "wait" if plan["option"]["kind"] == "wait" else "govern"


def _after_govern(state: LoopState) -> Literal["act", "record", "observe"]:
    verdict = state.get("verdict")
    if verdict is None or verdict.get("kind") != "allow":
        return "observe"
    return "act" if state.get("call_id") else "record"


def _after_wait(state: LoopState) -> Literal["observe"]:
    return "observe"


def build_graph(nodes: Nodes, checkpointer: BaseCheckpointSaver[Any]) -> Any:
    """Compile the loop with ``checkpointer`` (SQLite or PostgreSQL saver)."""
    graph: StateGraph[LoopState] = StateGraph(LoopState)
    # A node that loses a race with another worker (ConcurrencyConflict from the store's version
    # check) is re-run on a fresh read; ``act`` is never retried: it has the outside effect.
    again = RetryPolicy(retry_on=ConcurrencyConflict, max_attempts=5, initial_interval=0.01, jitter=True)
    graph.add_node("observe", nodes.observe, retry_policy=again)
    graph.add_node("plan", nodes.plan, retry_policy=again)
    graph.add_node("govern", nodes.govern, retry_policy=again)
    graph.add_node("act", nodes.act)
    graph.add_node("record", nodes.record, retry_policy=again)
    graph.add_node("wait", nodes.wait)
    graph.add_edge(START, "observe")
    graph.add_conditional_edges("observe", _after_observe)
    graph.add_conditional_edges("plan", _after_plan)
    graph.add_conditional_edges("govern", _after_govern)
    graph.add_edge("act", "record")
    graph.add_edge("record", "observe")
    graph.add_conditional_edges("wait", _after_wait)
    return graph.compile(checkpointer=checkpointer)
