"""Prometheus counters of what the agent loop commits: steps, verdicts, tool calls, LLM use.

Fed from one place — ``AgentRuntime.step`` hands every committed ``StepResult`` to
``observe_step`` — so a counter moves only for events that are really in a history (a step
that rolls back counts nothing), and the loop's nodes need no metrics code of their own.
The counters live in their own ``REGISTRY`` (not the library's global one) so an embedding
service's metrics and ours do not collide; ``casepilot serve`` exposes it on ``/metrics``
together with the inbox gauges read from the store at scrape time (``InboxCollector``), and
``casepilot worker --metrics-port`` does the same with its job metrics (``casepilot.worker.metrics``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from casepilot.agent.tracing import trace_step
from casepilot.store.inbox_stats import open_inbox_stats
from casepilot.store.models import HistoryEvent, StepResult

__all__ = ["LLM_COST", "LLM_TOKENS", "REGISTRY", "STEPS", "TOOL_CALLS", "TOOL_LATENCY", "VERDICTS", "InboxCollector",
           "observe_step"]

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

STEPS = Counter("casepilot_steps", "Committed steps of the agent loop (one transaction each)",
                registry=REGISTRY)
VERDICTS = Counter("casepilot_verdicts", "Governance verdicts recorded, by kind and by what was reviewed",
                   ["kind", "action"], registry=REGISTRY)
TOOL_CALLS = Counter("casepilot_tool_calls", "Tool calls that ended, by tool and outcome (completed or failed)",
                     ["tool", "outcome"], registry=REGISTRY)
TOOL_LATENCY = Histogram("casepilot_tool_call_seconds", "How long tool calls took, by tool",
                         ["tool"], registry=REGISTRY,
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
LLM_TOKENS = Counter("casepilot_llm_tokens", "LLM tokens used, by model and direction (prompt or completion)",
                     ["model", "direction"], registry=REGISTRY)
LLM_COST = Counter("casepilot_llm_cost", "LLM cost in the bundle's price unit, by model (calls of "
                   "unknown price are not counted; see casepilot_llm_calls)", ["model"], registry=REGISTRY)
LLM_CALLS = Counter("casepilot_llm_calls", "LLM calls, by model and whether their price was known",
                    ["model", "priced"], registry=REGISTRY)


def observe_step(result: StepResult | None, started_ns: int) -> None:
    """Count what a committed step wrote (None: the step wrote nothing), and trace it
    (``casepilot.agent.tracing``; ``started_ns``: when the step began, ``time.time_ns()``).

    The step has already committed: a failure here is logged and swallowed, since reporting it
    would make the loop treat a recorded step as failed (and, say, retry a tool call).
    """
    try:
        trace_step(result, started_ns)
        if result is None:
            return
        STEPS.inc()
        for event in result.events:
            _observe(event)
    except Exception:
        log.exception("metrics or tracing of a committed step failed; the step itself is recorded")


_children: dict[tuple[object, ...], Any] = {}
"""The labelled child of each metric and labels seen (``labels()`` validates and locks on every
call; a step counts three or four of them)."""


def _child(metric: Counter | Histogram, *labels: str) -> Any:
    key = (metric, *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


def _observe(event: HistoryEvent) -> None:
    kind = event.kind
    if kind == "verdict":
        payload = event.payload
        if payload.get("engine") == "bpmn":  # a BPMN service task's call: the verdict is nested, the action is the tool
            payload = {**(payload.get("verdict") or {}), "action": payload.get("tool", "unknown")}
        _child(VERDICTS, str(payload.get("kind", "unknown")), str(payload.get("action", "unknown"))).inc()
    elif kind in ("tool_call_completed", "tool_call_failed"):
        tool = str(event.payload.get("tool", "unknown"))
        _child(TOOL_CALLS, tool, kind.removeprefix("tool_call_")).inc()
        if event.latency_ms is not None:
            _child(TOOL_LATENCY, tool).observe(event.latency_ms / 1000)
    elif kind == "llm_call":
        payload = event.payload
        model = str(payload.get("model", "unknown"))
        for direction in ("prompt", "completion"):
            tokens = payload.get(f"{direction}_tokens")
            if isinstance(tokens, int) and tokens > 0:
                _child(LLM_TOKENS, model, direction).inc(tokens)
        _child(LLM_CALLS, model, str(event.cost is not None).lower()).inc()
        if event.cost is not None and event.cost > 0:
            _child(LLM_COST, model).inc(event.cost)


class InboxCollector(Collector):
    """The open inbox of one store, read when collected: right whichever process opened the items
    (the service, any worker), so every process that exposes metrics reports the same figures."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stats = open_inbox_stats(self.engine)
        yield GaugeMetricFamily("casepilot_inbox_open_items", "Inbox items waiting for a person", value=stats.open_items)
        age = 0.0 if stats.oldest_created_at is None else max(
            0.0, (self.clock() - stats.oldest_created_at).total_seconds())
        yield GaugeMetricFamily("casepilot_inbox_oldest_age_seconds",
                                "How long the oldest open inbox item has waited (0 when the inbox is empty)",
                                value=age)
