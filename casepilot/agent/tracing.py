"""OpenTelemetry spans for the agent loop: one per committed step, with a child per verdict,
tool call and LLM call it recorded (GenAI semantic-convention attributes for model and tokens).

Installed with the ``[otel]`` extra (``opentelemetry-sdk``; configure an exporter as usual,
e.g. ``opentelemetry-instrument`` or your own ``TracerProvider``). Without the OpenTelemetry
API every function here does nothing. Like the Prometheus counters (``casepilot.agent.metrics``)
the spans are made from what a step committed, so a rolled-back step leaves no verdict or call
span behind; a tool or LLM call's span is placed in time by its recorded latency (it ends when
its outcome was recorded), a verdict is an instant.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from casepilot.store.models import HistoryEvent, StepResult

try:
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode
except ImportError:  # pragma: no cover - the [otel] extra (or chromadb) brings the API
    trace = None  # type: ignore[assignment]

__all__ = ["trace_step", "use_tracer_provider"]

_provider: Any = None


def use_tracer_provider(provider: Any) -> None:
    """Send casepilot's spans to ``provider`` instead of the global one (tests, embedding services)."""
    global _provider
    _provider = provider


def _ns(moment: dt.datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)  # SQLite's are naive UTC
    return int(aware.timestamp() * 1_000_000_000)


def trace_step(result: StepResult | None, started_ns: int) -> None:
    """Record the step that began at ``started_ns`` (``time.time_ns()``) and committed ``result``."""
    if trace is None or result is None:
        return
    if _provider is None and isinstance(trace.get_tracer_provider(), (trace.ProxyTracerProvider,
                                                                      trace.NoOpTracerProvider)):
        return  # nobody configured OpenTelemetry: its spans would go nowhere (and cost ~0.1 ms a step)
    tracer = trace.get_tracer("casepilot", tracer_provider=_provider)
    step = tracer.start_span("casepilot.step", start_time=started_ns, attributes={
        "casepilot.case_id": result.case_id, "casepilot.case_version": result.version,
        "casepilot.events": len(result.events)})
    context = trace.set_span_in_context(step)
    for event in result.events:
        _child(tracer, context, event)
    step.end(end_time=max(started_ns, time.time_ns()))


def _child(tracer: Any, context: Any, event: HistoryEvent) -> None:
    payload, end = event.payload, _ns(event.at)
    start = end - int((event.latency_ms or 0) * 1_000_000)
    base = {"casepilot.case_id": event.case_id, "casepilot.seq": event.seq}
    if event.kind == "verdict":
        kind = str(payload.get("kind", "unknown"))
        span = tracer.start_span(f"casepilot.verdict {kind}", context=context, start_time=end, attributes={
            **base, "casepilot.verdict.kind": kind, "casepilot.verdict.action": str(payload.get("action", "")),
            "casepilot.rule_ids": list(event.rule_ids)})
    elif event.kind in ("tool_call_completed", "tool_call_failed"):
        tool = str(payload.get("tool", "unknown"))
        span = tracer.start_span(f"execute_tool {tool}", context=context, start_time=start, attributes={
            **base, "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool,
            "gen_ai.tool.call.id": str(payload.get("call_id", ""))})
        if event.kind == "tool_call_failed":
            error = str(payload.get("error") or "tool call failed")
            span.set_status(Status(StatusCode.ERROR, error[:500]))
            kind, _, _ = error.partition(": ")  # "TimeoutError: 30 s" → TimeoutError
            span.set_attribute("error.type", kind if kind.isidentifier() else "tool_error")
    elif event.kind == "llm_call":
        model = str(payload.get("model", "unknown"))
        attributes: dict[str, Any] = {**base, "gen_ai.operation.name": "chat", "gen_ai.request.model": model,
                                      "gen_ai.response.model": model}
        for direction, key in (("prompt", "input"), ("completion", "output")):
            tokens = payload.get(f"{direction}_tokens")
            if isinstance(tokens, int):
                attributes[f"gen_ai.usage.{key}_tokens"] = tokens
        if event.cost is not None:
            attributes["casepilot.llm.cost"] = float(event.cost)
        span = tracer.start_span(f"chat {model}", context=context, start_time=start, attributes=attributes)
    else:
        return
    span.end(end_time=end)
