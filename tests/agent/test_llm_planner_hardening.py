"""The LLM planner over named endpoints, against scripted OpenAI-protocol servers.

No choice, no call; the fallback route after the primary failed; the failure's detail when
nothing is left; unknown prices; confidence from log-probabilities (the self-reported number
kept and labelled); the envelope validated by pydantic and re-asked; per-definition
settings; routing that fails closed before anything is sent; what configures a model.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from casepilot.agent.llm_client import LLMClient, TokenLogprob
from casepilot.agent.llm_endpoints import EndpointSettings, configured_endpoints, llm_configured
from casepilot.agent.llm_planner import LLMPlanner, logprob_confidence
from casepilot.agent.manifest import LLMSpec
from casepilot.agent.model_routing import CallContext, DmnModelRouter, ModelCall, Route
from casepilot.agent.orchestrator import default_planner
from casepilot.agent.planning import ActionOption, Observation, PlannerError
from casepilot.agent.rule_planner import RulePlanner
from casepilot.dmn import DecisionModel
from casepilot.governance.budget import ModelPrice, PriceTable
from casepilot.settings import describe_planner
from tests._openai_server import Reply, scripted_openai

EXAMPLE_ROUTING = Path(__file__).parents[2] / "examples" / "claims" / "model-routing.dmn"
RUN = ActionOption(id="run_1", kind="run_task", label="Score", tool="sentiment",
                   arguments_schema={"type": "object", "properties": {"text": {"type": "string"}}})
OTHER = ActionOption(id="run_2", kind="run_task", label="Archive", tool="archive")
WAIT = ActionOption(id="wait", kind="wait", label="Wait")


def observation(*options: ActionOption, call: ModelCall | None = None) -> Observation:
    return Observation(case_id="c1", definition_key="d", case_state="active", items=(), variables={"x": 1},
                       options=options, call=call)


def pick(tool: str = RUN.id, confidence: Any = 0.9) -> Reply:
    return Reply(tool=tool, arguments={"rationale": "r", "confidence": confidence})


def endpoint(url: str, **extra: Any) -> EndpointSettings:
    return EndpointSettings.model_validate({"base_url": url, "max_retries": 1, "backoff": 0.0, **extra})


def planner(endpoints: dict[str, EndpointSettings], **kw: Any) -> LLMPlanner:
    client = LLMClient(endpoints, sleep=lambda s: None)
    return LLMPlanner(model="m", client=client, **kw)


def test_the_model_is_not_called_when_waiting_is_the_only_possible_action() -> None:
    with scripted_openai([]) as server:
        plan = planner({"default": endpoint(server.url)}).plan(observation(WAIT))
    assert plan.option_id == "wait"
    assert plan.usage == ()
    assert server.received == []


def test_after_the_primary_fails_the_fallback_endpoint_answers_and_the_failure_is_recorded() -> None:
    with scripted_openai([Reply.error(503, "overloaded"), Reply.error(503, "still overloaded")]) as primary, \
            scripted_openai([pick()]) as fallback:
        plan = planner({"default": endpoint(primary.url), "fallback": endpoint(fallback.url)}).plan(
            observation(RUN, WAIT))
    assert plan.option_id == RUN.id
    assert len(primary.received) == 2 and len(fallback.received) == 1
    (usage,) = plan.usage
    assert usage.details["endpoint"] == "fallback"
    assert [(f["endpoint"], f["status"], f["message"]) for f in usage.details["after_failures"]] == [
        ("default", 503, "overloaded"), ("default", 503, "still overloaded")]


def test_when_no_route_is_left_the_planner_error_says_what_failed_where() -> None:
    with scripted_openai([Reply.error(500, "primary down")] * 2) as primary, \
            scripted_openai([Reply.error(401, "invalid api key")]) as fallback, \
            pytest.raises(PlannerError, match="no fallback route is left") as info:
        planner({"default": endpoint(primary.url), "fallback": endpoint(fallback.url)}).plan(observation(RUN, WAIT))
    detail = info.value.detail
    assert detail["failure"] == {"kind": "client_error", "message": "invalid api key", "endpoint": "fallback",
                                 "model": "m", "status": 401, "attempts": 1}
    assert detail["route"]["endpoint"] == "fallback"
    assert [(f["endpoint"], f["status"]) for f in detail["failures"]] == [
        ("default", 500), ("default", 500), ("fallback", 401)]


def test_a_model_without_a_price_costs_an_unknown_amount_not_zero() -> None:
    prices = PriceTable({"priced": ModelPrice(Decimal("1"), Decimal("2"))})
    with scripted_openai([pick(), pick()]) as server:
        unpriced = planner({"default": endpoint(server.url)}, prices=prices).plan(observation(RUN, WAIT))
        priced = LLMPlanner(model="priced", client=LLMClient({"default": endpoint(server.url)}),
                            prices=prices).plan(observation(RUN, WAIT))
    assert unpriced.usage[0].cost is None
    assert priced.usage[0].cost == "0.18"


def test_confidence_comes_from_log_probabilities_and_the_self_reported_number_is_kept() -> None:
    tokens = [('{"name": "', -0.01), ("run", -0.05), ("_1", -0.15), ('", "arguments"', -0.01)]
    reply = Reply(tool=RUN.id, arguments={"rationale": "r", "confidence": 0.99}, logprobs=tokens)
    with scripted_openai([reply]) as server:
        plan = planner({"default": endpoint(server.url, logprobs=True)}).plan(observation(RUN, OTHER, WAIT))
    assert server.received[0]["logprobs"] is True
    assert plan.confidence_source == "logprobs"
    assert plan.confidence == pytest.approx(math.exp(-0.2))
    assert plan.self_reported_confidence == 0.99


def test_without_log_probabilities_the_confidence_is_labelled_self_reported() -> None:
    with scripted_openai([pick(confidence=0.7)]) as server:
        plan = planner({"default": endpoint(server.url)}).plan(observation(RUN, WAIT))
    assert (plan.confidence, plan.confidence_source, plan.self_reported_confidence) == (0.7, "self_reported", 0.7)


def test_logprob_confidence_covers_exactly_the_tokens_of_the_name() -> None:
    tokens = [TokenLogprob("ab", -1.0), TokenLogprob("c", -0.5), TokenLogprob("d", -2.0)]
    assert logprob_confidence(tokens, "bc") == pytest.approx(math.exp(-1.5))
    assert logprob_confidence(tokens, "zz") is None


@pytest.mark.parametrize("confidence", [1.5, "high", True])
def test_an_invalid_reply_envelope_is_explained_and_asked_again(confidence: Any) -> None:
    with scripted_openai([pick(confidence=confidence), pick(confidence=0.6)]) as server:
        plan = planner({"default": endpoint(server.url)}).plan(observation(RUN, WAIT))
    assert plan.confidence == 0.6
    assert "confidence" in plan.invalid_attempts[0] and "is invalid" in plan.invalid_attempts[0]
    assert "rejected" in server.received[1]["messages"][-1]["content"]


def test_the_definitions_prompt_temperature_model_and_token_limit_are_sent() -> None:
    spec = LLMSpec(model="claims-model", temperature=0.1, max_tokens=300, system_prompt="You triage claims.")
    with scripted_openai([pick()]) as server:
        planner({"default": endpoint(server.url)}).plan(observation(RUN, WAIT, call=ModelCall(settings=spec)))
    sent = server.received[0]
    assert (sent["model"], sent["temperature"], sent["max_tokens"]) == ("claims-model", 0.1, 300)
    assert sent["messages"][0] == {"role": "system", "content": "You triage claims."}


class FixedRouter:
    def __init__(self, route: Route) -> None:
        self.fixed = route

    def route(self, context: CallContext, failure: Any, tried: Any) -> Route | None:
        return self.fixed if failure is None else None


def test_a_route_to_an_endpoint_that_is_not_configured_fails_closed_before_any_call() -> None:
    call = ModelCall(router=FixedRouter(Route("unvetted", decision="Model routing", rule_ids=("r9",))))
    with scripted_openai([pick()]) as server, \
            pytest.raises(PlannerError, match="'unvetted', which is not configured") as info:
        planner({"default": endpoint(server.url)}).plan(observation(RUN, WAIT, call=call))
    assert server.received == []
    assert info.value.detail["route"]["rule_ids"] == ["r9"]


def test_a_routing_table_that_errors_fails_closed_before_any_call(tmp_path: Path) -> None:
    broken = EXAMPLE_ROUTING.read_text(encoding="utf-8").replace(
        "<text>cost_spent</text>", "<text>cost_spent / \"x\"</text>")
    (tmp_path / "routing.dmn").write_text(broken, encoding="utf-8")
    router = DmnModelRouter(DecisionModel.from_xml(tmp_path / "routing.dmn"), "Model routing")
    with scripted_openai([pick()]) as server, pytest.raises(PlannerError, match="gave no route") as info:
        planner({"default": endpoint(server.url)}).plan(observation(RUN, WAIT, call=ModelCall(router=router)))
    assert server.received == []
    assert "the call was not made" in info.value.detail["routing_error"]


def test_the_example_routing_table_routes_by_pii_cost_purpose_and_failure() -> None:
    from casepilot.agent.llm_client import CallFailure

    router = DmnModelRouter(DecisionModel.from_xml(EXAMPLE_ROUTING), "Model routing")
    failed = CallFailure("rate_limited", "slow down", "cloud", "gpt-4o", 429)
    pii = router.route(CallContext(pii_types=("PERSON",)), None, [])
    assert pii is not None and (pii.endpoint, pii.rule_ids) == ("onprem", ("pii_on_premises",))
    assert router.route(CallContext(pii_types=("PERSON",)), failed, ["onprem"]) is None  # PII has no fallback
    fallback = router.route(CallContext(), failed, ["cloud"])
    assert fallback is not None and fallback.endpoint == "fallback"
    small = router.route(CallContext(cost_spent=Decimal("0.75")), None, [])
    assert small is not None and (small.endpoint, small.model, small.max_tokens) == ("cloud", "gpt-4o-mini", 400)
    usual = router.route(CallContext(), None, [])
    assert usual is not None and (usual.model, usual.temperature, usual.rule_ids) == (
        "gpt-4o", 0.2, ("otherwise_cloud",))


def test_endpoints_by_name_from_the_environment() -> None:
    env = {"CASEPILOT_ENDPOINTS__ONPREM__BASE_URL": "http://10.0.0.5:8000/v1",
           "CASEPILOT_ENDPOINTS__ONPREM__LOGPROBS": "true", "CASEPILOT_ENDPOINTS__cloud__API_KEY": "sk-1",
           "OPENAI_BASE_URL": "http://localhost:11434/v1"}
    found = configured_endpoints(env)
    assert set(found) == {"onprem", "cloud", "default"}
    assert found["onprem"].base_url == "http://10.0.0.5:8000/v1" and found["onprem"].logprobs is True
    assert found["cloud"].api_key is not None and found["cloud"].api_key.get_secret_value() == "sk-1"
    assert found["default"].base_url == "http://localhost:11434/v1" and found["default"].api_key is None


@pytest.mark.parametrize("variable", ["OPENAI_BASE_URL", "OPENAI_API_KEY", "CASEPILOT_MODEL",
                                      "CASEPILOT_ENDPOINTS__ONPREM__BASE_URL"])
def test_any_model_setting_alone_selects_the_llm_planner(variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in ["OPENAI_BASE_URL", "OPENAI_API_KEY", "CASEPILOT_MODEL",
                 *(n for n in os.environ if n.upper().startswith("CASEPILOT_ENDPOINTS__"))]:
        monkeypatch.delenv(name, raising=False)
    assert not llm_configured()
    assert isinstance(default_planner(), RulePlanner)
    monkeypatch.setenv(variable, "http://127.0.0.1:9/v1")
    assert llm_configured()
    planner = default_planner()
    assert isinstance(planner, LLMPlanner)
    if variable == "OPENAI_BASE_URL":  # the start-up log line says where the model is
        assert describe_planner(planner) == ("LLMPlanner", "gpt-4o-mini at http://127.0.0.1:9/v1")


def test_with_several_samples_the_confidence_is_their_agreement_and_the_majority_wins() -> None:
    reply = pick(RUN.id, confidence=0.95)
    reply.samples = [pick(OTHER.id, confidence=0.9), pick(OTHER.id, confidence=0.9), Reply(text="no tool")]
    with scripted_openai([reply]) as server:
        plan = planner({"default": endpoint(server.url, samples=4)}).plan(observation(RUN, OTHER, WAIT))
    assert server.received[0]["n"] == 4
    assert plan.option_id == OTHER.id  # two of four samples; the invalid one counts against agreement
    assert (plan.confidence, plan.confidence_source, plan.self_reported_confidence) == (
        0.5, "sample_agreement", 0.9)


def test_log_probabilities_win_over_sample_agreement() -> None:
    reply = Reply(tool=RUN.id, arguments={"rationale": "r", "confidence": 0.5}, logprobs=[("run_1", -0.1)])
    reply.samples = [pick(OTHER.id)]
    with scripted_openai([reply]) as server:
        plan = planner({"default": endpoint(server.url, samples=2, logprobs=True)}).plan(
            observation(RUN, OTHER, WAIT))
    assert (plan.option_id, plan.confidence_source) == (RUN.id, "logprobs")
    assert plan.confidence == pytest.approx(math.exp(-0.1))
