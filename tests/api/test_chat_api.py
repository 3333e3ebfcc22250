"""Chat with a case end to end over HTTP, the model a scripted OpenAI-protocol server (issue 17).

* A question is answered by the model from the case's records, citing history events; a
  citation of an event the case does not have is dropped and flagged; a 429 is retried; the
  model call is recorded with tokens, cost, latency, route and attempts.
* Multi-turn: the next request carries the conversation so far.
* An instruction becomes a proposal among the possible actions — nothing happens — until the
  person confirms it; then it is governed like any action (plan, verdict, inbox item).
* An impossible instruction proposes nothing; a second confirmation is refused (409).
* No raw personal data reaches the model: the letter's name and phone number never do.
* The streaming variant tells each stage, the answer last, also with a slow model.
* A model that keeps failing: the answer comes from the records, and says why.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from casepilot.agent.chat_model import ChatModel, use_chat_model
from casepilot.agent.llm_client import LLMClient
from casepilot.agent.llm_endpoints import EndpointSettings
from casepilot.agent.orchestrator import Orchestrator
from casepilot.demo.run import LETTERS
from tests._openai_server import Reply, ScriptedOpenAI, scripted_openai
from tests.api._chat import ask

RAW_PII = ("Mary Jones", "Jones", "+44 20 7946 0958", "7946 0958")



def said(answer: str, citations: list[str] | None = None, propose: str | None = None) -> Reply:
    """A scripted chat reply: the JSON object the chat's prompt asks for."""
    return Reply(text=json.dumps({"answer": answer, "citations": citations or [], "propose": propose}),
                 prompt_tokens=900, completion_tokens=60)


@pytest.fixture
def model(orch: Orchestrator) -> Iterator[ScriptedOpenAI]:
    with scripted_openai([]) as server:
        endpoint = EndpointSettings(base_url=server.url, max_retries=2, backoff=0.0, timeout=10, deadline=30)
        use_chat_model(orch, ChatModel(LLMClient({"default": endpoint}, sleep=lambda _s: None), "gpt-4o-mini"))
        yield server


@pytest.fixture
def waiting_case(client: TestClient, deployed: dict[str, Any], orch: Orchestrator) -> str:
    """The senior-review claim, waiting for a senior analyst."""
    started = client.post("/cases", json={"definition_key": "claim-triage",
                                          "variables": {"letter": LETTERS["senior-review"], "policy": "POL-3"}})
    assert started.status_code == 201, started.text
    case_id: str = started.json()["id"]
    assert client.post(f"/cases/{case_id}/run", json={}).json()["reason"] == "waiting_for_people"
    return case_id


def kinds(orch: Orchestrator, case_id: str, kind: str, after: int = 0) -> list[dict[str, Any]]:
    return [dict(e.payload) for e in orch.store.history(case_id, after_seq=after) if e.kind == kind]


def option_id(orch: Orchestrator, case_id: str, label: str) -> str:
    options, _ = orch.runtime.options(orch.runtime.load(case_id))
    return next(o.id for o in options if o.label == label)


def test_ask_instruct_confirm_through_the_model(client: TestClient, orch: Orchestrator, waiting_case: str,
                                                model: ScriptedOpenAI) -> None:
    case_id = waiting_case
    verdict_seq = next(e.seq for e in orch.store.history(case_id) if e.kind == "human_task_created")
    request_docs = option_id(orch, case_id, "Request more documents")
    model.replies += [
        Reply.error(429, "rate limited, slow down", retry_after="0"),
        said(f"The claim waits for a senior analyst's review [#{verdict_seq}] "
             "because the letter is negative [#999].", [f"#{verdict_seq}", "#999"]),
        said("I can ask the claims handler to request more documents.", [], request_docs),
        said("Nothing does that now: the payment is not a possible action.", [], "disburse_now"),
    ]

    first = ask(client, case_id, "Why is my claim stuck?")

    assert first["source"] == "model"
    assert first["citations"] == [f"#{verdict_seq}"]
    assert first["dropped_citations"] == ["#999"]
    assert "[#999]" not in first["reply"] and "Citations dropped, not in the case's records: #999" in first["reply"]
    assert first["proposal"] is None and not first["refused"]
    [call] = kinds(orch, case_id, "llm_call", after=first["question_seq"])
    assert call["purpose"] == "chat" and call["model"] == "gpt-4o-mini" and call["endpoint"] == "default"
    assert call["attempts"] == 2 and call["retried"][0]["kind"] == "rate_limited"
    assert call["route"]["endpoint"] == "default" and call["cost"] == "0.000171"  # 900 in, 60 out at gpt-4o-mini prices
    answer_event = next(e for e in orch.store.history(case_id) if e.seq == first["answer_seq"])
    assert answer_event.kind == "chat_message" and answer_event.payload["dropped_citations"] == ["#999"]
    rail = [v for v in kinds(orch, case_id, "verdict", after=first["question_seq"]) if v.get("action") == "message"]
    assert [v["kind"] for v in rail] == ["allow"]

    plans_before = len(kinds(orch, case_id, "plan"))
    second = ask(client, case_id, "Ask the customer for more documents, please")

    assert second["proposal"]["option_id"] == request_docs
    assert second["proposal"]["label"] == "Request more documents"
    assert "Nothing happens until you confirm it" in second["reply"]
    assert len(kinds(orch, case_id, "plan")) == plans_before, "a proposal must not act"
    assert orch.pending(case_id, role="claims handler") == []
    # multi-turn: the second request carried the first question and answer
    conversation = [m for m in model.received[-1]["messages"] if m["role"] in ("user", "assistant")][:-1]
    assert conversation[0]["content"] == "Why is my claim stuck?" and conversation[1]["role"] == "assistant"

    confirmed = client.post(f"/cases/{case_id}/chat/proposals/{second['proposal']['id']}/confirm",
                            json={"actor": "olga"})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["reply"].startswith("Done: Request more documents")
    assert confirmed.json()["outcome"] == "allow"
    plan = kinds(orch, case_id, "plan")[-1]
    assert plan["planner"] == "chat" and plan["label"] == "Request more documents"
    assert [t.plan_item for t in orch.pending(case_id, role="claims handler")] == ["Request more documents"]
    again = client.post(f"/cases/{case_id}/chat/proposals/{second['proposal']['id']}/confirm", json={"actor": "olga"})
    assert again.status_code == 409, again.text
    assert client.post(f"/cases/{case_id}/chat/proposals/p1/confirm", json={"actor": "olga"}).status_code == 404

    third = ask(client, case_id, "Disburse the money now")
    assert third["proposal"] is None
    assert "not one of the actions possible now" in third["reply"]

    sent = json.dumps(model.received)
    assert not [raw for raw in RAW_PII if raw in sent], "raw personal data reached the model"
    assert "<PERSON_" in sent  # the letter went pseudonymised
    thread = client.get(f"/cases/{case_id}/chat").json()["turns"]
    assert [t["role"] for t in thread] == ["user", "assistant"] * 4
    assert thread[3]["proposal"]["id"] == second["proposal"]["id"] and thread[4]["confirms"] == second["proposal"]["id"]
    assert orch.store.verify(case_id).ok


def test_streamed_answer_tells_each_stage_with_a_slow_model(client: TestClient, orch: Orchestrator,
                                                            waiting_case: str, model: ScriptedOpenAI) -> None:
    model.replies.append(Reply(text=json.dumps({"answer": "It waits for a senior analyst.", "citations": []}),
                               delay=0.5))
    with client.stream("POST", f"/cases/{waiting_case}/chat/stream",
                       json={"actor": "olga", "message": "What is the status?"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line.removeprefix("event: ") for line in response.iter_lines() if line.startswith("event: ")]
    assert events == ["message", "grounded", "model", "answer"]
    last = kinds(orch, waiting_case, "chat_message")[-1]
    assert last["text"] == "It waits for a senior analyst." and last["source"] == "model"


def test_a_failing_model_leaves_the_answer_to_the_records(client: TestClient, orch: Orchestrator,
                                                          waiting_case: str, model: ScriptedOpenAI) -> None:
    model.replies += [Reply.error(503, "overloaded")] * 3

    body = ask(client, waiting_case, "What is the status?")

    assert body["source"] == "offline"
    assert "is active" in body["reply"] and "Senior analyst review" in body["reply"]
    assert "model endpoint 'default' failed (server_error HTTP 503)" in body["reply"]
    [error] = [e for e in kinds(orch, waiting_case, "error") if e.get("source") == "chat"]
    assert error["detail"]["failure"]["status"] == 503 and error["detail"]["failure"]["attempts"] == 3
    assert kinds(orch, waiting_case, "llm_call", after=body["question_seq"]) == []


def test_an_unstarted_or_unknown_case(client: TestClient) -> None:
    assert client.post("/cases/nope/chat", json={"actor": "olga", "message": "hi"}).status_code == 404
    assert client.get("/cases/nope/chat").status_code == 404
    assert client.post("/cases/nope/chat/stream", json={"actor": "olga", "message": "hi"}).status_code == 404
