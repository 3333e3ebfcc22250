"""OpenTelemetry spans of the loop, read from the SDK's in-memory exporter: a span per committed
step, and under it the verdicts, tool calls and LLM calls the step recorded, with the GenAI
semantic-convention attributes (``casepilot.agent.tracing``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from casepilot.agent import metrics, tracing
from casepilot.store.models import HistoryEvent, StepResult
from tests.agent._support import events, write_bundle
from tests.agent.conftest import OrchFactory
from tests.agent.test_money import THREE, PricedPlanner


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracing.use_tracer_provider(provider)
    yield memory
    tracing.use_tracer_provider(None)
    provider.shutdown()


def test_steps_verdicts_tool_and_llm_calls_become_spans(make_orch: OrchFactory, tmp_path: Path,
                                                        exporter: InMemorySpanExporter) -> None:
    folder = write_bundle(tmp_path / "priced", "priced", THREE,
                          extra_governance={"total_budget": {"max_cost": "0.8", "on_exceed": "block"}})
    orch, store = make_orch(PricedPlanner("0.7", "0.1", "0.05"))
    orch.deploy(folder)
    case = orch.start_case("priced", {"ref": "R-1"})
    exporter.clear()

    assert orch.run(case.id).reason == "blocked_llm_call"

    spans = [s for s in exporter.get_finished_spans() if s.attributes and s.attributes.get("casepilot.case_id") == case.id]
    steps = {s.context.span_id: s for s in spans if s.name == "casepilot.step"}
    children = [s for s in spans if s.name != "casepilot.step"]
    assert steps and children
    for child in children:  # every verdict and call hangs under the step that committed it
        assert child.parent is not None and child.parent.span_id in steps
        assert child.start_time is not None and child.end_time is not None and child.start_time <= child.end_time

    def named(prefix: str) -> list[ReadableSpan]:
        return [s for s in children if s.name.startswith(prefix)]

    llm = named("chat ")
    assert [s.name for s in llm] == ["chat priced-model"] * 2  # the third call was blocked before it was made
    for span in llm:
        assert span.attributes is not None
        assert span.attributes["gen_ai.operation.name"] == "chat"
        assert span.attributes["gen_ai.request.model"] == "priced-model"
        assert (span.attributes["gen_ai.usage.input_tokens"], span.attributes["gen_ai.usage.output_tokens"]) == (100, 10)
    assert sorted(s.attributes["casepilot.llm.cost"] for s in llm if s.attributes) == [0.1, 0.7]

    tools = named("execute_tool ")
    assert sorted(s.name for s in tools) == ["execute_tool tool_a", "execute_tool tool_b"]
    assert all(s.status.status_code != StatusCode.ERROR for s in tools)

    recorded = events(store, case.id, "verdict")
    verdicts = named("casepilot.verdict ")
    assert [(s.attributes or {}).get("casepilot.verdict.kind") for s in verdicts] == [v["kind"] for v in recorded]
    assert verdicts[-1].name == "casepilot.verdict block"
    assert (verdicts[-1].attributes or {})["casepilot.verdict.action"] == "llm_call"


def test_a_failed_tool_call_is_an_error_span_and_a_failed_outcome(exporter: InMemorySpanExporter) -> None:
    at = dt.datetime(2026, 5, 3, 12, 0, tzinfo=dt.UTC)
    failed = HistoryEvent(case_id="c-fail", seq=7, at=at, kind="tool_call_failed", actor="agent",
                          payload={"call_id": "k1", "tool": "lookup", "error": "TimeoutError: 30 s"},
                          rule_ids=(), tokens=None, cost=None, latency_ms=250.0, prev_hash="p", hash="h")
    before = metrics.REGISTRY.get_sample_value("casepilot_tool_calls_total",
                                               {"tool": "lookup", "outcome": "failed"}) or 0.0
    started = int((at - dt.timedelta(seconds=1)).timestamp() * 1e9)

    metrics.observe_step(StepResult(case_id="c-fail", version=3, events=(failed,)), started)

    assert metrics.REGISTRY.get_sample_value("casepilot_tool_calls_total",
                                             {"tool": "lookup", "outcome": "failed"}) == before + 1
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "execute_tool lookup"]
    assert span.status.status_code == StatusCode.ERROR and span.status.description == "TimeoutError: 30 s"
    assert span.attributes is not None and span.attributes["error.type"] == "TimeoutError"
    assert span.attributes["gen_ai.tool.call.id"] == "k1"
    assert span.end_time == int(at.timestamp() * 1e9)
    assert span.start_time == span.end_time - 250_000_000  # placed by the recorded latency
