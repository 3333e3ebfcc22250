"""DMN model routing end to end: the orchestrator, the real LLM planner, scripted endpoints by name.

* The claim (its letter holds personal data) goes to the on-premises endpoint by the example
  table; the cloud endpoint never sees a request; the route and its rule id are recorded
  with every ``llm_call``.
* A case without personal data: the cloud answers 503 until the retries are spent, the table
  routes to the fallback, and the history says which failure came before.
* When the on-premises model fails, personal data has no fallback: the step fails, and
  ``RunOutcome.detail`` and the history say what failed where (HTTP status, message, endpoint).
* A route to an endpoint the deployment does not configure fails closed: nothing is sent.
* Guardrails can tell a calibrated confidence (log-probabilities) from a self-reported one.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from casepilot.agent.llm_client import LLMClient
from casepilot.agent.llm_endpoints import EndpointSettings
from casepilot.agent.llm_planner import LLMPlanner
from casepilot.errors import DefinitionError
from casepilot.governance.budget import PriceTable
from casepilot.store.cli import _usage as history_usage
from tests._openai_server import Reply, ScriptedOpenAI, scripted_openai
from tests.agent._support import CLAIMS, TaskSpec, assert_sound, calls_of, events, write_bundle
from tests.agent.conftest import OrchFactory
from tests.agent.test_llm_e2e import LETTER, PAY, PAY_TO, PRICES, RAW, choose

ROUTING = CLAIMS / "model-routing.dmn"


def with_routing(folder: Path) -> Path:
    """``folder``'s bundle with the example model routing table switched on."""
    shutil.copy(ROUTING, folder / ROUTING.name)
    manifest_path = folder / "casepilot.yaml"
    manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    manifest["decisions"] = [*manifest.get("decisions", []), ROUTING.name]
    manifest["model_routing"] = "Model routing"
    manifest_path.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return folder


def claims_with_routing(tmp_path: Path) -> Path:
    folder = tmp_path / "claims"
    shutil.copytree(CLAIMS, folder)
    return with_routing(folder)


@contextmanager
def endpoints(**scripts: list[Reply]) -> Iterator[dict[str, ScriptedOpenAI]]:
    with ExitStack() as stack:
        yield {name: stack.enter_context(scripted_openai(replies)) for name, replies in scripts.items()}


def routed_planner(servers: dict[str, ScriptedOpenAI], prices: PriceTable | None = None,
                   **extra: Any) -> LLMPlanner:
    settings = {name: EndpointSettings.model_validate({"base_url": s.url, "max_retries": 1, "backoff": 0.0,
                                                        **extra.get(name, {})})
                for name, s in servers.items()}
    return LLMPlanner(model="scripted-model", client=LLMClient(settings, sleep=lambda s: None), prices=prices)


def llm_calls(store: Any, case_id: str) -> list[Any]:
    return [e for e in store.history(case_id) if e.kind == "llm_call"]


def test_personal_data_goes_to_the_on_premises_endpoint_and_the_route_is_recorded(
    make_orch: OrchFactory, tmp_path: Path, url: str
) -> None:
    bundle = claims_with_routing(tmp_path)
    script = [choose("run_case_1"), choose("run_case_2"), choose(PAY)]
    with endpoints(onprem=script, cloud=[], fallback=[]) as servers:
        orch, store = make_orch(routed_planner(servers, PRICES), url=url)
        assert url.startswith(store.backend)  # sqlite:///… or postgresql+psycopg://…
        version = orch.deploy(bundle)
        case = orch.start_case(version.key, {"letter": LETTER, "claim_id": "CLM-ROUTE-9", **PAY_TO})
        outcome = orch.run(case.id)

    assert outcome.reason == "completed"
    assert len(servers["onprem"].received) == 3
    assert servers["cloud"].received == [] and servers["fallback"].received == []
    calls = llm_calls(store, case.id)
    assert len(calls) == 3
    for call in calls:
        assert call.payload["endpoint"] == "onprem"
        assert call.payload["route"]["decision"] == "Model routing"
        assert call.rule_ids == ("pii_on_premises",)
        assert call.payload["cost"] == "0.09"  # the planner's price: 0.4 * 0.15 + 0.05 * 0.6
    # the table's settings were sent: temperature 0, at most 800 tokens
    assert {(r["temperature"], r["max_tokens"]) for r in servers["onprem"].received} == {(0, 800)}
    sent = str(servers["onprem"].received)
    assert not any(raw in sent for raw in RAW)
    assert_sound(store, case.id)


def test_without_personal_data_a_failing_cloud_falls_back_and_the_history_says_why(
    make_orch: OrchFactory, tmp_path: Path
) -> None:
    tasks = (TaskSpec("a", "Task A", "tool_a", {"ref": "ref"}, {"x": "done"}),)
    bundle = with_routing(write_bundle(tmp_path / "plain", "plain", tasks))
    with endpoints(onprem=[], cloud=[Reply.error(503, "overloaded")] * 2,
                   fallback=[choose("run_case_1")]) as servers:
        orch, store = make_orch(routed_planner(servers))
        orch.deploy(bundle)
        case = orch.start_case("plain", {"ref": "R-1"})
        outcome = orch.run(case.id)

    assert outcome.reason == "completed"
    assert calls_of("tool_a") == [{"ref": "R-1"}]
    assert [r["model"] for r in servers["cloud"].received] == ["gpt-4o", "gpt-4o"]  # the table's model
    (call,) = llm_calls(store, case.id)
    assert call.payload["endpoint"] == "fallback"
    assert call.rule_ids == ("primary_failed_fallback",)
    # "gpt-4o" (the table's model) has no price here, and no budget limits cost: called, cost unknown — not $0
    assert call.cost is None and call.payload["cost"] is None and call.payload["price"] == "unknown"
    assert "cost unknown" in history_usage(call) and "$" not in history_usage(call)
    assert [(f["endpoint"], f["status"], f["message"]) for f in call.payload["after_failures"]] == [
        ("cloud", 503, "overloaded"), ("cloud", 503, "overloaded")]
    assert servers["onprem"].received == []
    assert_sound(store, case.id)


def test_a_failing_on_premises_model_has_no_fallback_and_the_outcome_says_what_failed(
    make_orch: OrchFactory, tmp_path: Path
) -> None:
    bundle = claims_with_routing(tmp_path)
    with endpoints(onprem=[Reply.error(503, "the node is drained")] * 2, cloud=[], fallback=[]) as servers:
        orch, store = make_orch(routed_planner(servers, PRICES))
        version = orch.deploy(bundle)
        case = orch.start_case(version.key, {"letter": LETTER, "claim_id": "CLM-ROUTE-10", **PAY_TO})
        outcome = orch.run(case.id)

    assert outcome.reason == "planner_error"
    assert outcome.detail is not None
    assert outcome.detail["failure"]["status"] == 503
    assert outcome.detail["failure"]["message"] == "the node is drained"
    assert outcome.detail["failure"]["endpoint"] == "onprem"
    assert outcome.detail["route"]["rule_ids"] == ["pii_on_premises"]
    assert "HTTP 503" in outcome.detail["problem"]
    assert servers["cloud"].received == [] and servers["fallback"].received == []
    error = events(store, case.id, "error")[-1]
    assert error["detail"]["failure"]["status"] == 503 and error["source"] == "planner"
    assert_sound(store, case.id)


def test_a_route_to_an_unconfigured_endpoint_sends_nothing_and_fails_with_the_reason(
    make_orch: OrchFactory, tmp_path: Path
) -> None:
    bundle = claims_with_routing(tmp_path)
    with endpoints(default=[choose("run_case_1")], cloud=[choose("run_case_1")]) as servers:
        orch, store = make_orch(routed_planner(servers))
        version = orch.deploy(bundle)
        case = orch.start_case(version.key, {"letter": LETTER, "claim_id": "CLM-ROUTE-11", **PAY_TO})
        outcome = orch.run(case.id)

    assert outcome.reason == "planner_error"
    assert all(s.received == [] for s in servers.values())
    assert outcome.detail is not None
    assert "'onprem', which is not configured" in outcome.detail["routing_error"]
    assert llm_calls(store, case.id) == []
    assert_sound(store, case.id)


def test_only_waiting_possible_means_no_model_call(make_orch: OrchFactory, tmp_path: Path) -> None:
    tasks = (TaskSpec("a", "Task A", "tool_a", {"ref": "ref"}, {"x": "done"}),
             TaskSpec("b", "Task B", "tool_b", {"ref": "ref"}, {"y": "done"}, after="a"))
    bundle = write_bundle(tmp_path / "blocking", "blocking", tasks, guardrails=[("tool_b", "block", None)])
    with endpoints(default=[choose("run_case_1"), choose("run_case_2")]) as servers:
        orch, store = make_orch(routed_planner(servers))
        orch.deploy(bundle)
        case = orch.start_case("blocking", {"ref": "R-2"})
        outcome = orch.run(case.id)
    # Task A ran, Task B was blocked and is not offered again: only waiting is left — no third request
    assert len(servers["default"].received) == 2
    assert outcome.reason == "waiting_for_events"
    assert len(llm_calls(store, case.id)) == 2


CONFIDENCE_GUARDRAIL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="conf" name="Confidence"
             namespace="https://casepilot.dev/tests/confidence">
  <inputData id="confidence_source" name="confidence_source">
    <variable name="confidence_source" typeRef="string"/>
  </inputData>
  <decision id="gate" name="Gate">
    <informationRequirement id="ir_source"><requiredInput href="#confidence_source"/></informationRequirement>
    <decisionTable id="dt_gate" hitPolicy="FIRST">
      <input id="in_source" label="confidence_source">
        <inputExpression id="ie_source" typeRef="string"><text>confidence_source</text></inputExpression>
      </input>
      <output id="o_verdict" name="verdict" typeRef="string"/>
      <output id="o_role" name="role" typeRef="string"/>
      <output id="o_reason" name="reason" typeRef="string"/>
      <rule id="calibrated">
        <inputEntry><text>"logprobs"</text></inputEntry>
        <outputEntry><text>"allow"</text></outputEntry><outputEntry><text>null</text></outputEntry>
        <outputEntry><text>"a calibrated confidence"</text></outputEntry>
      </rule>
      <rule id="self_reported">
        <inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"require_human"</text></outputEntry><outputEntry><text>"operator"</text></outputEntry>
        <outputEntry><text>"the model only says how sure it is"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def test_guardrails_can_tell_a_calibrated_confidence_from_a_self_reported_one(
    make_orch: OrchFactory, tmp_path: Path
) -> None:
    tasks = (TaskSpec("a", "Task A", "tool_a", {"ref": "ref"}, {"x": "done"}),)
    outcomes = {}
    for logprobs in (False, True):
        folder = write_bundle(tmp_path / f"conf-{logprobs}", f"conf-{str(logprobs).lower()}", tasks)
        (folder / "confidence.dmn").write_text(CONFIDENCE_GUARDRAIL, encoding="utf-8")
        manifest = yaml.safe_load((folder / "casepilot.yaml").read_text(encoding="utf-8"))
        manifest["governance"]["guardrails"] = [{"file": "confidence.dmn", "decision": "Gate",
                                                 "applies_to": ["tool_call"]}]
        (folder / "casepilot.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
        reply = choose("run_case_1", confidence=0.99)
        if logprobs:
            reply.logprobs = [('{"name":"', -0.01), ("run_case", -0.1), ("_1", -0.2), ('"}', -0.01)]
        with endpoints(default=[reply]) as servers:
            orch, store = make_orch(routed_planner(servers, default={"logprobs": logprobs}))
            orch.deploy(folder)
            case = orch.start_case(manifest["key"], {"ref": "R-3"})
            outcomes[logprobs] = (orch.run(case.id), events(store, case.id, "plan")[0],
                                  events(store, case.id, "verdict")[0])

    self_reported, calibrated = outcomes[False], outcomes[True]
    assert self_reported[0].reason == "waiting_for_people"
    assert self_reported[1]["confidence_source"] == "self_reported"
    assert self_reported[1]["confidence"] == 0.99
    assert self_reported[2]["kind"] == "require_human"
    assert calibrated[0].reason == "completed"
    assert calibrated[1]["confidence_source"] == "logprobs"
    assert calibrated[1]["self_reported_confidence"] == 0.99
    assert 0.7 < calibrated[1]["confidence"] < 0.75  # exp(-0.3)
    assert calibrated[2]["kind"] == "allow"


def test_a_routing_decision_that_is_not_in_the_bundle_is_a_deploy_error(
    make_orch: OrchFactory, tmp_path: Path
) -> None:
    tasks = (TaskSpec("a", "Task A", "tool_a", {"ref": "ref"}, {"x": "done"}),)
    folder = write_bundle(tmp_path / "typo", "typo", tasks)
    manifest = yaml.safe_load((folder / "casepilot.yaml").read_text(encoding="utf-8"))
    manifest["model_routing"] = "Model rooting"
    (folder / "casepilot.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    orch, _ = make_orch()
    with pytest.raises(DefinitionError, match="'Model rooting', which is in none of the bundle's DMN files"):
        orch.deploy(folder)


def test_a_model_without_a_price_is_not_called_when_a_budget_limits_cost(
    make_orch: OrchFactory, tmp_path: Path
) -> None:
    bundle = claims_with_routing(tmp_path)  # the claim bundle's budget: max_cost 1.00
    with endpoints(onprem=[choose("run_case_1")]) as servers:
        orch, store = make_orch(routed_planner(servers))  # "scripted-model" has no price anywhere
        version = orch.deploy(bundle)
        case = orch.start_case(version.key, {"letter": LETTER, "claim_id": "CLM-ROUTE-12", **PAY_TO})
        outcome = orch.run(case.id)
    assert outcome.reason == "planner_error"
    assert servers["onprem"].received == []
    assert outcome.detail is not None and outcome.detail["unpriced_model"] == "scripted-model"
    assert "governance.prices" in outcome.detail["problem"]
    assert llm_calls(store, case.id) == []
    assert_sound(store, case.id)
