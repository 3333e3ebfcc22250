"""Budgets as policy for LLM calls: over budget with ``require_human`` opens an inbox item for
the named role and waits (it once stopped the run without asking anyone), and a total budget
over all cases of a definition blocks further LLM calls."""

from __future__ import annotations

from pathlib import Path

from tests._openai_server import scripted_openai
from tests.agent._support import TaskSpec, events, write_bundle
from tests.agent.conftest import OrchFactory
from tests.agent.test_llm_e2e import choose, planner


def test_budget_require_human_on_llm_call_opens_an_inbox_item(make_orch: OrchFactory, tmp_path: Path) -> None:
    tasks = (TaskSpec("a", "Task A", "tool_a", {"ref": "ref"}, {"x": "done"}),
             TaskSpec("b", "Task B", "tool_b", {"ref": "ref"}, {"y": "done"}, after="a"))
    folder = write_bundle(tmp_path / "budget", "budget", tasks, extra_governance={
        "budget": {"max_llm_calls": 1, "on_exceed": "require_human", "role": "team lead"}})
    with scripted_openai([choose("run_case_1"), choose("run_case_2")]) as server:
        orch, store = make_orch(planner(server.url))
        orch.deploy(folder)
        case = orch.start_case("budget", {"ref": "R"})
        outcome = orch.run(case.id)
    assert len(server.received) == 1
    assert events(store, case.id, "verdict")[-1]["kind"] == "require_human"
    assert outcome.reason == "waiting_for_people"
    assert [t.role for t in outcome.pending] == ["team lead"]


def test_total_budget_of_the_definition_blocks_llm_calls_across_cases(make_orch: OrchFactory, tmp_path: Path) -> None:
    tasks = (TaskSpec("a", "Task A", "tool_a", {"ref": "ref"}, {"x": "done"}),)
    folder = write_bundle(tmp_path / "total", "total", tasks, extra_governance={
        "total_budget": {"max_llm_calls": 1, "on_exceed": "block"}})
    with scripted_openai([choose("run_case_1"), choose("run_case_1")]) as server:
        orch, store = make_orch(planner(server.url))
        orch.deploy(folder)
        first = orch.start_case("total", {"ref": "R-1"})
        assert orch.run(first.id).reason == "completed"
        assert store.llm_spend("total")[2] == 1
        second = orch.start_case("total", {"ref": "R-2"})
        outcome = orch.run(second.id)
    assert len(server.received) == 1  # the second case's model call never left the process
    assert outcome.reason == "blocked_llm_call"
    verdict = events(store, second.id, "verdict")[-1]
    assert verdict["kind"] == "block"
    assert "total budget of the definition exceeded" in verdict["reason"]
