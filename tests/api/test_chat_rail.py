"""The output rail on chat answers: a ``message`` verdict of the bundle's guardrails (issue 17).

* A model answer claiming to have acted is refused (the chat only proposes).
* A model answer promising payment before the claim is approved is refused; the person sees
  the reason and the rule, the history keeps the blocked answer (pseudonymised) with the rule.
* An answer holding clear personal data is refused by the rail's PII rule — and even without
  a rule, clear personal data in an answer is pseudonymised before anyone sees it.
* Fail closed: a rail that returns something that is not a verdict blocks.
* A prompt governance does not allow never reaches the model: the answer comes from the records.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from casepilot.agent.chat_model import ChatModel, use_chat_model
from casepilot.agent.llm_client import LLMClient
from casepilot.agent.llm_endpoints import EndpointSettings
from casepilot.agent.orchestrator import Orchestrator
from casepilot.api import create_app
from casepilot.demo.run import EXAMPLE, LETTERS
from tests._openai_server import Reply, ScriptedOpenAI, scripted_openai
from tests.agent._support import strings_of
from tests.api._chat import ask

MESSAGE_RAIL = (EXAMPLE / "message-rail.dmn").read_text(encoding="utf-8")
"""The claim bundle's rail: no clear personal data, no promise of payment before approval, no claim that the
chat acted."""



def bundle(tmp_path: Path, rail: str | None) -> dict[str, str]:
    folder = tmp_path / "claims"
    shutil.copytree(EXAMPLE, folder)
    manifest = yaml.safe_load((folder / "casepilot.yaml").read_text(encoding="utf-8"))
    if rail is None:  # the bundle without its message rail
        manifest["governance"]["guardrails"] = [g for g in manifest["governance"]["guardrails"]
                                                if g["file"] != "message-rail.dmn"]
        (folder / "message-rail.dmn").unlink()
    else:
        (folder / "message-rail.dmn").write_text(rail, encoding="utf-8")
    (folder / "casepilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if p.is_file()}


@pytest.fixture
def model(orch: Orchestrator) -> Iterator[ScriptedOpenAI]:
    with scripted_openai([]) as server:
        endpoint = EndpointSettings(base_url=server.url, max_retries=0, backoff=0.0)
        use_chat_model(orch, ChatModel(LLMClient({"default": endpoint}), "gpt-4o-mini"))
        yield server


def start(client: TestClient, files: dict[str, str]) -> str:
    assert client.post("/definitions", json={"files": files}).status_code == 201
    started = client.post("/cases", json={"definition_key": "claim-triage",
                                          "variables": {"letter": LETTERS["senior-review"], "policy": "POL-3"}})
    case_id: str = started.json()["id"]
    assert client.post(f"/cases/{case_id}/run", json={}).json()["reason"] == "waiting_for_people"
    return case_id


def answer(text: str) -> Reply:
    return Reply(text=json.dumps({"answer": text, "citations": []}))


def rail_verdicts(orch: Orchestrator, case_id: str) -> list[Any]:
    return [e for e in orch.store.history(case_id) if e.kind == "verdict" and e.payload.get("action") == "message"]


def test_a_payment_promise_before_approval_is_refused_with_the_rule(
        client: TestClient, orch: Orchestrator, model: ScriptedOpenAI, tmp_path: Path) -> None:
    case_id = start(client, bundle(tmp_path, MESSAGE_RAIL))
    model.replies += [answer("Don't worry, you will be paid EUR 800 tomorrow."),
                      answer("A senior analyst still has to approve or reject the claim.")]

    refused = ask(client, case_id, "Will I get my money?")

    assert refused["refused"] and refused["rule_ids"] == ["no_payment_promise_before_approval"], refused
    assert refused["reply"] == ("I cannot give that answer: no promise of payment before the claim is approved "
                                "(rules: no_payment_promise_before_approval).")
    [verdict] = rail_verdicts(orch, case_id)
    assert verdict.payload["kind"] == "block" and verdict.rule_ids == ("no_payment_promise_before_approval",)
    assert verdict.payload["blocked_answer"] == "Don't worry, you will be paid EUR 800 tomorrow."
    recorded = [e.payload for e in orch.store.history(case_id) if e.kind == "chat_message"][-1]
    assert recorded["refused"] is True and recorded["text"] == refused["reply"]

    model.replies.insert(0, answer("Approving the payment now."))
    acted = ask(client, case_id, "Pay it now")
    assert acted["refused"] and acted["rule_ids"] == ["no_claim_of_action"]

    allowed = ask(client, case_id, "What happens next?")
    assert not allowed["refused"] and allowed["reply"] == "A senior analyst still has to approve or reject the claim."
    assert rail_verdicts(orch, case_id)[-1].rule_ids == ("message_ok",)


def test_clear_personal_data_in_an_answer_is_refused_or_pseudonymised(
        client: TestClient, orch: Orchestrator, model: ScriptedOpenAI, tmp_path: Path) -> None:
    case_id = start(client, bundle(tmp_path, MESSAGE_RAIL))
    model.replies.append(answer("The claimant is Mary Jones, phone +44 20 7946 0958."))

    refused = ask(client, case_id, "Who wrote the letter?")

    assert refused["refused"] and refused["rule_ids"] == ["no_clear_personal_data"]
    [verdict] = rail_verdicts(orch, case_id)
    assert "Mary Jones" not in strings_of(verdict.payload) and "7946" not in strings_of(verdict.payload)


def test_without_a_rail_clear_personal_data_is_still_pseudonymised(
        orch: Orchestrator, model: ScriptedOpenAI, tmp_path: Path) -> None:
    with TestClient(create_app(orch)) as client:
        case_id = start(client, bundle(tmp_path, None))
        model.replies.append(answer("The claimant is Mary Jones, phone +44 20 7946 0958."))
        shown = ask(client, case_id, "Who wrote the letter?")
    assert not shown["refused"]
    assert "Mary Jones" not in shown["reply"] and "<PERSON_" in shown["reply"] and "<PHONE_NUMBER_" in shown["reply"]


def test_a_rail_that_returns_no_verdict_blocks(client: TestClient, orch: Orchestrator, model: ScriptedOpenAI,
                                               tmp_path: Path) -> None:
    computed = MESSAGE_RAIL.replace('<outputEntry><text>"allow"</text></outputEntry>',
                                    '<outputEntry><text>upper case("maybe")</text></outputEntry>')
    case_id = start(client, bundle(tmp_path, computed))
    model.replies.append(answer("A senior analyst reviews the claim."))

    body = ask(client, case_id, "What happens next?")

    assert body["refused"] and "not one of" in body["reply"]
    assert rail_verdicts(orch, case_id)[-1].payload["kind"] == "block"


def test_a_prompt_governance_blocks_never_reaches_the_model(
        client: TestClient, orch: Orchestrator, model: ScriptedOpenAI, tmp_path: Path) -> None:
    files = bundle(tmp_path, None)
    manifest = yaml.safe_load(files["casepilot.yaml"])
    manifest["governance"]["budget"] = {"max_llm_calls": 0, "on_exceed": "block"}
    files["casepilot.yaml"] = yaml.safe_dump(manifest, sort_keys=False)
    case_id = start(client, files)

    body = ask(client, case_id, "What is the status?")

    assert body["source"] == "offline" and model.received == []
    assert "governance did not allow the model call" in body["reply"] and "budget" in body["reply"]
    refusal = [e.payload for e in orch.store.history(case_id) if e.kind == "verdict"
               and e.payload.get("action") == "llm_call"]
    assert refusal[-1]["kind"] == "block" and refusal[-1]["purpose"] == "chat"
