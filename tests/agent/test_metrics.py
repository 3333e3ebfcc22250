"""The loop's Prometheus counters move by what the committed steps record: LLM calls with
their tokens and cost, and the verdict that blocks a call (``casepilot.agent.metrics``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from casepilot.agent.metrics import REGISTRY
from tests.agent._support import write_bundle
from tests.agent.conftest import OrchFactory
from tests.agent.test_money import THREE, PricedPlanner


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_llm_tokens_cost_and_a_blocked_call_are_counted(make_orch: OrchFactory, tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "priced", "priced", THREE,
                          extra_governance={"total_budget": {"max_cost": "0.8", "on_exceed": "block"}})
    orch, _ = make_orch(PricedPlanner("0.7", "0.1", "0.05"))
    orch.deploy(folder)
    case = orch.start_case("priced", {"ref": "R-1"})
    names = [("casepilot_llm_tokens_total", {"model": "priced-model", "direction": "prompt"}),
             ("casepilot_llm_tokens_total", {"model": "priced-model", "direction": "completion"}),
             ("casepilot_llm_cost_total", {"model": "priced-model"}),
             ("casepilot_llm_calls_total", {"model": "priced-model", "priced": "true"}),
             ("casepilot_verdicts_total", {"kind": "block", "action": "llm_call"}),
             ("casepilot_tool_calls_total", {"tool": "tool_a", "outcome": "completed"}),
             ("casepilot_tool_calls_total", {"tool": "tool_c", "outcome": "completed"})]
    before = [value(n, **labels) for n, labels in names]

    assert orch.run(case.id).reason == "blocked_llm_call"

    grown = [value(n, **labels) - b for (n, labels), b in zip(names, before, strict=True)]
    # two calls went through (100 + 10 tokens each, 0.7 + 0.1), the third was blocked unpaid
    assert grown == [200, 20, pytest.approx(0.8), 2, 1, 1, 0]


def test_a_failure_in_metrics_never_fails_the_committed_step(
        make_orch: OrchFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from casepilot.agent import metrics

    def broken(_event: object) -> None:
        raise RuntimeError("exporter down")

    monkeypatch.setattr(metrics, "_observe", broken)
    folder = write_bundle(tmp_path / "priced", "priced", THREE)
    orch, store = make_orch(PricedPlanner("0.1", "0.1", "0.1"))
    orch.deploy(folder)
    case = orch.start_case("priced", {"ref": "R-2"})
    assert orch.run(case.id).reason == "completed"
    started = [e.payload["tool"] for e in store.history(case.id) if e.kind == "tool_call_started"]
    assert sorted(started) == ["tool_a", "tool_b", "tool_c"]  # each tool once: no step taken for failed
    assert "metrics or tracing of a committed step failed" in caplog.text
