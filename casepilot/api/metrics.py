"""``GET /metrics``: the agent loop's counters and the inbox gauges in Prometheus text format.

The counters (steps, verdicts, tool calls and their latency, LLM tokens and cost) are kept by
``casepilot.agent.metrics`` as steps commit in this process; the inbox gauges (open items, age
of the oldest) are read from the store at scrape time, so they are right even for items that
another process opened. Who may scrape: like every read, any signed-in person when a sign-on
proxy is configured (``casepilot.api.access``) — the figures name no case or person, but the
service does not serve anonymous requests at all behind a proxy; give the scraper a service
identity in the proxy.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from casepilot.agent.metrics import REGISTRY
from casepilot.agent.orchestrator import Orchestrator
from casepilot.api.deps import get_orchestrator
from casepilot.store.inbox_stats import open_inbox_stats

__all__ = ["InboxCollector", "router"]

router = APIRouter(tags=["operations"])


class InboxCollector(Collector):
    """The open inbox of one orchestrator's store, read when collected."""

    def __init__(self, orch: Orchestrator) -> None:
        self.orch = orch

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stats = open_inbox_stats(self.orch.store.engine)
        yield GaugeMetricFamily("casepilot_inbox_open_items", "Inbox items waiting for a person", value=stats.open_items)
        age = 0.0 if stats.oldest_created_at is None else max(
            0.0, (self.orch.runtime.clock() - stats.oldest_created_at).total_seconds())
        yield GaugeMetricFamily("casepilot_inbox_oldest_age_seconds",
                                "How long the oldest open inbox item has waited (0 when the inbox is empty)",
                                value=age)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """The counters and gauges in Prometheus' text exposition format."""
    inbox = CollectorRegistry(auto_describe=False)
    inbox.register(InboxCollector(get_orchestrator(request)))
    return Response(generate_latest(REGISTRY) + generate_latest(inbox), media_type=CONTENT_TYPE_LATEST)
