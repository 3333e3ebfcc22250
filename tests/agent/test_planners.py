"""The planners: the offline RulePlanner's documented order, and the real LLMPlanner code
path against a scripted OpenAI-protocol server (tool-call replies, hallucinated and
malformed replies, timeouts)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from casepilot.agent.llm_planner import LLMPlanner
from casepilot.agent.planning import ActionOption, Observation, PlannerError
from casepilot.agent.rule_planner import RulePlanner
from casepilot.governance.budget import ModelPrice, PriceTable
from tests._openai_server import Reply, scripted_openai

SENTIMENT_SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string"}},
    "required": ["text"],
    "additionalProperties": False,
}


def observation(*options: ActionOption) -> Observation:
    return Observation(
        case_id="c1",
        definition_key="claims",
        case_state="active",
        items=({"name": "Score sentiment", "state": "active"},),
        variables={"letter": "My car was hit by <PERSON_1>."},
        options=options,
    )


RUN = ActionOption(
    id="run-pi_sentiment-1",
    kind="run_task",
    label="Score sentiment",
    plan_item="pi_sentiment",
    tool="sentiment",
    arguments_schema=SENTIMENT_SCHEMA,
    default_arguments={"text": "My car was hit by <PERSON_1>."},
)
START_OPTIONAL = ActionOption(id="start-pi_docs-2", kind="start", label="Request documents")
START_REQUIRED = ActionOption(id="start-pi_check-3", kind="start", label="Check", required=True)
PLAN = ActionOption(id="plan-di_visit", kind="plan", label="Site visit")
WAIT = ActionOption(id="wait", kind="wait", label="wait")


def test_rule_planner_documented_order() -> None:
    planner = RulePlanner()
    plan = planner.plan(observation(START_OPTIONAL, START_REQUIRED, RUN, WAIT))
    assert plan.option_id == RUN.id
    assert dict(plan.arguments) == {"text": "My car was hit by <PERSON_1>."}
    assert planner.plan(observation(START_OPTIONAL, START_REQUIRED, WAIT)).option_id == START_REQUIRED.id
    # optional manual starts and discretionary items are left to people
    assert planner.plan(observation(START_OPTIONAL, PLAN, WAIT)).option_id == "wait"
    auto = ActionOption(id="plan-auto", kind="plan", label="Auto", description="auto_plan")
    assert planner.plan(observation(PLAN, auto, WAIT)).option_id == "plan-auto"


def test_rule_planner_is_deterministic() -> None:
    obs = observation(START_REQUIRED, RUN, WAIT)
    assert RulePlanner().plan(obs) == RulePlanner().plan(obs)


def test_llm_planner_chooses_an_offered_action_and_reports_usage() -> None:
    prices = PriceTable({"scripted-model": ModelPrice(input_per_1k=Decimal("1"), output_per_1k=Decimal("2"))})
    reply = Reply(tool=RUN.id, arguments={"arguments": {"text": "x"}, "rationale": "score it", "confidence": 0.8})
    with scripted_openai([reply]) as server:
        planner = LLMPlanner(model="scripted-model", base_url=server.url, api_key="k", prices=prices)
        plan = planner.plan(observation(RUN, WAIT))
    assert plan.option_id == RUN.id
    assert dict(plan.arguments) == {"text": "x"}
    assert plan.confidence == 0.8
    assert plan.rationale == "score it"
    assert plan.usage[0].prompt_tokens == 120
    assert plan.usage[0].cost == "0.18"
    sent = server.received[0]
    assert sent["model"] == "scripted-model"
    assert {t["function"]["name"] for t in sent["tools"]} == {RUN.id, "wait"}
    assert sent["tool_choice"] == "required"


def test_llm_planner_rejects_hallucinated_and_malformed_replies_then_accepts() -> None:
    replies = [
        Reply(tool="transfer_money", arguments={"rationale": "x", "confidence": 0.9}),
        Reply(tool=RUN.id, arguments="{not json"),
        Reply(tool=RUN.id, arguments={"arguments": {"text": 5}, "rationale": "r", "confidence": 0.9}),
        Reply(tool=RUN.id, arguments={"arguments": {"text": "ok"}, "rationale": "r", "confidence": 0.9}),
    ]
    with scripted_openai(replies) as server:
        planner = LLMPlanner(model="m", base_url=server.url, max_attempts=4)
        plan = planner.plan(observation(RUN, WAIT))
    assert plan.option_id == RUN.id
    assert len(plan.invalid_attempts) == 3
    assert "'transfer_money' is not one of the possible actions" in plan.invalid_attempts[0]
    assert "not valid JSON" in plan.invalid_attempts[1]
    assert "do not match its schema" in plan.invalid_attempts[2]
    assert len(plan.usage) == 4
    # the model was told why, in the conversation of the retry
    assert "rejected" in server.received[1]["messages"][-1]["content"]


def test_llm_planner_gives_up_after_bounded_attempts() -> None:
    replies = [Reply(text="I think we should wait.") for _ in range(2)]
    with scripted_openai(replies) as server:
        planner = LLMPlanner(model="m", base_url=server.url, max_attempts=2)
        with pytest.raises(PlannerError, match="no valid plan after 2 attempts") as info:
            planner.plan(observation(RUN, WAIT))
    assert len(info.value.usage) == 2
    assert len(server.received) == 2


def test_llm_planner_retries_a_timeout_and_records_it() -> None:
    replies = [
        Reply(delay=1.5, tool=RUN.id, arguments={"rationale": "late", "confidence": 0.5}),
        Reply(tool="wait", arguments={"rationale": "nothing to do", "confidence": 0.6}),
    ]
    with scripted_openai(replies) as server:
        planner = LLMPlanner(model="m", base_url=server.url, timeout=0.5, max_attempts=2)
        plan = planner.plan(observation(RUN, WAIT))
    assert plan.option_id == "wait"
    # a timeout is the endpoint's failure, not the model's: retried by the client, not a rejected reply
    assert plan.invalid_attempts == ()
    assert len(server.received) == 2
    assert plan.usage[0].details["attempts"] == 2
    assert [f["kind"] for f in plan.usage[0].details["retried"]] == ["timeout"]


def test_llm_planner_endpoint_error_is_a_planner_error() -> None:
    with scripted_openai([Reply(status=400, raw='{"error": {"message": "bad model"}}')]) as server:
        planner = LLMPlanner(model="m", base_url=server.url)
        with pytest.raises(PlannerError, match="endpoint failed"):
            planner.plan(observation(RUN, WAIT))
