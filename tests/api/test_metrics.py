"""``GET /metrics`` scraped around real claims: the counters move by exactly what the
histories record, and the inbox gauges read the store."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.api import create_app
from casepilot.demo.run import LETTERS
from casepilot.store import Store
from casepilot.tools import ToolRegistry
from tests._claims import SMALL_LETTER, claim

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class Clock:
    """The wall clock, until a test pins it."""

    def __init__(self) -> None:
        self.pinned: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.pinned or dt.datetime.now(dt.UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(tmp_path: Path, registry: ToolRegistry, clock: Clock,
           claim_files: dict[str, str]) -> Iterator[tuple[TestClient, Orchestrator]]:
    store = Store.from_url(f"sqlite:///{tmp_path / 'metrics.db'}")
    orch = Orchestrator(store, registry, RulePlanner(), clock=clock)
    with TestClient(create_app(orch)) as test_client:
        assert test_client.post("/definitions", json={"files": claim_files}).status_code == 201
        yield test_client, orch
    orch.close()
    store.close()


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def moved(before: Samples, after: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """How much each labelled series of ``name`` grew between two scrapes (series that did not move left out)."""
    grown = {labels: value - before.get((n, labels), 0.0) for (n, labels), value in after.items() if n == name}
    return {labels: delta for labels, delta in grown.items() if delta}


def work(client: TestClient, letter: str) -> tuple[str, dict[str, Any]]:
    case = client.post("/cases", json={"definition_key": "claim-triage",
                                       "variables": claim(letter, "CLM-1")}).json()
    outcome = client.post(f"/cases/{case['id']}/run", json={"max_steps": 50}).json()
    return case["id"], outcome


def test_working_a_claim_moves_the_counters_by_what_its_history_records(
        client: tuple[TestClient, Orchestrator]) -> None:
    http, orch = client
    before = scrape(http)
    case_id, outcome = work(http, SMALL_LETTER)  # paid by the payment process without a claims manager
    assert outcome["reason"] == "completed"
    after = scrape(http)

    history = orch.store.history(case_id, limit=10_000)
    verdicts = Counter((e.payload["verdict"]["kind"], e.payload["tool"]) if e.payload.get("engine") == "bpmn"
                       else (e.payload["kind"], e.payload["action"]) for e in history if e.kind == "verdict")
    assert ("allow", "pay_claim") in verdicts  # the payment process's service call, counted under its tool
    calls = Counter((e.payload["tool"], e.kind.removeprefix("tool_call_")) for e in history
                    if e.kind in ("tool_call_completed", "tool_call_failed"))
    assert verdicts and calls  # the claim was governed and called its tools
    assert moved(before, after, "casepilot_verdicts_total") == {
        frozenset({("kind", k), ("action", a)}): float(n) for (k, a), n in verdicts.items()}
    assert moved(before, after, "casepilot_tool_calls_total") == {
        frozenset({("tool", t), ("outcome", o)}): float(n) for (t, o), n in calls.items()}
    # a call's latency when it has one: the process task's end (bpmn:payment) is the process finishing, not a call
    by_tool = Counter(e.payload["tool"] for e in history
                      if e.kind in ("tool_call_completed", "tool_call_failed") and e.latency_ms is not None)
    assert "pay_claim" in by_tool and "bpmn:payment" not in by_tool
    assert moved(before, after, "casepilot_tool_call_seconds_count") == {
        frozenset({("tool", t)}): float(n) for t, n in by_tool.items()}
    # one committed step is at least one event; the run reported how many loop steps it took
    steps = moved(before, after, "casepilot_steps_total")[frozenset()]
    assert outcome["steps"] <= steps <= len(history)
    # the rule planner calls no LLM
    assert moved(before, after, "casepilot_llm_tokens_total") == {}


def test_inbox_gauges_count_open_items_and_the_age_of_the_oldest(
        client: tuple[TestClient, Orchestrator], clock: Clock) -> None:
    http, orch = client
    empty = scrape(http)
    assert empty[("casepilot_inbox_open_items", frozenset())] == 0
    assert empty[("casepilot_inbox_oldest_age_seconds", frozenset())] == 0
    _, first = work(http, LETTERS["senior-review"])
    _, second = work(http, LETTERS["senior-review"])
    assert first["reason"] == second["reason"] == "waiting_for_people"
    oldest = min(t.created_at for t in orch.store.tasks())
    clock.pinned = oldest + dt.timedelta(hours=2)
    samples = scrape(http)
    assert samples[("casepilot_inbox_open_items", frozenset())] == 2
    assert samples[("casepilot_inbox_oldest_age_seconds", frozenset())] == 7200
    (task, _) = orch.store.tasks()
    decided = http.post(f"/inbox/{task.id}/decision", json={"choice": "approve", "actor": "ann",
                                                                  "roles": ["senior analyst"]})
    assert decided.status_code == 200, decided.text
    assert scrape(http)[("casepilot_inbox_open_items", frozenset())] == 1
