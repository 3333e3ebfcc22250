"""``GET /metrics``: the agent loop's counters and the inbox gauges in Prometheus text format.

The counters (steps, verdicts, tool calls and their latency, LLM tokens and cost) are kept by
``casepilot.agent.metrics`` as steps commit in this process; the inbox gauges (open items, age
of the oldest; ``InboxCollector``) are read from the store at scrape time, so they are right even for items that
another process opened. Who may scrape: like every read, any signed-in person when a sign-on
proxy is configured (``casepilot.api.access``) — the figures name no case or person, but the
service does not serve anonymous requests at all behind a proxy; give the scraper a service
identity in the proxy.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from casepilot.agent.metrics import REGISTRY, InboxCollector
from casepilot.api.deps import get_orchestrator

__all__ = ["InboxCollector", "router"]

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """The counters and gauges in Prometheus' text exposition format."""
    orch = get_orchestrator(request)
    inbox = CollectorRegistry(auto_describe=False)
    inbox.register(InboxCollector(orch.store.engine, orch.runtime.clock))
    return Response(generate_latest(REGISTRY) + generate_latest(inbox), media_type=CONTENT_TYPE_LATEST)
