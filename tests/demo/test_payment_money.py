"""Money in the flagship payment process is exact: decimals from the case file to the bank and back.

The amount is a ``Decimal`` in the process data, in FEEL, in the DMN decision that sets the
approval level, in the tools' arguments (two places) and in the bank's ledger; the history
writes it as its text (``"1250.50"``), the stored state as a tagged decimal that loads back as
the same ``Decimal``. No float on the way: a float's ``999.7 + 0.2 + 0.1`` is just over 1,000
and would need a manager; the process's decimals say exactly 1,000 and pay it straight away.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from casepilot.bpmn import ManualClock, ProcessInstance, load_processes
from casepilot.bpmn._values import to_plain, typed_result
from casepilot.bpmn.runner import ProcessRunner
from casepilot.demo.payment_tools import DemoBank, PaymentReceipt, payment_tools
from casepilot.demo.run import run_demo
from casepilot.governance import Verdict
from casepilot.store import Store
from casepilot.store._canonical import canonical_json
from casepilot.tools import ToolRegistry
from tests.bpmn._payment import APPROVAL, ListSink, payment_definitions

PAY_TO = {"claim_id": "CLM-9", "payee": "Ann Lee", "iban": "DE89370400440532013000"}


def _allow(_request: Any) -> Verdict:
    return Verdict("allow", "test", "d", (), ())


def _start(bank: DemoBank, sink: ListSink, amount: Any) -> ProcessRunner:
    return ProcessRunner.start(
        payment_definitions(),
        "payment",
        instance_id="case-money",
        data={**PAY_TO, "amount": None, "claim": {"amount": amount}},
        tools=ToolRegistry(list(payment_tools(bank))),
        govern=_allow,
        sink=sink,
        clock=ManualClock(),
    )


def _floats(value: Any, where: str = "") -> Iterator[str]:
    """Where a float sits inside ``value`` (nothing: none)."""
    if isinstance(value, float):
        yield f"{where}={value!r}"
    elif isinstance(value, dict):
        for k, v in value.items():
            if k != "last_state_change":  # SpiffWorkflow's own clock reading, not data
                yield from _floats(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _floats(v, f"{where}[{i}]")


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _dicts(v)
    elif isinstance(value, list):
        for v in value:
            yield from _dicts(v)


def _decision_process(tmp_path: Path) -> Path:
    """A process whose business-rule task sets the approval level of a sum of parts (computed in FEEL)."""
    path = tmp_path / "sum.bpmn"
    path.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:cp="https://casepilot.dev/bpmn/extensions"
                  id="d" targetNamespace="https://casepilot.dev/tests/sum">
  <bpmn:process id="sum" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:businessRuleTask id="level" cp:decision="approval_level" cp:resultVariable="approval">
      <bpmn:extensionElements><cp:input name="amount">sum(parts)</cp:input></bpmn:extensionElements>
    </bpmn:businessRuleTask>
    <bpmn:userTask id="look" cp:role="clerk"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="level"/>
    <bpmn:sequenceFlow id="f2" sourceRef="level" targetRef="look"/>
    <bpmn:sequenceFlow id="f3" sourceRef="look" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
""",
        encoding="utf-8",
    )
    return path


def test_floats_summing_past_the_threshold_are_summed_exactly(tmp_path: Path) -> None:
    definitions = load_processes([_decision_process(tmp_path)], decisions=[APPROVAL])
    parts = [999.7, 0.2, 0.1]
    assert sum(parts) > 1000  # 1000.0000000000001 in floats: a manager for a 1,000 payment

    for given in (parts, [Decimal("999.70"), Decimal("0.20"), Decimal("0.10")]):
        process = ProcessInstance.start(definitions, "sum", data={"parts": given})
        assert process.data["approval"] == "auto", given
        assert all(isinstance(p, Decimal) for p in process.data["parts"])  # no float kept in the process


@pytest.mark.parametrize(
    ("amount", "level"),
    [
        (Decimal("1000.00"), "auto"),
        (Decimal("1000"), "auto"),
        (Decimal("999.99"), "auto"),
        (Decimal("1000.01"), "manager"),
        (Decimal("1250.50"), "manager"),
    ],
)
def test_the_approval_level_is_decided_on_the_exact_amount(amount: Decimal, level: str) -> None:
    bank, sink = DemoBank(), ListSink()
    runner = _start(bank, sink, amount)
    assert runner.instance.data["approval"] == level
    if level == "auto":
        assert [t.amount for t in bank.transfers] == [amount] and str(bank.transfers[0].amount).endswith(
            str(amount.quantize(Decimal("0.01")))
        )
    else:
        assert bank.requests == [] and runner.instance.active_elements() == ["approve"]


def test_an_amount_of_fractions_of_a_cent_is_neither_rounded_nor_paid() -> None:
    bank, sink = DemoBank(), ListSink()
    runner = _start(bank, sink, Decimal("1000.005"))
    assert runner.instance.active_elements() == ["fix"]  # a claims handler corrects it
    assert runner.instance.data["valid"] is False and bank.requests == []
    [checked] = [e for e in sink.events if e.kind == "tool_call_completed"]
    assert checked.payload["result"]["problems"] == [
        "the amount 1000.005 is not in whole cents (at most two decimal places)"
    ]
    # The DMN decision alone reads it exactly too: above 1,000.
    assert (
        payment_definitions()
        .decisions["approval_level"]
        .evaluate("approval_level", {"amount": Decimal("1000.005")})
        .value
        == "manager"
    )


def test_the_amount_is_a_decimal_everywhere_and_after_a_reload() -> None:
    bank, sink = DemoBank(), ListSink()
    runner = _start(bank, sink, Decimal("1250.50"))
    [approval] = runner.instance.user_tasks()
    assert runner.instance.data["claim"]["amount"] == Decimal("1250.50")

    # Stored: plain JSON (no default= needed), the amount tagged, and loaded back as the same Decimal.
    stored = json.loads(json.dumps(runner.state()))
    assert {"typename": "Decimal", "value": "1250.50"} in list(_dicts(stored["process"]))
    definitions = payment_definitions()
    again = ProcessRunner.resume(
        definitions,
        stored,
        tools=ToolRegistry(list(payment_tools(bank))),
        govern=_allow,
        sink=sink,
        clock=ManualClock(),
    )
    reloaded = again.instance.data["claim"]["amount"]
    assert isinstance(reloaded, Decimal) and str(reloaded) == "1250.50"
    assert canonical_json(stored) == canonical_json(json.loads(json.dumps(again.state())))  # same digest

    again.complete_user_task(approval.task_id, {"approved": True}, actor="person:max")
    assert again.status == "completed"
    [paid] = bank.transfers
    assert isinstance(paid.amount, Decimal) and str(paid.amount) == "1250.50"
    receipt = again.instance.data["receipt"]
    assert isinstance(receipt["amount"], Decimal) and str(receipt["amount"]) == "1250.50"  # and back

    # The history writes the amount as its text; nothing on the path is a float.
    started = [e.payload for e in sink.events if e.kind == "tool_call_started"]
    assert {p["tool"]: p["arguments"]["amount"] for p in started} == {
        "validate_payment": "1250.50",
        "pay_claim": "1250.50",
        "send_payment_confirmation": "1250.50",
    }
    assert list(_floats(again.instance.data, "data")) == []
    assert list(_floats([e.payload for e in sink.events], "events")) == []
    assert list(_floats(sink.batches[-1].state, "state")) == []
    for event in sink.events:
        canonical_json(event.payload)  # every payload hashes: JSON, amounts as text


def test_a_call_stored_as_started_keeps_its_decimal_arguments() -> None:
    """The runner's own record of a call (what the crash rule re-runs or shows a person) loads as decimals."""
    bank, sink = DemoBank(), ListSink()
    _start(bank, sink, Decimal("640.10"))
    started = next(
        b.state
        for b in sink.batches
        if any(c["status"] == "started" and c["tool"] == "pay_claim" for c in b.state["calls"].values())
    )
    stored = json.loads(json.dumps(started))
    runner = ProcessRunner(
        payment_definitions(),
        ProcessInstance.load(payment_definitions(), json.dumps(stored["process"]), process_id="payment"),
        instance_id="case-money",
        tools=ToolRegistry(list(payment_tools(bank))),
        govern=_allow,
        sink=ListSink(),
        state=stored,
    )
    [record] = runner.calls.values()
    assert record["arguments"]["amount"] == Decimal("640.10") and isinstance(
        record["arguments"]["amount"], Decimal
    )


def test_values_entering_a_process_hold_no_float() -> None:
    assert to_plain(
        {"a": 0.1, "b": [1250.5, 2], "c": Decimal("800.00"), "d": Decimal("3"), "e": float("nan")}
    ) == {"a": Decimal("0.1"), "b": [Decimal("1250.5"), 2], "c": Decimal("800.00"), "d": 3, "e": None}
    assert isinstance(to_plain(Decimal("3")), int) and str(to_plain(Decimal("800.00"))) == "800.00"
    # A tool's JSON result: the fields its model declares Decimal come back as decimals, nothing else changes.
    assert typed_result(PaymentReceipt, {"transfer_id": "TR-1", "amount": "1250.50"}) == {
        "transfer_id": "TR-1",
        "amount": Decimal("1250.50"),
    }
    assert typed_result(PaymentReceipt, {"transfer_id": "12.5", "amount": "n/a"}) == {
        "transfer_id": "12.5",
        "amount": "n/a",
    }


def test_the_store_refuses_a_bare_decimal_rather_than_guess() -> None:
    """The hash chain's canonical JSON takes no Decimal: every layer writes it first (history as text,
    states tagged), so no hash ever depends on how a float or a Decimal happened to print."""
    with pytest.raises(TypeError):
        canonical_json({"amount": Decimal("1250.50")})


def test_the_case_keeps_the_receipt_amount_as_a_decimal_after_a_reload(tmp_path: Path) -> None:
    from rich.console import Console

    bank = DemoBank()
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    results = run_demo(url, console=Console(file=open(tmp_path / "out.txt", "w")), bank=bank)  # noqa: SIM115
    case_id = next(iter(results))
    assert [str(t.amount) for t in bank.transfers] == ["1250.50", "800.00"]
    with Store.from_url(url) as store:
        variables = store.case(case_id).state["engine"]["variables"]
        assert variables["claim"]["amount"] == {"$decimal": "1250.50"}  # the case file's tagged decimal
        assert variables["receipt"]["amount"] == {
            "$decimal": "1250.50"
        }  # what the bank paid, back in the case
        paid = [
            e.payload
            for e in store.history(case_id)
            if e.kind == "tool_call_completed" and e.payload.get("tool") == "pay_claim"
        ]
        assert [p["result"]["amount"] for p in paid] == ["1250.50"]
        assert store.verify(case_id).ok


def test_a_tool_result_is_typed_by_field_name_or_alias_nested_and_in_lists() -> None:
    from pydantic import BaseModel, Field

    class Line(BaseModel):
        amount: Decimal

    class Statement(BaseModel):
        total: Decimal | None = Field(default=None, alias="Total")
        lines: list[Line] = []
        note: str = ""

    typed = typed_result(
        Statement, {"total": "10.10", "lines": [{"amount": "3.30"}, {"amount": "6.80"}], "note": "1.5"}
    )
    assert typed == {
        "total": Decimal("10.10"),
        "lines": [{"amount": Decimal("3.30")}, {"amount": Decimal("6.80")}],
        "note": "1.5",
    }
    assert typed_result(Statement, {"Total": "1.00"}) == {"Total": Decimal("1.00")}
