"""The flagship's payment is the BPMN process payment.bpmn, run by the claims case's process task.

``casepilot demo`` pays both claims through it (a claims manager approves the first, above
1,000; the bank refuses the second's first transfer and the process retries after its
back-off); the output shows the BPMN steps; each claim is paid exactly once, the receipt and
the confirmation land in the case file, and the histories verify. Through the case on SQLite,
a bank that refuses twice hands the payment to the payments desk (error boundary → timer →
retry → person), and a wrong IBAN goes to a claims handler who corrects it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from casepilot.agent.orchestrator import Person
from casepilot.demo.payment_tools import DemoBank
from casepilot.demo.run import CLAIMANTS, EXAMPLE, demo_registry, run_demo
from casepilot.store import Store
from tests.demo._clocked import Clocked, clocked_claims

SMALL_CLAIM = "Dear claims team, a van scratched my parked car. The garage quotes EUR 640 for the repair. Thank you!"
PAY_TO = {"claim_id": "CLM-7", "payee": "Ann Lee", "iban": "DE89370400440532013000"}


def _bpmn(store: Store, case_id: str, kind: str) -> list[dict[str, Any]]:
    return [dict(e.payload) for e in store.history(case_id) if e.kind == kind and e.payload.get("engine") == "bpmn"]


def test_the_demo_pays_each_claim_once_through_the_payment_process(tmp_path: Path) -> None:
    bank = DemoBank()
    console = Console(record=True, width=220)
    url = f"sqlite:///{tmp_path / 'demo.db'}"

    results = run_demo(url, console=console, bank=bank)

    assert list(results.values()) == ["completed", "completed"]
    # Paid exactly once each, to the clear payee and account (the tool saw them; the case keeps pseudonyms).
    assert [(t.payee, t.iban, t.amount, t.reference) for t in bank.transfers] == [
        ("John Smith", "DE89370400440532013000", Decimal("1250.50"), "CLM-2026-0042"),
        ("Mary Jones", "GB82WEST12345698765432", Decimal("800"), "CLM-2026-0043")]
    assert bank.requests == ["CLM-2026-0042", "CLM-2026-0043", "CLM-2026-0043"]  # the second was refused once
    assert sorted(bank.advices) == sorted(t.transfer_id for t in bank.transfers)
    out = console.export_text()
    assert "for a claims manager → Max Manager decides 'complete' (approved=True)" in out
    assert "the payment process waits a minute before it pays again" in out
    for line in ("payment/level (business-rule task): complete", "payment/approve (user task): complete",
                 "payment/pay_failed (interrupting error boundary event): complete",
                 "payment/backoff (timer intermediate catch event): complete",
                 "payment/pay_retry (service task): complete", "payment/paid (end event): complete",
                 "allow: a senior analyst approved the claim — pay_claim at payment/pay_retry"):
        assert line in out
    assert "None: ∅ → None" not in out
    assert out.count("history verified: True") == 2
    assert "John Smith" not in out and "Mary Jones" not in out

    with Store.from_url(url) as store:
        for case_id, transfer in zip(results, bank.transfers, strict=True):
            assert store.verify(case_id).ok
            state = store.case(case_id).state
            variables = state["engine"]["variables"]
            assert variables["receipt"]["transfer_id"] == transfer.transfer_id
            assert variables["confirmation"] == {"sent": True, "message_id": "ADV-" + transfer.transfer_id[3:]}
            assert variables["payee"] != transfer.payee  # pseudonymised in the case file
            assert state["agent"]["processes"] == {}  # the process ended with the task
            started = [p for p in _bpmn(store, case_id, "tool_call_started") if p["tool"] == "pay_claim"]
            completed = [p for p in _bpmn(store, case_id, "tool_call_completed") if p["tool"] == "pay_claim"]
            assert len(completed) == 1 and completed[0]["result"]["transfer_id"] == transfer.transfer_id
            assert len(started) == bank.requests.count(transfer.reference)
            items = {e.payload.get("name"): e.payload.get("to_state") for e in store.history(case_id)
                     if e.kind == "transition" and e.payload.get("name") in ("Pay claim", "Claim settled")}
            assert items == {"Pay claim": "Completed", "Claim settled": "Completed"}
            # The verdict says where each argument came from: the IBAN from the claim form (the request).
            [pay_verdict, *_] = [p for p in _bpmn(store, case_id, "verdict") if p["tool"] == "pay_claim"]
            assert pay_verdict["provenance"]["iban"] == ["trusted", "request"]
            assert started[0]["arguments"]["iban"].startswith("<IBAN_CODE_")  # the value itself stays pseudonymised
        [refused] = [p for case_id in results for p in _bpmn(store, case_id, "tool_call_failed")]
        assert (refused["element"], refused["error"]["code"]) == ("pay", "bank_unavailable")


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[Clocked]:
    with clocked_claims(EXAMPLE, tmp_path / "cases.db") as opened:
        yield opened


def test_a_bank_refusing_twice_hands_the_payment_to_the_payments_desk(
        clocked: Clocked) -> None:
    orch, store, bank, now = clocked
    bank.fail_next("bank_unavailable", "declined")
    case = orch.start_case("claim-triage", {"letter": SMALL_CLAIM, **PAY_TO})

    outcome = orch.run(case.id)

    # 640 is under 1,000: no manager; the first transfer is refused and the process waits its back-off.
    assert (outcome.reason, outcome.pending) == ("waiting_for_events", ())
    assert bank.requests == ["CLM-7"] and bank.transfers == []
    now[0] += dt.timedelta(seconds=59)
    assert orch.run(case.id).reason == "waiting_for_events" and bank.requests == ["CLM-7"]
    now[0] += dt.timedelta(seconds=2)
    outcome = orch.run(case.id)
    assert bank.requests == ["CLM-7", "CLM-7"] and bank.transfers == []
    [desk] = outcome.pending
    assert (desk.kind, desk.role, desk.plan_item) == ("human_task", "payments desk", "person")
    failures = [(p["element"], p["error"]["code"]) for p in _bpmn(store, case.id, "tool_call_failed")]
    assert failures == [("pay", "bank_unavailable"), ("pay_retry", "declined")]
    passed = [p["element"] for p in _bpmn(store, case.id, "transition")]
    assert passed[passed.index("pay_failed"):] == ["pay_failed", "backoff", "retry_declined"]  # each code its boundary

    orch.decide(desk.id, Person("dana", {"payments desk"}), "complete", values={"outcome": "paid by phone"})
    final = orch.run(case.id)

    assert final.case_state == "completed"
    variables = store.case(case.id).state["engine"]["variables"]
    assert variables["outcome"] == "paid by phone" and variables.get("receipt") is None
    assert variables.get("confirmation") is None and bank.advices == {}  # nothing confirmed: nothing paid
    settled = [e for e in store.history(case.id) if e.kind == "transition" and e.payload.get("name") == "Claim settled"]
    assert settled[-1].payload["to_state"] == "Terminated"  # the case ends, but not as settled by transfer
    assert "paid_by_hand" in [p["element"] for p in _bpmn(store, case.id, "transition")]
    assert store.verify(case.id).ok


def test_a_wrong_iban_goes_to_a_claims_handler_who_corrects_it(
        clocked: Clocked) -> None:
    orch, store, bank, _now = clocked
    case = orch.start_case("claim-triage", {"letter": SMALL_CLAIM, **PAY_TO, "iban": "DE89370400440532013001"})

    outcome = orch.run(case.id)

    [fix] = outcome.pending
    assert (fix.role, fix.plan_item) == ("claims handler", "fix")
    [checked] = [p for p in _bpmn(store, case.id, "tool_call_completed") if p["tool"] == "validate_payment"]
    assert checked["result"] == {"ok": False, "problems": ["the IBAN's check digits are wrong (a typing error?)"]}
    assert bank.requests == []
    orch.decide(fix.id, Person("lee", {"claims handler"}), "complete",
                values={"payee": "Ann Lee", "iban": "DE89370400440532013000", "amount": 640})

    assert orch.run(case.id).case_state == "completed"
    [paid] = bank.transfers
    assert (paid.payee, paid.iban, paid.amount) == ("Ann Lee", "DE89370400440532013000", Decimal(640))
    assert store.verify(case.id).ok


def test_a_claims_manager_refusing_pays_nothing_and_the_claim_is_not_settled(
        clocked: Clocked) -> None:
    orch, store, bank, _now = clocked
    letter = "Dear claims team, the garage quotes EUR 2,400 for the new bumper. Thank you!"
    case = orch.start_case("claim-triage", {"letter": letter, **PAY_TO})

    [approval] = orch.run(case.id).pending
    assert (approval.role, approval.plan_item) == ("claims manager", "approve")
    orch.decide(approval.id, Person("max", {"claims manager"}), "complete", values={"approved": False})

    assert orch.run(case.id).case_state == "completed"
    assert bank.requests == [] and store.case(case.id).state["engine"]["variables"].get("receipt") is None
    assert not any(e.payload.get("name") == "Claim settled" and e.payload.get("to_state") == "Completed"
                   for e in store.history(case.id))
    assert store.verify(case.id).ok


def test_the_demo_claimants_validate() -> None:
    """The demo's claim forms hold accounts the payment process accepts (no clerk needed to run the demo)."""
    tools = demo_registry(DemoBank())
    for claimant in CLAIMANTS.values():
        checked = tools.invoke("validate_payment", {"payee": claimant["payee"], "iban": claimant["iban"], "amount": 1})
        assert checked.output() == {"ok": True, "problems": []}


def test_the_payment_pays_the_claim_amount_as_corrected_before_it_started(
        clocked: Clocked) -> None:
    """The process reads the case's ``claim.amount`` (what the routing and the guardrail read), so an
    operator's correction is what the bank pays — not a copy taken when the letter was read."""
    from casepilot.agent import operations

    orch, store, bank, _now = clocked
    letter = "Dear claims team, the garage quotes EUR 24,000 for the repair. Thank you!"
    case = orch.start_case("claim-triage", {"letter": letter, **PAY_TO})
    [review] = orch.run(case.id).pending  # over 10,000: a senior analyst first
    operations.correct(orch, case.id, Person("olga", {"claims operations"}), "claim.amount", 2400,
                       "the garage's quote is 2,400; the letter had a typo")
    orch.decide(review.id, Person("ann", {"senior analyst"}), "approve", "quote checked")
    [approval] = orch.run(case.id).pending
    assert approval.role == "claims manager"  # 2,400 is over 1,000
    orch.decide(approval.id, Person("max", {"claims manager"}), "complete", values={"approved": True})

    assert orch.run(case.id).case_state == "completed"
    assert [t.amount for t in bank.transfers] == [Decimal(2400)]
    assert store.verify(case.id).ok
