"""The LLM-call guardrail sees the model the route calls, not the planner's default.

A bundle's routing decision picks the endpoint and model per call; a guardrail on
``llm_call`` reading ``action`` (the model) must hold for the model actually called — on the
first route and on a fallback after a failure. The endpoints are local scripted OpenAI
stand-ins that record every request, so "nothing was sent" is observed, not assumed.
"""

from __future__ import annotations

from pathlib import Path

from casepilot.agent.stop_reason import stop_reason
from tests._openai_server import Reply
from tests.agent._support import TaskSpec, assert_sound, calls_of, events, write_bundle
from tests.agent.conftest import OrchFactory
from tests.agent.test_llm_e2e import choose
from tests.agent.test_llm_routing_e2e import endpoints, llm_calls, routed_planner, with_routing

APPROVED = ("scripted-model", "gpt-4o")

_APPROVED_MODELS_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="approved_models" name="Approved models"
             namespace="https://casepilot.dev/tests/approved-models">
  <decision id="approved_models_decision" name="Approved models">
    <informationRequirement id="ir_action"><requiredInput href="#action"/></informationRequirement>
    <decisionTable id="dt_models" hitPolicy="FIRST">
      <input id="in_action" label="action"><inputExpression id="ie_action" typeRef="string"><text>action</text></inputExpression></input>
      <output id="o_verdict" name="verdict" typeRef="string"/>
      <output id="o_role" name="role" typeRef="string"/>
      <output id="o_reason" name="reason" typeRef="string"/>
      <rule id="approved_model">
        <inputEntry><text>{approved}</text></inputEntry>
        <outputEntry><text>"allow"</text></outputEntry>
        <outputEntry><text>null</text></outputEntry>
        <outputEntry><text>"an approved model"</text></outputEntry>
      </rule>
      <rule id="model_not_approved">
        <inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"block"</text></outputEntry>
        <outputEntry><text>null</text></outputEntry>
        <outputEntry><text>"model not on the approved list"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <inputData id="action" name="action"><variable name="action" typeRef="string"/></inputData>
</definitions>
"""

TASKS = (TaskSpec("a", "Task A", "tool_a", {"ref": "ref"}, {"x": "done"}),)


def _bundle(folder: Path, approved: tuple[str, ...]) -> Path:
    """A plain one-task bundle, the example routing table (no PII → cloud, gpt-4o; after a
    failure → fallback), and a guardrail blocking every ``llm_call`` to a model not in ``approved``."""
    bundle = write_bundle(folder, "plain", TASKS, extra_governance={"guardrails": [
        {"file": "models.dmn", "decision": "Approved models", "applies_to": ["llm_call"]}]})
    (bundle / "models.dmn").write_text(
        _APPROVED_MODELS_DMN.format(approved=",".join(f'"{m}"' for m in approved)), encoding="utf-8")
    return with_routing(bundle)


def test_a_routed_model_the_guardrail_blocks_is_not_called(make_orch: OrchFactory, tmp_path: Path) -> None:
    # the planner's own model is approved; the model the table routes to (gpt-4o) is not
    with endpoints(cloud=[choose("run_case_1")], fallback=[choose("run_case_1")]) as servers:
        orch, store = make_orch(routed_planner(servers))
        orch.deploy(_bundle(tmp_path / "plain", approved=("scripted-model",)))
        case = orch.start_case("plain", {"ref": "R-1"})
        outcome = orch.run(case.id)

    assert outcome.reason == "blocked_llm_call"
    assert servers["cloud"].received == [] and servers["fallback"].received == []
    assert calls_of("tool_a") == [] and llm_calls(store, case.id) == []
    (verdict,) = [v for v in events(store, case.id, "verdict") if v.get("action") == "llm_call"]
    assert (verdict["kind"], verdict["model"], verdict["endpoint"]) == ("block", "gpt-4o", "cloud")
    assert verdict["reason"] == "model not on the approved list"
    blocked = [e for e in store.history(case.id) if e.kind == "verdict"][-1]
    assert blocked.rule_ids == ("model_not_approved",)
    # what ``casepilot run`` prints: blocked (exit 3), by the rule, with its reason
    reason = stop_reason(outcome, store.iter_history(case.id))
    assert reason.kind == "blocked" and reason.exit_code == 3
    assert any("model_not_approved" in line and "model not on the approved list" in line for line in reason.lines)
    assert_sound(store, case.id)


def test_the_same_routed_model_approved_is_called(make_orch: OrchFactory, tmp_path: Path) -> None:
    with endpoints(cloud=[choose("run_case_1")], fallback=[]) as servers:
        orch, store = make_orch(routed_planner(servers))
        orch.deploy(_bundle(tmp_path / "plain", approved=APPROVED))
        case = orch.start_case("plain", {"ref": "R-2"})
        outcome = orch.run(case.id)

    assert outcome.reason == "completed"
    assert [r["model"] for r in servers["cloud"].received] == ["gpt-4o"]
    assert calls_of("tool_a") == [{"ref": "R-2"}]
    assert [v for v in events(store, case.id, "verdict") if v.get("action") == "llm_call"] == []
    assert_sound(store, case.id)


def test_a_fallback_to_a_model_the_guardrail_blocks_is_not_called(make_orch: OrchFactory, tmp_path: Path) -> None:
    # gpt-4o (approved) answers 503 until the retries are spent; the fallback endpoint's model is not approved
    with endpoints(cloud=[Reply.error(503, "overloaded")] * 2, fallback=[choose("run_case_1")]) as servers:
        orch, store = make_orch(routed_planner(servers, fallback={"model": "unvetted-model"}))
        orch.deploy(_bundle(tmp_path / "plain", approved=APPROVED))
        case = orch.start_case("plain", {"ref": "R-3"})
        outcome = orch.run(case.id)

    assert outcome.reason == "blocked_llm_call"
    assert len(servers["cloud"].received) == 2 and servers["fallback"].received == []
    (verdict,) = [v for v in events(store, case.id, "verdict") if v.get("action") == "llm_call"]
    assert (verdict["kind"], verdict["model"], verdict["endpoint"]) == ("block", "unvetted-model", "fallback")
    assert calls_of("tool_a") == []
    assert_sound(store, case.id)

