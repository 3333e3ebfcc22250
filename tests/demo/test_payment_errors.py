"""The payment process handles the bank's refusals by their codes, and nothing else.

``payment.bpmn`` catches each code the bank refuses with by its own error boundary event:
``bank_unavailable`` waits a minute and pays again (once), ``declined`` goes to the payments
desk. No boundary event catches every error any more, so a guardrail blocking ``pay_claim``
(BPMN error ``blocked``) is not taken for a bank that was down and retried after the back-off:
its own boundary event stops the payment and the case waits for claims operations (the
operator role), the rule that fired in the history, nothing paid. An error code the model does
not know is not swallowed: the process fails.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from casepilot.agent.orchestrator import Person
from casepilot.bpmn import ManualClock
from casepilot.bpmn.runner import ProcessRunner
from casepilot.demo.payment_tools import BANK_ERROR_CODES, DemoBank, payment_tools
from casepilot.demo.run import EXAMPLE
from casepilot.errors import CasepilotError
from casepilot.governance import Verdict
from casepilot.tools import ToolRegistry
from tests.bpmn._payment import ListSink, payment_definitions
from tests.demo._clocked import Clocked, clocked_claims

PAY_TO = {"claim_id": "CLM-ERR", "payee": "Ann Lee", "iban": "DE89370400440532013000"}
SMALL_CLAIM = (
    "Dear claims team, a van scratched my parked car. The garage quotes EUR 640 for the repair. Thank you!"
)


def _allow(_request: Any) -> Verdict:
    return Verdict("allow", "test", "d", (), ())


def _start(bank: DemoBank, sink: ListSink, clock: ManualClock,
           govern: Callable[[Any], Verdict] = _allow) -> ProcessRunner:
    """The payment process of the 640 claim, on its own, every call governed by ``govern``."""
    return ProcessRunner.start(
        payment_definitions(),
        "payment",
        instance_id="case-err",
        data={**PAY_TO, "amount": 640, "claim": {"amount": 640}},
        tools=ToolRegistry(list(payment_tools(bank))),
        govern=govern,
        sink=sink,
        clock=clock,
    )


def _passed(sink: ListSink) -> list[str]:
    return [e.element or "" for e in sink.events if e.kind == "transition"]


def test_the_model_catches_the_bank_codes_by_name_and_nothing_else() -> None:
    catching = {}
    for spec in payment_definitions().process("payment").spec.task_specs.values():
        definition = getattr(spec, "event_definition", None)
        if type(spec).__name__ == "BoundaryEvent" and type(definition).__name__ == "ErrorEventDefinition":
            catching[spec.bpmn_id] = definition.code
    assert catching == {
        "pay_failed": "bank_unavailable",
        "pay_declined": "declined",
        "pay_blocked": "blocked",
        "pay_rejected": "rejected",
        "retry_failed": "bank_unavailable",
        "retry_declined": "declined",
        "retry_blocked": "blocked",
        "retry_rejected": "rejected",
    }
    assert set(catching.values()) == {
        *BANK_ERROR_CODES,
        "blocked",
        "rejected",
    }  # none without a code: none catches all


def test_a_bank_that_is_down_is_waited_out_and_the_claim_is_paid_once() -> None:
    clock = ManualClock(dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC))
    bank, sink = DemoBank(), ListSink()
    bank.fail_next("bank_unavailable")
    runner = _start(bank, sink, clock)
    assert runner.instance.active_elements() == ["backoff"] and bank.transfers == []
    [failed] = [e for e in sink.events if e.kind == "tool_call_failed"]
    assert failed.payload["error"]["code"] == "bank_unavailable" and "pay_failed" in _passed(sink)
    clock.advance(dt.timedelta(minutes=1))
    assert runner.advance() == "completed"
    assert bank.requests == ["CLM-ERR", "CLM-ERR"] and len(bank.transfers) == 1  # asked twice, paid once
    assert len(bank.advices) == 1 and {"pay_retry", "confirm", "paid"} <= set(_passed(sink))


def test_a_declined_transfer_goes_to_the_payments_desk_without_a_retry() -> None:
    clock = ManualClock()
    bank, sink = DemoBank(), ListSink()
    bank.fail_next("declined")
    runner = _start(bank, sink, clock)
    assert runner.instance.active_elements() == ["person"]
    [desk] = runner.instance.user_tasks()
    assert desk.role == "payments desk"
    assert "pay_declined" in _passed(sink) and "backoff" not in _passed(sink)
    clock.advance(dt.timedelta(hours=1))
    runner.advance()
    assert bank.requests == ["CLM-ERR"] and bank.transfers == []


@pytest.mark.parametrize("code", ["account_frozen", "failed"])
def test_an_error_code_the_model_does_not_know_fails_the_process(code: str) -> None:
    clock = ManualClock()
    bank, sink = DemoBank(), ListSink()
    bank.fail_next(code)
    runner = _start(bank, sink, clock)
    assert runner.status == "failed" and f"'{code}'" in (runner.failure or "")
    assert "pay_failed" not in _passed(sink) and "backoff" not in _passed(sink)
    clock.advance(dt.timedelta(hours=1))
    runner.advance()
    assert bank.requests == ["CLM-ERR"] and bank.transfers == []  # never retried, never paid


# -- a guardrail blocking pay_claim, through the claims case ---------------------------------------

FREEZE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="freeze" name="Payment freeze"
             namespace="https://casepilot.dev/tests/freeze">
  <decision id="payment_freeze" name="Payment freeze">
    <informationRequirement id="ir_tool"><requiredInput href="#tool"/></informationRequirement>
    <decisionTable id="dt_freeze" hitPolicy="FIRST">
      <input id="in_tool" label="tool"><inputExpression id="ie_tool" typeRef="string"><text>tool</text></inputExpression></input>
      <output id="o_verdict" name="verdict" typeRef="string"/>
      <output id="o_role" name="role" typeRef="string"/>
      <output id="o_reason" name="reason" typeRef="string"/>
      <rule id="payments_frozen">
        <inputEntry><text>"pay_claim"</text></inputEntry>
        <outputEntry><text>"block"</text></outputEntry><outputEntry><text>null</text></outputEntry>
        <outputEntry><text>"payments are frozen during the audit"</text></outputEntry>
      </rule>
      <rule id="anything_else">
        <inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"allow"</text></outputEntry><outputEntry><text>null</text></outputEntry>
        <outputEntry><text>"not a payment"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <inputData id="tool" name="tool"><variable name="tool" typeRef="string"/></inputData>
</definitions>
"""


@pytest.fixture
def frozen(tmp_path: Path) -> Iterator[Clocked]:
    """The claims example with a second guardrail that blocks every pay_claim."""
    folder = tmp_path / "claims"
    shutil.copytree(EXAMPLE, folder)
    (folder / "payment-freeze.dmn").write_text(FREEZE, encoding="utf-8")
    manifest = yaml.safe_load((folder / "casepilot.yaml").read_text(encoding="utf-8"))
    manifest["governance"]["guardrails"].append(
        {"file": "payment-freeze.dmn", "decision": "Payment freeze", "applies_to": ["tool_call"]}
    )
    (folder / "casepilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    with clocked_claims(folder, tmp_path / "cases.db") as opened:
        yield opened


def test_a_blocked_call_is_caught_by_its_own_boundary_and_never_retried() -> None:
    def freeze(request: Any) -> Verdict:
        kind = "block" if request.tool == "pay_claim" else "allow"
        return Verdict(kind, "payments are frozen", "d", ("freeze",), ("R9",))

    clock, bank, sink = ManualClock(), DemoBank(), ListSink()
    runner = _start(bank, sink, clock, freeze)
    assert runner.instance.active_elements() == ["blocked_review"]
    [review] = runner.instance.user_tasks()
    assert review.role == "claims operations"
    assert (
        "pay_blocked" in _passed(sink)
        and "backoff" not in _passed(sink)
        and runner.instance.next_timer() is None
    )
    runner.complete_user_task(review.task_id, {"resolution": "wait for the audit"}, actor="person:olga")
    assert runner.status == "completed" and "blocked" in runner.instance.completed_elements()
    assert bank.requests == [] and "receipt" not in runner.instance.data


def test_a_guardrail_block_of_the_payment_fails_closed_to_claims_operations_and_is_never_retried(
    frozen: Clocked,
) -> None:
    orch, store, bank, now = frozen
    case = orch.start_case("claim-triage", {"letter": SMALL_CLAIM, **PAY_TO})

    outcome = orch.run(case.id)

    assert bank.requests == []  # the bank was never asked
    [review] = outcome.pending  # the case waits for a named role
    assert (review.role, review.plan_item) == ("claims operations", "blocked_review")
    history = list(store.history(case.id))
    [verdict] = [e for e in history if e.kind == "verdict" and e.payload.get("tool") == "pay_claim"]
    assert verdict.payload["verdict"]["kind"] == "block" and "payments_frozen" in verdict.rule_ids
    [refused] = [e.payload for e in history if e.kind == "error" and e.payload.get("element") == "pay"]
    assert refused["code"] == "blocked" and "payments_frozen" in refused["problem"]
    passed = [
        e.payload["element"] for e in history if e.kind == "transition" and e.payload.get("engine") == "bpmn"
    ]
    assert "pay_blocked" in passed
    assert not {"pay_failed", "backoff", "pay_retry", "person"} & set(
        passed
    )  # not taken for a bank that was down

    # Time does not free it: no timer, no retry loop.
    now[0] += dt.timedelta(hours=2)
    [still] = orch.run(case.id).pending
    assert still.id == review.id
    assert bank.requests == []
    with pytest.raises(CasepilotError):  # the payments desk cannot take it: it is claims operations'
        orch.decide(review.id, Person("dana", {"payments desk"}), "complete", values={"resolution": "pay it"})
    orch.decide(
        review.id,
        Person("olga", {"claims operations"}),
        "complete",
        values={"resolution": "held until the audit ends"},
    )
    final = orch.run(case.id)
    assert bank.requests == [] and bank.transfers == []
    variables = store.case(case.id).state["engine"]["variables"]
    assert variables.get("receipt") is None  # nothing paid, the claim is not settled by a transfer
    settled = [
        e
        for e in store.history(case.id)
        if e.kind == "transition" and e.payload.get("name") == "Claim settled"
    ]
    assert all(e.payload["to_state"] != "Completed" for e in settled) and final.case_state == "completed"
    assert store.verify(case.id).ok


def test_a_payment_rejected_at_a_checkpoint_ends_refused_without_paying() -> None:
    def ask(request: Any) -> Verdict:
        if request.tool != "pay_claim":
            return Verdict("allow", "reads", "d", (), ())
        return Verdict("require_human", "check this payee", "d", ("p",), ("R1",), role="claims manager")

    clock, bank, sink = ManualClock(), DemoBank(), ListSink()
    runner = _start(bank, sink, clock, ask)
    [checkpoint] = runner.checkpoints()
    assert runner.decide(checkpoint, "reject", actor="person:max") == "completed"
    assert "pay_rejected" in _passed(sink) and "refused" in runner.instance.completed_elements()
    assert "backoff" not in _passed(sink) and bank.requests == []
