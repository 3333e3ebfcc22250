"""The runner writing through StoreSink into a real SQLite file store: history events per BPMN step
in the hash chain, inbox items opened and closed, resuming from the store, and a worker killed
(SIGKILL) during a service task resuming by the crash rule of case tasks."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from casepilot.bpmn import ManualClock, load_processes
from casepilot.bpmn.runner import ServiceRequest
from casepilot.bpmn.store_sink import StoreSink, resume_process_case, start_process_case
from casepilot.errors import CasepilotError
from casepilot.governance import Verdict
from casepilot.store import DefinitionBundle, Store

from ._models import process
from ._payment import APPROVAL, CLAIM, PAYMENT, REPO, Bank, payment_definitions

OPERATOR = "claims operations"
DEFS = payment_definitions()


def allow(request: ServiceRequest) -> Verdict:
    return Verdict("allow", "ok", "digest", ("test",), ())


def deploy(store: Store) -> None:
    store.deploy("payment", DefinitionBundle(files={"payment.bpmn": PAYMENT.read_text(),
                                                    "payment-approval.dmn": APPROVAL.read_text()}))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.from_url(f"sqlite:///{tmp_path / 'cases.db'}")
    deploy(opened)
    return opened


def test_every_bpmn_step_lands_in_the_case_history_and_the_chain_verifies(store: Store) -> None:
    bank = Bank()
    runner = start_process_case(store, "payment", DEFS, tools=bank.registry(), govern=allow,
                                data={**CLAIM, "amount": 5000}, operator_role=OPERATOR)
    case_id = runner.instance_id
    [task] = store.tasks(case_id=case_id)
    assert (task.role, task.plan_item, task.kind) == ("claims manager", "approve", "human_task")
    events = store.history(case_id)
    assert [e.kind for e in events][:1] == ["case_created"]
    validate = [e for e in events if e.payload.get("element") == "validate"]
    assert [e.kind for e in validate] == ["verdict", "tool_call_started", "tool_call_completed", "transition"]
    assert validate[0].payload["verdict"]["kind"] == "allow"
    assert validate[1].payload["tool"] == "validate_payment" and validate[1].payload["token"]
    # Resume from the store (another worker) and let the manager approve.
    again = resume_process_case(store, case_id, DEFS, tools=bank.registry(), govern=allow, operator_role=OPERATOR)
    assert again.complete_user_task(task.id, {"approved": True}, actor="person:max") == "completed"
    assert store.task(task.id).status == "decided" and store.task(task.id).decided_by == "person:max"
    assert store.tasks(case_id=case_id) == []
    assert store.verify(case_id).ok
    assert store.case(case_id).state["status"] == "completed"
    assert store.rebuild_state(case_id) == store.case(case_id).state
    kinds = [e.kind for e in store.history(case_id)]
    assert kinds.count("tool_call_completed") == 3 and "human_task_decided" in kinds


TIMED_REVIEW = process("""
<bpmn:startEvent id="s"/>
<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="review"/>
<bpmn:userTask id="review" cp:role="claims handler"/>
<bpmn:boundaryEvent id="too_late" attachedToRef="review">
  <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
</bpmn:boundaryEvent>
<bpmn:sequenceFlow id="f1" sourceRef="review" targetRef="e"/>
<bpmn:sequenceFlow id="f2" sourceRef="too_late" targetRef="late"/>
<bpmn:endEvent id="e"/>
<bpmn:endEvent id="late"/>""", pid="timed")


def test_a_user_task_cancelled_by_a_timer_is_closed_in_the_inbox(store: Store) -> None:
    store.deploy("timed", DefinitionBundle(files={"timed.bpmn": TIMED_REVIEW}))
    clock = ManualClock()
    runner = start_process_case(store, "timed", load_processes(TIMED_REVIEW), tools=Bank().registry(),
                                govern=allow, clock=clock)
    [task] = store.tasks(case_id=runner.instance_id)
    assert (task.plan_item, task.role) == ("review", "claims handler")
    assert runner.instance.next_timer() == clock.now + dt.timedelta(hours=1)  # the armed boundary timer
    clock.advance(dt.timedelta(hours=1))
    assert runner.advance() == "completed"
    assert store.task(task.id).status == "cancelled" and store.tasks(case_id=runner.instance_id) == []
    assert "late" in runner.instance.completed_elements()
    assert StoreSink(store, runner.instance_id).version == store.case_version(runner.instance_id)
    assert store.verify(runner.instance_id).ok


def test_a_case_without_process_state_is_not_resumed(store: Store) -> None:
    case = store.create_case("payment", {"kind": "bpmn_process", "status": "starting"})
    with pytest.raises(CasepilotError, match="start the process again"):
        resume_process_case(store, case.id, DEFS, tools=Bank().registry(), govern=allow)


def _kill_during(tmp_path: Path, tool: str) -> tuple[Store, str]:
    """Run the payment in a child process, SIGKILL it while ``tool`` runs; the store and the case id."""
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    marker = tmp_path / "inside-the-tool"
    child = subprocess.Popen([sys.executable, "-m", "tests.bpmn._crash_child", url, tool, str(marker)], cwd=REPO,
                             env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not marker.exists():
        if child.poll() is not None:
            raise AssertionError(f"the child ended first: {child.stderr.read().decode() if child.stderr else ''}")
        assert time.monotonic() < deadline, "the child never reached the tool"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(30) == -signal.SIGKILL
    store = Store.from_url(url)
    [case] = store.cases(definition_key="payment")
    return store, case.id


def test_killed_during_a_non_idempotent_payment_it_goes_to_the_operator_role(tmp_path: Path) -> None:
    store, case_id = _kill_during(tmp_path, "pay_claim")
    history = store.history(case_id)
    assert [e.kind for e in history if e.payload.get("element") == "pay"] == ["verdict", "tool_call_started"]
    assert store.case(case_id).state["calls"]  # recorded as started, never as finished
    bank = Bank()
    runner = resume_process_case(store, case_id, DEFS, tools=bank.registry(), govern=allow, operator_role=OPERATOR)
    assert bank.calls == []  # not run again by itself
    [checkpoint] = store.tasks(case_id=case_id)
    assert (checkpoint.kind, checkpoint.role, checkpoint.plan_item) == ("checkpoint", OPERATOR, "pay")
    assert "It may have run" in checkpoint.prompt
    problem = [e for e in store.history(case_id) if e.kind == "error"][-1]
    assert "handed to a person instead of running again" in problem.payload["problem"]
    assert runner.decide(checkpoint.id, "approve", actor="person:ops") == "completed"
    assert [c[0] for c in bank.calls] == ["pay_claim", "send_payment_confirmation"]
    assert store.task(checkpoint.id).decision == "approve"
    assert store.verify(case_id).ok


def test_killed_during_a_non_idempotent_payment_with_no_operator_role_it_stays_parked(tmp_path: Path) -> None:
    store, case_id = _kill_during(tmp_path, "pay_claim")
    bank = Bank()
    runner = resume_process_case(store, case_id, DEFS, tools=bank.registry(), govern=allow, operator_role=None)
    assert bank.calls == [] and store.tasks(case_id=case_id) == [] and runner.status == "waiting"
    assert "no operator role is configured" in [e for e in store.history(case_id) if e.kind == "error"][-1].payload[
        "problem"]
    later = resume_process_case(store, case_id, DEFS, tools=bank.registry(), govern=allow, operator_role=OPERATOR)
    [checkpoint] = store.tasks(case_id=case_id)
    assert checkpoint.role == OPERATOR and later.checkpoints()


def test_killed_during_an_idempotent_confirmation_it_runs_again(tmp_path: Path) -> None:
    store, case_id = _kill_during(tmp_path, "send_payment_confirmation")
    bank = Bank()
    runner = resume_process_case(store, case_id, DEFS, tools=bank.registry(), govern=allow, operator_role=OPERATOR)
    assert runner.status == "completed"
    assert [c[0] for c in bank.calls] == ["send_payment_confirmation"]  # the payment itself is not repeated
    assert store.tasks(case_id=case_id) == []
    problem = next(e for e in store.history(case_id) if e.kind == "error")
    assert "the idempotent call will run again" in problem.payload["problem"]
    assert store.verify(case_id).ok


TIMED_PAYMENT = process("""
<bpmn:startEvent id="s"/>
<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="pay"/>
<bpmn:serviceTask id="pay" cp:tool="pay_claim">
  <bpmn:extensionElements>
    <cp:input name="payee">payee</cp:input><cp:input name="iban">iban</cp:input>
    <cp:input name="amount">amount</cp:input><cp:input name="reference">claim_id</cp:input>
  </bpmn:extensionElements>
</bpmn:serviceTask>
<bpmn:boundaryEvent id="unanswered" attachedToRef="pay">
  <bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>
</bpmn:boundaryEvent>
<bpmn:sequenceFlow id="f1" sourceRef="pay" targetRef="e"/>
<bpmn:sequenceFlow id="f2" sourceRef="unanswered" targetRef="dropped"/>
<bpmn:endEvent id="e"/>
<bpmn:endEvent id="dropped"/>""", pid="timed_payment")


def test_a_checkpoint_whose_call_a_timer_cancelled_is_closed(store: Store) -> None:
    store.deploy("timed_payment", DefinitionBundle(files={"p.bpmn": TIMED_PAYMENT}))
    clock = ManualClock()
    bank = Bank()
    runner = start_process_case(store, "timed_payment", load_processes(TIMED_PAYMENT), tools=bank.registry(),
                                govern=lambda r: Verdict("require_human", "check", "d", ("t",), (), role="payments desk"),
                                data=CLAIM, clock=clock)
    [checkpoint] = store.tasks(case_id=runner.instance_id)
    assert (checkpoint.kind, checkpoint.role) == ("checkpoint", "payments desk")
    clock.advance(dt.timedelta(days=1))
    assert runner.advance() == "completed" and "dropped" in runner.instance.completed_elements()
    assert store.task(checkpoint.id).status == "cancelled" and bank.calls == [] and runner.calls == {}
    assert store.verify(runner.instance_id).ok
