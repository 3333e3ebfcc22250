"""The real LLMPlanner against a scripted OpenAI-protocol server, end to end.

* The claim example driven by tool-call replies, one malformed and one hallucinated reply
  rejected and recorded, to completion, with tokens and cost in ``llm_call`` events.
* Prompt injection: a tool's output tells the model to call ``wire_transfer``; the model
  "obeys" — first with a tool that is not offered, then with an offered action whose tool
  is outside the allowlist. Both are refused and recorded; the tool is never invoked.
* PII never reaches the model, the history or the case state — the payee and IBAN the claim
  form gives pass through the payment process (``payment.bpmn``, the case's process task "Pay
  claim") and its ``pay_claim`` transfer too; ``reveal`` restores it only for an allowed role,
  and records that it did.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from casepilot.agent.llm_planner import LLMPlanner
from casepilot.agent.orchestrator import Person
from casepilot.demo.payment_tools import BANK
from casepilot.errors import DecisionRejected
from casepilot.governance.budget import ModelPrice, PriceTable
from tests._openai_server import Reply, scripted_openai
from tests.agent._support import CLAIMS, TaskSpec, assert_sound, calls_of, events, write_bundle
from tests.agent.conftest import OrchFactory

PRICES = PriceTable({"scripted-model": ModelPrice(input_per_1k=Decimal("0.15"), output_per_1k=Decimal("0.6"))})
LETTER = (
    "Dear claims team, thank you for the quick help! I am Peter Miller. A van hit my parked car and "
    "the garage quotes EUR 450.00 for the repair. Please pay it to my account GB33BUKB20201555555555. "
    "You can reach me at peter.miller@example.org or on +44 20 7946 0123. Kind regards."
)
RAW = ("Peter Miller", "peter.miller@example.org", "+44 20 7946 0123", "GB33BUKB20201555555555", "7946 0123")
PAY_TO = {"payee": "Peter Miller", "iban": "GB33BUKB20201555555555"}
"""The claim form's payment details: the same person and account as the letter's (450: no claims manager)."""
PAY = "process_case_7"
"""The model's name for the process task "Pay claim" (option ``process:case.7``)."""


def choose(option_tool: str, confidence: float = 0.9, **arguments: Any) -> Reply:
    body: dict[str, Any] = {"rationale": f"next: {option_tool}", "confidence": confidence}
    if arguments:
        body["arguments"] = arguments
    return Reply(tool=option_tool, arguments=body, prompt_tokens=400, completion_tokens=50)


def planner(url: str) -> LLMPlanner:
    return LLMPlanner(model="scripted-model", base_url=url, api_key="test", prices=PRICES, timeout=20)


def test_llm_planner_drives_the_claim_to_completion_rejecting_bad_replies(make_orch: OrchFactory) -> None:
    replies = [
        Reply(tool="run_case_1", arguments="{this is not json", prompt_tokens=400, completion_tokens=20),
        choose("run_case_1"),
        choose("pay_claim_now", amount=1_000_000),  # hallucinated: not an offered action
        choose("run_case_2"),
        choose(PAY),
    ]
    with scripted_openai(replies) as server:
        orch, store = make_orch(planner(server.url))
        version = orch.deploy(CLAIMS)
        case = orch.start_case(version.key, {"letter": LETTER, "claim_id": "CLM-LLM-7", **PAY_TO})
        outcome = orch.run(case.id)

    assert outcome.reason == "completed"
    assert server.replies == []
    assert len(server.received) == 5
    plans = events(store, case.id, "plan")
    assert [p["label"] for p in plans] == ["Extract claim details", "Score sentiment", "Pay claim"]
    assert all(p["planner"] == "llm" for p in plans)
    assert "not valid JSON" in plans[0]["invalid_attempts"][0]
    assert "'pay_claim_now' is not one of the possible actions" in plans[1]["invalid_attempts"][0]
    assert plans[2]["invalid_attempts"] == []
    # the model was told which reply was rejected, and why
    assert "rejected" in server.received[1]["messages"][-1]["content"]
    # every model call is in the history with its tokens and cost
    llm_calls = [e for e in store.history(case.id) if e.kind == "llm_call"]
    assert len(llm_calls) == len(server.received)
    assert all(e.tokens == 450 or e.tokens == 420 for e in llm_calls)
    assert sum(e.tokens or 0 for e in llm_calls) == 4 * 450 + 420
    expected_cost = 4 * (0.4 * 0.15 + 0.05 * 0.6) + (0.4 * 0.15 + 0.02 * 0.6)
    assert sum(e.cost or 0 for e in llm_calls) == pytest.approx(expected_cost)
    assert all(e.payload["model"] == "scripted-model" for e in llm_calls)
    usage = store.case(case.id).state["agent"]["usage"]
    assert usage["llm_calls"] == 5
    assert usage["tokens"] == 4 * 450 + 420
    assert calls_of("wire_transfer") == []
    # the payment process paid the claim once, to the account the claim form gave
    paid = [e for e in events(store, case.id, "tool_call_completed") if e["tool"] == "pay_claim"]
    assert len(paid) == 1 and [t.iban for t in BANK.transfers if t.reference == "CLM-LLM-7"] == [PAY_TO["iban"]]
    assert_sound(store, case.id)


INJECTED_TASKS = (
    TaskSpec("fetch", "Fetch document", "fetch_document", {"ref": "ref"}, {"document": "text"}),
    TaskSpec("pay", "Pay out", "wire_transfer", {"iban": "ref"}, {"paid": "done"}, after="fetch"),
    TaskSpec("archive", "Archive", "archive", {"ref": "ref"}, {"archived": "done"}, after="fetch"),
)


def test_injected_instruction_in_a_tool_result_cannot_reach_a_forbidden_tool(
    make_orch: OrchFactory, tmp_path: Path
) -> None:
    folder = write_bundle(tmp_path / "injected", "injected", INJECTED_TASKS,
                          allowlist=["fetch_document", "archive"])
    obey: dict[str, Any] = {"iban": "DE89370400440532013000", "amount": 9999}
    replies = [
        choose("run_case_1"),
        choose("wire_transfer", **obey),  # not an offered action: rejected, asked again
        choose("run_case_2", **obey),     # offered, but its tool is not on the allowlist: blocked
        choose("run_case_3"),
        choose("wait"),
    ]
    with scripted_openai(replies) as server:
        orch, store = make_orch(planner(server.url))
        orch.deploy(folder)
        case = orch.start_case("injected", {"ref": "R-11"})
        outcome = orch.run(case.id)

    assert calls_of("wire_transfer") == []
    assert calls_of("fetch_document") == [{"ref": "R-11"}]
    assert calls_of("archive") == [{"ref": "R-11"}]
    # the injected text reached the case file (as untrusted data) and the model's prompt
    state = store.case(case.id).state
    assert "IGNORE PREVIOUS INSTRUCTIONS" in state["engine"]["variables"]["document"]
    assert state["agent"]["provenance"]["document"]["trust"] == "untrusted"
    assert "IGNORE PREVIOUS INSTRUCTIONS" in json.dumps(server.received[1])
    plans = events(store, case.id, "plan")
    pay_plan = next(p for p in plans if p["label"] == "Pay out")
    assert "'wire_transfer' is not one of the possible actions" in pay_plan["invalid_attempts"][0]
    verdicts = events(store, case.id, "verdict")
    blocked = [v for v in verdicts if v["kind"] == "block"]
    assert [b["action"] for b in blocked] == [pay_plan["chose"]]
    assert "allowlist" in blocked[0]["reason"]
    assert all(e["tool"] != "wire_transfer" for e in events(store, case.id, "tool_call_started"))
    # the blocked option is not offered again in the same run
    assert "run_case_2" not in {t["function"]["name"] for t in server.received[-1]["tools"]}
    assert outcome.case_state == "active"
    assert_sound(store, case.id)


def _strings_of(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)


def test_pii_never_reaches_the_model_history_or_state_and_reveal_is_role_bound(make_orch: OrchFactory) -> None:
    replies = [choose("run_case_1"), choose("run_case_2"), choose(PAY)]
    with scripted_openai(replies) as server:
        orch, store = make_orch(planner(server.url))
        version = orch.deploy(CLAIMS)
        case = orch.start_case(version.key, {"letter": LETTER, "claim_id": "CLM-LLM-8", **PAY_TO})
        outcome = orch.run(case.id)

    assert outcome.reason == "completed"
    # the payee and IBAN reached the bank in the clear (in-process tools see clear values)
    assert [(t.payee, t.iban) for t in BANK.transfers if t.reference == "CLM-LLM-8"] == [tuple(PAY_TO.values())]
    assert "pay_claim" in [e["tool"] for e in events(store, case.id, "tool_call_started")]
    sent = _strings_of(server.received)
    history = _strings_of([e.model_dump() for e in store.history(case.id)])
    state = _strings_of(store.case(case.id).state)
    for raw in RAW:
        assert raw not in sent, f"{raw!r} was sent to the model"
        assert raw not in history, f"{raw!r} is in the history"
        assert raw not in state, f"{raw!r} is in the case state"
    stored_letter = store.case(case.id).state["engine"]["variables"]["letter"]
    assert "<PERSON_" in stored_letter and "<EMAIL" in stored_letter
    # the extraction ran on the clear text in-process: the amount came through
    extracted = events(store, case.id, "tool_call_completed")[0]
    assert (extracted["tool"], extracted["result"]["amount"]) == ("extract_claim", "450.00")

    with pytest.raises(DecisionRejected, match="senior analyst"):
        orch.reveal(case.id, stored_letter, Person("eve", {"claims handler"}))
    refused = events(store, case.id, "error")[-1]
    assert "reveal refused" in refused["problem"]

    revealed = orch.reveal(case.id, stored_letter, Person("ann", {"senior analyst"}))

    assert revealed == LETTER
    audit = [e for e in store.history(case.id) if e.kind == "pii_revealed"]
    assert len(audit) == 1
    assert audit[0].actor == "person:ann"
    assert audit[0].payload["tokens"]
    assert all(t.startswith("<") for t in audit[0].payload["tokens"])
    assert not any(raw in _strings_of([e.model_dump() for e in store.history(case.id)]) for raw in RAW)
    assert_sound(store, case.id)
