"""The chat's checks on what a model says: citations, the reply's shape, a model too slow to wait for.

* A citation stands only when the case holds it: a history sequence number that exists, a
  passage that was retrieved; others are dropped from the text and listed. Bracketed text
  that is not a citation is left alone.
* A reply that is not the JSON object asked for is rejected, the model told why and asked once
  more; a second bad reply leaves the answer to the records.
* A model slower than the endpoint's timeout: the answer comes from the records, and says so.
* The offline answer proposes only an action possible now, named by its label.
"""

from __future__ import annotations

import json

from casepilot.agent.chat import converse
from casepilot.agent.chat_grounding import Grounding
from casepilot.agent.chat_model import ChatModel, _parse, use_chat_model
from casepilot.agent.chat_offline import offline_answer
from casepilot.agent.chat_rail import check_citations
from casepilot.agent.llm_client import LLMClient
from casepilot.agent.llm_endpoints import EndpointSettings
from casepilot.agent.planning import ActionOption
from casepilot.demo.run import LETTERS
from tests._openai_server import Reply, scripted_openai
from tests.agent._support import CLAIMS
from tests.agent.conftest import OrchFactory


def grounding(**payload: object) -> Grounding:
    base: dict[str, object] = {"plan": [], "waiting_for_people": [], "history": []}
    return Grounding(case_id="c1", definition="d", state="active", payload={**base, **payload},
                     options=(ActionOption("plan:docs", "plan", "Request more documents"),),
                     seqs=frozenset(range(1, 31)), documents=frozenset({"policies/motor#0"}), last_seq=30)


def test_citations_the_case_does_not_hold_are_dropped_and_listed() -> None:
    checked = check_citations(
        "Waiting for review [#29]. Covered [policies/motor#0, policies/fake#2]. Called [#31] "
        "(see [note]) and [#0].", ["#29", "#77", "not a citation"], grounding())

    assert checked.citations == ("#29", "policies/motor#0")
    assert checked.dropped == ("policies/fake#2", "#31", "#0", "#77", "not a citation")
    assert checked.text == "Waiting for review [#29]. Covered [policies/motor#0]. Called (see [note]) and."


def test_a_reply_must_be_the_json_object_asked_for() -> None:
    good, problem = _parse('```json\n{"answer": "ok [#1]", "citations": ["#1"], "propose": null}\n```')
    assert good is not None and good.answer == "ok [#1]" and problem == ""
    assert _parse("Sure! The claim is fine.") == (None, "the reply is not a JSON object")
    missing, why = _parse('{"citations": []}')
    assert missing is None and "answer: Field required" in why


def test_an_invalid_reply_is_re_asked_once_then_the_records_answer(make_orch: OrchFactory) -> None:
    orch, store = make_orch()
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-3"})
    orch.run(case.id)
    with scripted_openai([Reply(text="The claim is fine."), Reply(text='{"answer": "Fine [#2]."}'),
                          Reply(text="nope"), Reply(text="still nope")]) as server:
        endpoint = EndpointSettings(base_url=server.url, max_retries=0)
        use_chat_model(orch, ChatModel(LLMClient({"default": endpoint}), "gpt-4o-mini"))
        fixed = converse(orch, case.id, "person:olga", "Status?")
        told = server.received[1]["messages"][-1]["content"]
        failed = converse(orch, case.id, "person:olga", "Status?")

    assert fixed.source == "model" and fixed.text == "Fine [#2]." and fixed.citations == ("#2",)
    assert told.startswith("That reply was rejected: the reply is not a JSON object")
    assert failed.source == "offline" and "the model's replies were invalid" in failed.text
    calls = [e for e in store.history(case.id) if e.kind == "llm_call"]
    assert len(calls) == 4 and all(c.payload["purpose"] == "chat" for c in calls)


def test_a_model_slower_than_its_timeout_leaves_the_answer_to_the_records(make_orch: OrchFactory) -> None:
    orch, store = make_orch()
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-3"})
    orch.run(case.id)
    with scripted_openai([Reply(text=json.dumps({"answer": "late"}), delay=2.0)]) as server:
        endpoint = EndpointSettings(base_url=server.url, max_retries=0, timeout=0.3, deadline=1.0)
        use_chat_model(orch, ChatModel(LLMClient({"default": endpoint}), "gpt-4o-mini"))
        turn = converse(orch, case.id, "person:olga", "What is the status?")

    assert turn.source == "offline" and "(timeout)" in turn.text
    assert "is active" in turn.text
    [error] = [e.payload for e in store.history(case.id) if e.kind == "error" and e.payload.get("source") == "chat"]
    assert error["detail"]["failure"]["kind"] == "timeout"


def test_the_offline_answer_proposes_only_a_possible_action_by_its_label() -> None:
    proposed = offline_answer(None, grounding(), "please plan Request more documents")  # type: ignore[arg-type]
    assert proposed.propose == "plan:docs"
    refused = offline_answer(None, grounding(), "please disburse the loan")  # type: ignore[arg-type]
    assert refused.propose is None and refused.text.startswith("I cannot do that")
    why = offline_answer(None, grounding(history=[  # type: ignore[arg-type]
        {"cite": "#7", "kind": "verdict", "actor": "agent", "what": "block: not on the allowlist"}]), "why?")
    assert why.text == "Recorded reasons: block: not on the allowlist (history #7)." and why.citations == ["#7"]
