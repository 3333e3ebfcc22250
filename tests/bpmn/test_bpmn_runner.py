"""The process runner: the flagship payment through governed service tasks, its events and batches,
the retry/back-off/person path, provenance routing a document's payee to a person, fail-closed
governance, and form checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import BaseModel

from casepilot.bpmn import ManualClock
from casepilot.bpmn.events import ProcessEvent
from casepilot.bpmn.runner import ProcessRunner, ServiceRequest, governed_by
from casepilot.errors import DecisionRejected, UnknownPlanItem
from casepilot.governance import GovernanceContext, Governor, Verdict
from casepilot.tools import Provenance

from ._models import process
from ._payment import CLAIM, Bank, ListSink, payment_definitions

DEFS = payment_definitions()


def allow(request: ServiceRequest) -> Verdict:
    return Verdict("allow", "ok", "digest", ("test",), ())


def start(bank: Bank, sink: ListSink, data: dict[str, Any] | None = None, *, govern: Any = allow,
          clock: ManualClock | None = None, **kw: Any) -> ProcessRunner:
    return ProcessRunner.start(DEFS, "payment", instance_id="case-1", tools=bank.registry(), govern=govern,
                               sink=sink, data=data or CLAIM, clock=clock, **kw)


def kinds(events: list[ProcessEvent], element: str) -> list[str]:
    return [e.kind for e in events if e.element == element]


def test_small_payment_runs_through_and_every_service_task_is_two_batches() -> None:
    bank, sink = Bank(), ListSink()
    runner = start(bank, sink)
    assert runner.status == "completed"
    assert [c[0] for c in bank.calls] == ["validate_payment", "pay_claim", "send_payment_confirmation"]
    assert runner.instance.data["approval"] == "auto"
    assert runner.instance.data["receipt"] == {"transfer_id": "T-1"}
    # One batch before each tool runs (the call recorded as started), one after it.
    reasons = [b.reason for b in sink.batches]
    assert reasons == ["started", "service_task", "service_task", "service_task", "service_task", "service_task"]
    assert [e.kind for e in sink.batches[0].events][-2:] == ["verdict", "tool_call_started"]
    assert sink.batches[0].state["calls"][sink.batches[0].events[-1].payload["token"]]["status"] == "started"
    assert kinds(sink.events, "pay") == ["verdict", "tool_call_started", "tool_call_completed", "transition"]
    started = next(e for e in sink.events if e.kind == "tool_call_started" and e.element == "pay")
    assert started.payload["arguments"] == {"payee": "Ann Smith", "iban": "DE89370400440532013000", "amount": 500,
                                            "reference": "C-17"}
    assert started.payload["side_effect"] == "non_idempotent"
    assert started.payload["engine"] == "bpmn" and started.payload["process"] == "payment"
    assert started.payload["instance"] == "case-1" and started.payload["call_id"] == started.payload["token"]
    # Every element the token passed is one transition event, in order.
    transitions = [e.element for e in sink.events if e.kind == "transition"]
    assert transitions == ["start", "validate", "gw_valid", "level", "gw_level", "pay", "confirm", "paid"]
    assert sink.batches[-1].status == "completed" and sink.batches[-1].state["status"] == "completed"


def test_payment_fails_then_retries_after_the_backoff_then_goes_to_the_payments_desk() -> None:
    clock = ManualClock(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC))
    bank, sink = Bank(pay_outcomes=["bank_unavailable", "declined"]), ListSink()
    runner = start(bank, sink, clock=clock)
    assert runner.status == "waiting" and runner.instance.active_elements() == ["backoff"]
    assert runner.instance.next_timer() == clock.now + dt.timedelta(minutes=1)  # when a worker comes back
    failed = next(e for e in sink.events if e.kind == "tool_call_failed")
    assert failed.element == "pay" and failed.payload["error"]["code"] == "bank_unavailable"
    assert failed.payload["error"]["effect_unknown"] is False  # the tool said what happened: a BPMN error
    clock.advance(dt.timedelta(seconds=59))
    assert runner.advance() == "waiting" and [c[0] for c in bank.calls].count("pay_claim") == 1
    clock.advance(dt.timedelta(seconds=1))
    runner.advance()
    assert [c[0] for c in bank.calls].count("pay_claim") == 2
    assert runner.instance.active_elements() == ["person"]
    opened = [e for e in sink.events if e.opens is not None]
    assert [(o.opens.kind, o.opens.role, o.opens.element) for o in opened if o.opens] == [
        ("human_task", "payments desk", "person")]
    task_id = opened[0].opens.task_id if opened[0].opens else ""
    with pytest.raises(DecisionRejected, match="'outcome' is required"):
        runner.complete_user_task(task_id, {}, actor="person:dana")
    assert runner.complete_user_task(task_id, {"outcome": "paid by phone"}, actor="person:dana") == "completed"
    closed = [e for e in sink.events if e.closes is not None]
    assert closed[-1].closes is not None and closed[-1].closes.decided_by == "person:dana"
    assert "paid_by_hand" in runner.instance.completed_elements()
    assert "confirm" not in runner.instance.completed_elements()
    assert runner.provenance["outcome"] == Provenance.trusted("person:dana")


def test_a_retry_that_succeeds_confirms_the_payment() -> None:
    clock = ManualClock()
    bank, sink = Bank(pay_outcomes=["bank_unavailable"]), ListSink()
    runner = start(bank, sink, clock=clock)
    clock.advance(dt.timedelta(minutes=1))
    assert runner.advance() == "completed"
    assert {"pay_retry", "confirm", "paid"} <= set(runner.instance.completed_elements())
    assert runner.instance.data["receipt"] == {"transfer_id": "T-2"}


def test_a_large_payment_waits_for_a_claims_manager() -> None:
    bank, sink = Bank(), ListSink()
    runner = start(bank, sink, {**CLAIM, "amount": 5000})
    assert runner.instance.data["approval"] == "manager"
    [item] = runner.instance.user_tasks()
    assert (item.element_id, item.role) == ("approve", "claims manager")
    assert runner.instance.next_timer() is None
    assert "pay_claim" not in [c[0] for c in bank.calls]
    assert runner.complete_user_task(item.task_id, {"approved": False}, actor="person:max") == "completed"
    assert "refused" in runner.instance.completed_elements() and "pay_claim" not in [c[0] for c in bank.calls]


def test_a_wrong_iban_goes_to_a_person_who_corrects_it() -> None:
    bank, sink = Bank(), ListSink()
    runner = start(bank, sink, {**CLAIM, "iban": "DE12"})
    [item] = runner.instance.user_tasks()
    assert (item.element_id, item.role) == ("fix", "claims handler")
    runner.complete_user_task(item.task_id, {"payee": "Ann Smith", "iban": "DE89370400440532013000", "amount": 500},
                              actor="person:lee")
    assert runner.status == "completed"
    assert [c[0] for c in bank.calls].count("validate_payment") == 2


READ_THEN_PAY = process("""
<bpmn:startEvent id="s"/>
<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="read"/>
<bpmn:serviceTask id="read" cp:tool="read_document" cp:resultVariable="doc">
  <bpmn:extensionElements><cp:input name="document">document</cp:input></bpmn:extensionElements>
</bpmn:serviceTask>
<bpmn:sequenceFlow id="f1" sourceRef="read" targetRef="pay"/>
<bpmn:serviceTask id="pay" cp:tool="pay_claim" cp:resultVariable="receipt">
  <bpmn:extensionElements>
    <cp:input name="payee">doc.payee</cp:input><cp:input name="iban">doc.iban</cp:input>
    <cp:input name="amount">amount</cp:input><cp:input name="reference">"R-1"</cp:input>
  </bpmn:extensionElements>
</bpmn:serviceTask>
<bpmn:boundaryEvent id="refused" attachedToRef="pay"><bpmn:errorEventDefinition/></bpmn:boundaryEvent>
<bpmn:sequenceFlow id="f2" sourceRef="pay" targetRef="e"/>
<bpmn:sequenceFlow id="f3" sourceRef="refused" targetRef="not_paid"/>
<bpmn:endEvent id="e"/>
<bpmn:endEvent id="not_paid"/>""", pid="docpay")


def _docpay(bank: Bank, sink: ListSink, govern: Any) -> ProcessRunner:
    from casepilot.bpmn import load_processes

    return ProcessRunner.start(load_processes(READ_THEN_PAY), instance_id="case-2", tools=bank.registry(),
                               govern=govern, sink=sink, data={"document": "letter.pdf", "amount": 900})


GOVERNOR = Governor(provenance_role="payments desk", max_repeats=None)
CONTEXT = GovernanceContext(definition_key="docpay", definition_version=1)


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_payee_read_from_a_document_goes_to_a_person_by_the_provenance_rule(decision: str) -> None:
    bank, sink = Bank(), ListSink()
    runner = _docpay(bank, sink, governed_by(GOVERNOR, CONTEXT))
    assert [c[0] for c in bank.calls] == ["read_document"]  # the payment waits
    verdict = next(e for e in sink.events if e.kind == "verdict" and e.element == "pay")
    assert verdict.payload["verdict"]["kind"] == "require_human"
    assert verdict.payload["untrusted_arguments"] == ["iban", "payee"]
    assert verdict.payload["provenance"]["payee"] == ["untrusted", "tool:read_document"]
    assert verdict.payload["provenance"]["amount"] == ["trusted", "request"]
    assert verdict.payload["provenance"]["reference"] == ["trusted", "model:pay"]
    [(checkpoint_id, record)] = runner.checkpoints().items()
    assert record["role"] == "payments desk"
    opened = next(e.opens for e in sink.events if e.opens is not None and e.opens.kind == "checkpoint")
    assert opened is not None and opened.role == "payments desk" and opened.options == ("approve", "reject")
    assert "GB00EVIL00000000000001" in opened.prompt and "UNTRUSTED" in opened.prompt
    with pytest.raises(DecisionRejected):
        runner.decide(checkpoint_id, "maybe", actor="person:dana")
    runner.decide(checkpoint_id, decision, actor="person:dana")
    assert runner.status == "completed"
    if decision == "approve":
        assert [c[0] for c in bank.calls] == ["read_document", "pay_claim"]
        assert "e" in runner.instance.completed_elements()
    else:
        assert [c[0] for c in bank.calls] == ["read_document"]
        assert "not_paid" in runner.instance.completed_elements()
    with pytest.raises(UnknownPlanItem):
        runner.decide(checkpoint_id, "approve", actor="person:dana")


def test_trusted_arguments_pass_the_provenance_rule() -> None:
    bank, sink = Bank(), ListSink()
    runner = start(bank, sink, govern=governed_by(GOVERNOR, CONTEXT))
    assert runner.status == "completed" and not runner.checkpoints()


def test_a_blocked_call_never_runs_and_throws_blocked() -> None:
    def block_payments(request: ServiceRequest) -> Verdict:
        kind = "block" if request.tool == "pay_claim" else "allow"
        return Verdict(kind, "payments are frozen", "d", ("freeze",), ("R9",))

    bank, sink = Bank(), ListSink()
    runner = _docpay(bank, sink, block_payments)
    assert [c[0] for c in bank.calls] == ["read_document"]
    assert "not_paid" in runner.instance.completed_elements()
    refused = next(e for e in sink.events if e.kind == "error" and e.element == "pay")
    assert refused.payload["code"] == "blocked" and "payments are frozen" in refused.payload["problem"]
    assert next(e for e in sink.events if e.kind == "verdict" and e.element == "pay").rule_ids == ("R9",)


@pytest.mark.parametrize("govern", [
    lambda request: 1 / 0,  # governance that fails
    lambda request: "allow",  # not a verdict
    lambda request: Verdict("require_human", "who?", "d", (), ()),  # a checkpoint nobody may take
], ids=["raises", "not-a-verdict", "no-role"])
def test_governance_that_cannot_decide_blocks(govern: Any) -> None:
    bank, sink = Bank(), ListSink()
    runner = _docpay(bank, sink, govern)
    assert bank.calls == []  # not even the read: fail closed
    assert runner.instance.failure is not None and runner.status == "failed"
    assert sink.batches[-1].status == "failed"


def test_a_checkpoint_without_a_role_goes_to_the_operator_role() -> None:
    bank, sink = Bank(), ListSink()
    runner = ProcessRunner.start(payment_definitions(), instance_id="c", tools=bank.registry(),
                                 govern=lambda r: Verdict("require_human", "look", "d", (), ()), sink=sink,
                                 data=CLAIM, operator_role="claims operations")
    assert [r["role"] for r in runner.checkpoints().values()] == ["claims operations"]


def test_the_runner_state_goes_on_elsewhere() -> None:
    bank, sink = Bank(), ListSink()
    runner = start(bank, sink, {**CLAIM, "amount": 5000})
    state = sink.batches[-1].state
    other = ProcessRunner.resume(DEFS, state, tools=bank.registry(), govern=allow, sink=sink)
    [item] = other.instance.user_tasks()
    assert item.task_id == runner.instance.user_tasks()[0].task_id
    other.complete_user_task(item.task_id, {"approved": True}, actor="person:max")
    assert other.status == "completed" and [c[0] for c in bank.calls].count("pay_claim") == 1
    assert other.provenance["approved"].is_trusted


class City(BaseModel):
    city: str


class Ref(BaseModel):
    ref: dict[str, str]


class NoArgs(BaseModel):
    pass


class Booked(BaseModel):
    ok: bool = True


def test_compensation_handlers_run_governed_and_through_the_inbox() -> None:
    """A declined charge compensates the trip in reverse order: the flight's handler is a user task
    (an inbox item for its role), the hotel's a service call reviewed like any other."""
    from casepilot.bpmn import load_processes
    from casepilot.bpmn.runner import ServiceError
    from casepilot.tools import NO_RETRY, Tool, ToolRegistry

    from ._payment import REPO

    called: list[str] = []

    def tool(name: str, args: type[BaseModel], result: BaseModel | None = None,
             fail: str | None = None) -> Tool[Any, Any]:
        def run(a: BaseModel) -> Any:
            called.append(name)
            if fail:
                raise ServiceError(fail)
            return result or Booked()
        return Tool(name=name, description=name, args_model=args, result_model=type(result or Booked()),
                    side_effect="non_idempotent", retry=NO_RETRY, timeout=None, func=run)

    class HotelRef(BaseModel):
        ref: str = "H-1"

    tools = ToolRegistry([tool("book_hotel", City, HotelRef()), tool("book_flight", NoArgs),
                          tool("charge", NoArgs, fail="declined"), tool("cancel_hotel", Ref)])
    reviewed: list[str] = []

    def govern(request: ServiceRequest) -> Verdict:
        reviewed.append(request.tool)
        return allow(request)

    sink = ListSink()
    runner = ProcessRunner.start(load_processes(REPO / "tests/bpmn/scenarios/models/compensation.bpmn"), "trip",
                                 instance_id="trip-1", tools=tools, govern=govern, sink=sink,
                                 data={"city": "Lisbon", "by train": False})
    assert called == ["book_hotel", "book_flight", "charge"]
    [item] = runner.instance.user_tasks()
    assert (item.element_id, item.role) == ("cancel_flight", "travel desk")
    assert runner.complete_user_task(item.task_id, {}, actor="person:eve") == "waiting"
    assert called[-1] == "cancel_hotel" and reviewed[-1] == "cancel_hotel"
    assert next(e for e in sink.events if e.kind == "tool_call_started" and e.element == "cancel_hotel"
                ).payload["arguments"] == {"ref": {"ref": "H-1"}}
    [tell] = runner.instance.user_tasks()
    assert tell.element_id == "tell"
    assert runner.instance.data["hotel_cancelled"] is True
    transitions = [e.element for e in sink.events if e.kind == "transition"]
    assert transitions.index("cancel_flight") < transitions.index("cancel_hotel") < transitions.index("undo")
