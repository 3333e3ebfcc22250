"""The payment process's tools and the demo bank: what they check, what they do, what they declare."""

from __future__ import annotations

from decimal import Decimal

import pytest

from casepilot.bpmn.runner import ServiceError
from casepilot.demo.payment_tools import PAYMENT_TOOLS, DemoBank, iban_problem, payment_tools
from casepilot.demo.tools import CLAIM_TOOLS
from casepilot.tools import ToolRegistry


def _registry(bank: DemoBank) -> ToolRegistry:
    return ToolRegistry(list(payment_tools(bank)))


@pytest.mark.parametrize("iban", ["DE89370400440532013000", "GB82 WEST 1234 5698 7654 32", "se4550000000058398257466"])
def test_well_formed_ibans_pass(iban: str) -> None:
    assert iban_problem(iban) is None


@pytest.mark.parametrize(("iban", "problem"), [
    ("DE89370400440532013001", "check digits are wrong"),
    ("DE8937040044053201300", "a DE IBAN has 22 characters, this one 21"),
    ("DE12", "not two letters, two check digits"),
    ("89DE370400440532013000", "not two letters, two check digits"),
])
def test_malformed_ibans_say_why(iban: str, problem: str) -> None:
    assert problem in (iban_problem(iban) or "")


def test_validation_lists_every_problem_as_an_answer_not_a_failure() -> None:
    tools = _registry(DemoBank())
    checked = tools.invoke("validate_payment", {"payee": " ", "iban": "DE12", "amount": -5}).output()
    assert checked["ok"] is False
    assert checked["problems"][0] == "no payee" and checked["problems"][2] == "the amount must be positive"
    assert tools.invoke("validate_payment", {}).output()["problems"] == ["no payee", "no IBAN", "no amount"]


def test_a_transfer_is_paid_once_per_call_and_shows_when_it_is_paid_twice() -> None:
    bank = DemoBank()
    tools = _registry(bank)
    args = {"payee": "Ann Lee", "iban": "DE89370400440532013000", "amount": "250.00", "reference": "CLM-1"}
    first = tools.invoke("pay_claim", args).output()
    again = DemoBank()
    assert _registry(again).invoke("pay_claim", args).output() == first  # deterministic
    second = tools.invoke("pay_claim", args).output()
    assert first["transfer_id"] != second["transfer_id"]  # non-idempotent: paying twice pays twice
    assert [t.amount for t in bank.transfers] == [Decimal("250.00")] * 2


def test_a_refusing_bank_throws_the_bpmn_error_and_pays_nothing() -> None:
    bank = DemoBank()
    bank.fail_next("bank_unavailable")
    [_, pay, _] = payment_tools(bank)
    assert pay.func is not None
    with pytest.raises(ServiceError) as refused:
        pay.func(pay.args_model.model_validate(
            {"payee": "Ann Lee", "iban": "DE89370400440532013000", "amount": 10, "reference": "R"}))
    assert refused.value.code == "bank_unavailable"
    assert bank.transfers == [] and bank.requests == ["R"] and bank.refusals == []


def test_a_confirmation_is_sent_once_per_transfer() -> None:
    bank = DemoBank()
    tools = _registry(bank)
    args = {"payee": "Ann Lee", "amount": 250, "receipt": "TR-ABC"}
    assert tools.invoke("send_payment_confirmation", args).output() == tools.invoke(
        "send_payment_confirmation", args).output() == {"sent": True, "message_id": "ADV-ABC"}
    assert list(bank.advices) == ["TR-ABC"]


def test_the_tools_declare_their_effects_for_governance_and_the_crash_rule() -> None:
    by_name = {t.name: t for t in PAYMENT_TOOLS}
    assert {n: t.side_effect for n, t in by_name.items()} == {
        "validate_payment": "read_only", "pay_claim": "non_idempotent", "send_payment_confirmation": "idempotent"}
    pay = by_name["pay_claim"]
    assert (pay.tags, pay.targets, pay.retry.max_attempts) == (("moves_money",), ("iban",), 1)
    assert set(by_name) <= {t.name for t in CLAIM_TOOLS}
