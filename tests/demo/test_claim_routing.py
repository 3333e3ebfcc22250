"""The extractor's reading decides the flagship case's route, through the real deployed bundle.

examples/claims routes a claim to a senior analyst when ``claim.amount > 10000`` or
``claim.confidence < 0.75`` (the ``s_needs_review`` sentry of claim-triage.cmmn; the DMN
guardrail repeats the confidence rule for every tool call). A 25,000 EUR claim written as
"EUR 25000" used to be read as 250 with confidence 0.95 and paid straight through. These
tests deploy the real bundle into SQLite and work letters with the real Orchestrator, the
demo's tool registry and the offline RulePlanner. The claim is paid by the case's payment
process (payment.bpmn): ``pay_claim`` at the demo bank, after a claims manager's approval when
the amount is over 1,000.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.rule_planner import RulePlanner
from casepilot.demo.payment_tools import DemoBank
from casepilot.demo.run import EXAMPLE, demo_registry
from casepilot.store import Store
from casepilot.tools import ToolRegistry

PAY_TO = {"payee": "Ann Lee", "iban": "DE89370400440532013000"}
"""Where the claim form says to pay (the payment process validates it)."""
MANAGER = Person("max", {"claims manager"})


@pytest.fixture(scope="module")
def bank() -> DemoBank:
    return DemoBank()


@pytest.fixture(scope="module")
def registry(bank: DemoBank) -> ToolRegistry:
    return demo_registry(bank)


@pytest.fixture
def orch(registry: ToolRegistry, tmp_path: Path) -> Iterator[tuple[Orchestrator, Store]]:
    store = Store.from_url(f"sqlite:///{tmp_path / 'cases.db'}")
    orchestrator = Orchestrator(store, registry, RulePlanner())
    orchestrator.deploy(EXAMPLE)
    yield orchestrator, store
    orchestrator.close()
    store.close()


def _payloads(store: Store, case_id: str, kind: str) -> list[dict[str, Any]]:
    return [dict(e.payload) for e in store.history(case_id) if e.kind == kind]


def _tool_result(store: Store, case_id: str, tool: str) -> dict[str, Any]:
    [result] = [p["result"] for p in _payloads(store, case_id, "tool_call_completed") if p["tool"] == tool]
    return dict(result)


def _manager_approves(orchestrator: Orchestrator, case_id: str) -> None:
    """Above 1,000 the payment process waits for a claims manager (payment-approval.dmn); one approves."""
    [task] = orchestrator.pending(case_id)
    assert (task.role, task.plan_item) == ("claims manager", "approve")
    orchestrator.decide(task.id, MANAGER, "complete", values={"approved": True})


def _sentries_fired(store: Store, case_id: str, item: str) -> list[str]:
    return [str(p) for p in _payloads(store, case_id, "transition") if p.get("name") == item]


@pytest.mark.parametrize("written", ["EUR 25000", "25.000,00 €", "€25k"])
def test_a_25000_eur_claim_goes_to_the_senior_analyst_before_it_is_paid(
        orch: tuple[Orchestrator, Store], written: str) -> None:
    orchestrator, store = orch
    letter = f"Dear claims team, a truck hit my parked car. The garage quotes {written} for the repair. Thank you!"
    case = orchestrator.start_case("claim-triage", {"letter": letter, "claim_id": "CLM-42", **PAY_TO})

    outcome = orchestrator.run(case.id)

    extracted = _tool_result(store, case.id, "extract_claim")
    assert Decimal(extracted["amount"]) == Decimal(25000)
    assert (extracted["currency"], extracted["confidence"], extracted["amounts_found"]) == ("EUR", 0.95, 1)
    # confident and friendly: the amount alone is what sends it to a person
    assert _tool_result(store, case.id, "sentiment")["compound"] >= 0
    assert outcome.reason == "waiting_for_people"
    [task] = outcome.pending
    assert (task.plan_item, task.role) == ("Senior analyst review", "senior analyst")
    assert any("s_needs_review" in t for t in _sentries_fired(store, case.id, "Senior analyst review"))
    assert all(p["tool"] != "pay_claim" for p in _payloads(store, case.id, "tool_call_started"))

    orchestrator.decide(task.id, Person("ann", {"senior analyst"}), "approve", "garage invoice checked")
    orchestrator.run(case.id)
    _manager_approves(orchestrator, case.id)
    resumed = orchestrator.run(case.id)

    assert resumed.case_state == "completed"
    paid = _tool_result(store, case.id, "pay_claim")
    assert Decimal(paid["amount"]) == Decimal(25000)
    assert store.verify(case.id).ok


def test_a_small_claim_in_european_notation_is_paid_without_a_senior_analyst(
        orch: tuple[Orchestrator, Store], bank: DemoBank) -> None:
    orchestrator, store = orch
    letter = "Dear claims team, the garage in Munich quotes 1.250,50 € for the repair. Thank you!"
    case = orchestrator.start_case("claim-triage", {"letter": letter, "claim_id": "CLM-43", **PAY_TO})

    outcome = orchestrator.run(case.id)

    assert outcome.reason == "waiting_for_people"  # only the payment's approval: over 1,000
    _manager_approves(orchestrator, case.id)
    assert orchestrator.run(case.id).case_state == "completed"
    extracted = _tool_result(store, case.id, "extract_claim")
    assert (extracted["amount"], extracted["currency"]) == ("1250.50", "EUR")
    assert [(t.reference, t.amount) for t in bank.transfers if t.reference == "CLM-43"] == [
        ("CLM-43", Decimal("1250.50"))]


def test_a_letter_with_several_amounts_goes_to_a_person_even_when_small(orch: tuple[Orchestrator, Store]) -> None:
    orchestrator, store = orch
    letter = ("Thanks for the quick reply. My deductible is EUR 500 and the repair of the door "
              "costs EUR 3,000 according to the garage.")
    case = orchestrator.start_case("claim-triage", {"letter": letter, "claim_id": "CLM-44", **PAY_TO})

    outcome = orchestrator.run(case.id)

    extracted = _tool_result(store, case.id, "extract_claim")
    assert (extracted["amount"], extracted["amounts_found"]) == ("3000", 2)
    assert extracted["confidence"] < 0.75
    assert _tool_result(store, case.id, "sentiment")["compound"] >= 0
    assert outcome.reason == "waiting_for_people"
    assert [(t.plan_item, t.role) for t in outcome.pending] == [("Senior analyst review", "senior analyst")]
    assert all(p["tool"] != "pay_claim" for p in _payloads(store, case.id, "tool_call_started"))


def test_a_letter_in_german_is_not_paid_without_a_person(orch: tuple[Orchestrator, Store]) -> None:
    """The sentiment tool scores English sentences only: a German letter has no sentiment reading,
    and an unknown signal must not count as a friendly one."""
    orchestrator, store = orch
    letter = "Sehr geehrte Damen und Herren, die Werkstatt verlangt 1.250,50 EUR für die Reparatur. Danke!"
    case = orchestrator.start_case("claim-triage", {"letter": letter, "claim_id": "CLM-45", **PAY_TO})

    outcome = orchestrator.run(case.id)

    sentiment = _tool_result(store, case.id, "sentiment")
    assert (sentiment["scored"], sentiment["language"]) == (False, "de")
    assert outcome.reason == "waiting_for_people"
    assert [(t.plan_item, t.role) for t in outcome.pending] == [("Senior analyst review", "senior analyst")]
    assert all(p["tool"] != "pay_claim" for p in _payloads(store, case.id, "tool_call_started"))
