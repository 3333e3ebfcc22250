"""Regressions found by the end-to-end tests: no clear PII in the loop checkpoint or in decision
comments, LLM calls recorded when the model chooses to wait, bundle prices cost LLM calls."""

from __future__ import annotations

import json
from pathlib import Path

from casepilot.agent.llm_planner import LLMPlanner
from casepilot.agent.orchestrator import Person
from casepilot.demo.run import LETTERS
from tests._openai_server import scripted_openai
from tests.agent._support import CLAIMS, TaskSpec, events, write_bundle
from tests.agent.conftest import OrchFactory
from tests.agent.test_llm_e2e import LETTER, RAW, choose, planner


def test_llm_call_that_chooses_wait_is_recorded(make_orch: OrchFactory, tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", "one-step", (TaskSpec("a", "Task A", "tool_a", {"ref": "ref"}, {"x": "done"}),
                                                      TaskSpec("b", "Task B", "tool_b", {"ref": "ref"}, {"y": "done"}, after="a")))
    with scripted_openai([choose("wait")]) as server:
        orch, store = make_orch(planner(server.url))
        orch.deploy(folder)
        case = orch.start_case("one-step", {"ref": "R"})
        orch.run(case.id)
    assert len(server.received) == 1
    assert len(events(store, case.id, "llm_call")) == 1


def test_bundle_prices_cost_the_llm_calls(make_orch: OrchFactory) -> None:
    with scripted_openai([choose("run_case_1"), choose("run_case_2"), choose("run_case_7")]) as server:
        orch, store = make_orch(LLMPlanner(model="gpt-4o-mini", base_url=server.url, api_key="k"))
        orch.deploy(CLAIMS)  # casepilot.yaml prices gpt-4o-mini
        case = orch.start_case("claim-triage", {"letter": LETTERS["straight-through"], "policy": "P"})
        orch.run(case.id)
    calls = [e for e in store.history(case.id) if e.kind == "llm_call"]
    assert len(calls) == 3
    assert all((e.cost or 0) > 0 for e in calls)


def test_decision_comment_pii_is_pseudonymised_in_the_history(make_orch: OrchFactory) -> None:
    orch, store = make_orch()
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "P"})
    [task] = orch.run(case.id).pending
    orch.decide(task.id, Person("ann", {"senior analyst"}), "approve",
                "called Peter Miller on +44 20 7946 0123, peter.miller@example.org confirmed")
    history = json.dumps([e.model_dump() for e in store.history(case.id)], default=str)
    for raw in ("Peter Miller", "+44 20 7946 0123", "peter.miller@example.org"):
        assert raw not in history


def test_loop_checkpoint_holds_no_clear_pii(make_orch: OrchFactory, tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "echo", "echo", (TaskSpec("e", "Echo", "echo_text", {"text": "letter"}, {"copy": "text"}),),
                          variables=("letter",))
    orch, _store = make_orch()
    orch.deploy(folder)
    case = orch.start_case("echo", {"letter": LETTER})
    assert orch.run(case.id).reason == "completed"
    orch.close()
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("cases.db.langgraph*"))
    for raw in RAW:
        assert raw.encode() not in blob, f"{raw!r} is in the LangGraph checkpoint"
