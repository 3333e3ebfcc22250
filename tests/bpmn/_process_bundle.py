"""A case bundle whose process task runs a small BPMN process (for tests/agent/test_process_task*.py).

The process ``pay_small``: a business-rule task (DMN ``approval_level`` on the amount), a user
task for the payments clerk (a boolean form field ``ok``), then the non-idempotent service task
``pay_out`` — or the end "refused" when the clerk says no. The case: a process task "Pay"
(``processRef="pay_small"``, inputs payee and amount, outputs receipt and approval); with
``from_letter`` a task "Read letter" first reads the payee from a letter (a tool's output:
untrusted), and "Pay" starts when it completed.

Importable from a subprocess (the crash test's worker), like ``tests.agent._support``.
"""

from __future__ import annotations

import inspect
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from casepilot.agent._inbox import decision_values
from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.rule_planner import RulePlanner
from casepilot.store import HumanTask, Store
from casepilot.tools import NO_RETRY, Tool, ToolRegistry, tool
from tests.agent._support import CALLS, GATE_ENV, REPO, make_registry

APPROVAL_DMN = (Path(__file__).resolve().parents[2] / "casepilot" / "demo" / "claims" / "payment-approval.dmn")

CLERK, SUPERVISOR, OPERATOR = "payments clerk", "payments supervisor", "operator"


class LetterArgs(BaseModel):
    letter: str = Field(description="the letter's text")


class Payee(BaseModel):
    payee: str


class PayArgs(BaseModel):
    payee: str
    amount: float


class Receipt(BaseModel):
    transfer_id: str


@tool(name="read_letter", side_effect="read_only", retry=NO_RETRY)
def read_letter(args: LetterArgs) -> Payee:
    """Read who is to be paid from a letter (``Pay to: NAME``)."""
    CALLS.append(("read_letter", args.model_dump()))
    found = re.search(r"Pay to: ([^\n.]+)", args.letter)
    return Payee(payee=found.group(1).strip() if found else "")


@tool(name="pay_out", side_effect="non_idempotent", retry=NO_RETRY, timeout=None, tags=("moves_money",))
def pay_out(args: PayArgs) -> Receipt:
    """Pay ``amount`` to ``payee``; with the test gate set, waits inside the call for the go-ahead."""
    CALLS.append(("pay_out", args.model_dump()))
    gate = os.environ.get(GATE_ENV)
    if gate:
        with (Path(gate) / "entered.pay_out").open("a") as marker:
            marker.write(f"{os.getpid()}\n")
        deadline = time.monotonic() + 60
        while not (Path(gate) / "open.pay_out").exists():
            if time.monotonic() > deadline:
                raise TimeoutError("pay_out: the test never opened the gate")
            time.sleep(0.02)
    return Receipt(transfer_id=f"T-{args.payee}-{args.amount:g}")


PROCESS_TOOLS: tuple[Tool[Any, Any], ...] = (read_letter, pay_out)


def process_registry() -> ToolRegistry:
    return make_registry(*PROCESS_TOOLS)


@contextmanager
def process_orchestrator(url: str) -> Iterator[Orchestrator]:
    """An orchestrator over a new ``Store`` at ``url`` with ``process_registry()`` and the rule
    planner (no model): the set-up of the process-task tests. Closed, with its store, at the end."""
    store = Store.from_url(url)
    orchestrator = Orchestrator(store, process_registry(), RulePlanner())
    try:
        yield orchestrator
    finally:
        orchestrator.close()
        store.close()


PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:cp="https://casepilot.dev/bpmn/extensions" id="pay_defs" targetNamespace="t">
  <bpmn:process id="pay_small" name="Small payment" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:businessRuleTask id="level" name="Approval level" cp:decision="approval_level" cp:resultVariable="approval">
      <bpmn:extensionElements><cp:input name="amount">amount</cp:input></bpmn:extensionElements>
    </bpmn:businessRuleTask>
    <bpmn:userTask id="confirm" name="Confirm the payment" cp:role="payments clerk">
      <bpmn:extensionElements><cp:field name="ok" type="boolean" label="Pay it" required="true"/></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="gw" default="f_no"/>
    <bpmn:serviceTask id="pay" name="Pay" cp:tool="pay_out" cp:resultVariable="receipt">
      <bpmn:extensionElements>
        <cp:input name="payee">payee</cp:input>
        <cp:input name="amount">amount</cp:input>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:endEvent id="paid"/>
    <bpmn:endEvent id="refused"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="level"/>
    <bpmn:sequenceFlow id="f2" sourceRef="level" targetRef="confirm"/>
    <bpmn:sequenceFlow id="f3" sourceRef="confirm" targetRef="gw"/>
    <bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="pay">
      <bpmn:conditionExpression>ok = true</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="refused"/>
    <bpmn:sequenceFlow id="f4" sourceRef="pay" targetRef="paid"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _cmmn(from_letter: bool, process_ref: str, paid_milestone: bool = False) -> str:
    read = """      <planItem id="pi_read" name="Read letter" definitionRef="t_read"/>
      <task id="t_read" name="Read letter"/>""" if from_letter else ""
    entry = '<entryCriterion id="ec_pay" sentryRef="s_pay"/>' if from_letter else ""
    sentry = ('<sentry id="s_pay"><planItemOnPart id="op_pay" sourceRef="pi_read">'
              "<standardEvent>complete</standardEvent></planItemOnPart></sentry>") if from_letter else ""
    items = "\n".join(f'      <caseFileItem id="cfi_{v}" name="{v}" multiplicity="ZeroOrOne"/>'
                      for v in ("letter", "payee", "amount", "receipt", "approval"))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="defs_pay" name="pay"
             targetNamespace="https://casepilot.dev/tests/pay">
  <case id="pay_case" name="Payment case">
    <caseFileModel id="cfm">
{items}
    </caseFileModel>
    <casePlanModel id="cpm" name="Payment case" autoComplete="true">
{read}
      <planItem id="pi_pay" name="Pay" definitionRef="pt_pay">{entry}</planItem>
      {sentry}
      {_PAID if paid_milestone else ""}
      <processTask id="pt_pay" name="Pay" processRef="{process_ref}">
        <input id="in_payee" bindingRef="cfi_payee"/>
        <input id="in_amount" bindingRef="cfi_amount"/>
        <output id="out_receipt" bindingRef="cfi_receipt"/>
        <output id="out_approval" bindingRef="cfi_approval"/>
      </processTask>
    </casePlanModel>
  </case>
</definitions>
"""


_PAID = """<planItem id="pi_paid" name="Paid" definitionRef="ms_paid"><itemControl><requiredRule/></itemControl>
        <entryCriterion id="ec_paid" sentryRef="s_paid"/></planItem>
      <sentry id="s_paid"><planItemOnPart id="op_paid" sourceRef="pi_pay"><standardEvent>complete</standardEvent></planItemOnPart></sentry>
      <milestone id="ms_paid" name="Paid"/>"""
"""A milestone the payment's completion reaches: the case stays open while "Pay" failed (retry it)."""


def with_timer(process: str) -> str:
    """The process with a one-hour wait (a timer intermediate catch event) before the payment."""
    return process.replace('<bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="pay">',
                           '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>'
                           '"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>\n'
                           '    <bpmn:sequenceFlow id="f_wait" sourceRef="wait" targetRef="pay"/>\n'
                           '    <bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="wait">')


_SHAPES = {"start": (100, 120, 36, 36), "level": (170, 98, 100, 80), "confirm": (310, 98, 100, 80),
           "gw": (450, 113, 50, 50), "pay": (540, 98, 100, 80), "paid": (680, 120, 36, 36),
           "refused": (540, 240, 36, 36), "wait": (470, 30, 36, 36)}
_EDGES = {"f1": ((136, 138), (170, 138)), "f2": ((270, 138), (310, 138)), "f3": ((410, 138), (450, 138)),
          "f_yes": ((500, 138), (540, 138)), "f_no": ((475, 163), (475, 258), (540, 258)),
          "f4": ((640, 138), (680, 138)), "f_wait": ((506, 48), (590, 48), (590, 98))}


def with_diagram(process: str) -> str:
    """The process with a BPMN DI layout (what a modeler saves), so it can be drawn with its tokens."""
    present = set(re.findall(r'id="([^"]+)"', process))
    shapes = "".join(f'<bpmndi:BPMNShape id="{e}_di" bpmnElement="{e}"><dc:Bounds x="{x}" y="{y}" width="{w}" '
                     f'height="{h}"/></bpmndi:BPMNShape>' for e, (x, y, w, h) in _SHAPES.items() if e in present)
    edges = "".join(f'<bpmndi:BPMNEdge id="{e}_di" bpmnElement="{e}">'
                    + "".join(f'<di:waypoint x="{x}" y="{y}"/>' for x, y in points) + "</bpmndi:BPMNEdge>"
                    for e, points in _EDGES.items() if e in present)
    diagram = ('<bpmndi:BPMNDiagram id="pay_diagram"><bpmndi:BPMNPlane id="pay_plane" bpmnElement="pay_small">'
               f"{shapes}{edges}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>")
    return process.replace(
        'xmlns:cp="https://casepilot.dev/bpmn/extensions"',
        'xmlns:cp="https://casepilot.dev/bpmn/extensions" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI"',
    ).replace("</bpmn:definitions>", f"{diagram}\n</bpmn:definitions>")


def write_process_bundle(folder: Path, key: str, *, from_letter: bool = False, timer: bool = False,
                         process_ref: str = "pay_small", diagram: bool = False, paid_milestone: bool = False) -> Path:
    """Write the bundle (CMMN, bindings, BPMN, DMN, manifest) into ``folder``; ``timer``: wait an hour
    before paying (``with_timer``); ``diagram``: with a BPMN DI layout (``with_diagram``); ``paid_milestone``:
    the case waits for the payment's milestone (a failed "Pay" leaves it open, to be retried)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "case.cmmn").write_text(_cmmn(from_letter, process_ref, paid_milestone), encoding="utf-8")
    process = with_timer(PROCESS) if timer else PROCESS
    (folder / "pay.bpmn").write_text(with_diagram(process) if diagram else process, encoding="utf-8")
    (folder / "approval.dmn").write_text(APPROVAL_DMN.read_text(encoding="utf-8"), encoding="utf-8")
    bindings = [{"task": "Read letter", "tool": "read_letter", "inputs": {"letter": "letter"},
                 "outputs": {"payee": "payee"}}] if from_letter else []
    (folder / "bindings.yaml").write_text(yaml.safe_dump({"bindings": bindings}), encoding="utf-8")
    manifest = {"key": key, "model": "case.cmmn", "bindings": "bindings.yaml", "decisions": ["approval.dmn"],
                "processes": ["pay.bpmn"],
                "governance": {"operator_role": OPERATOR, "provenance_role": SUPERVISOR, "roles": [CLERK]}}
    (folder / "casepilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return folder


def decide_with(orch: Orchestrator, task_id: str, person: Person, values: dict[str, Any],
                choice: str = "complete") -> HumanTask:
    """A decision bringing typed values: ``Orchestrator.decide(values=…)`` where it takes them, else
    through ``decision_values`` (the API before ``values=``)."""
    if "values" in inspect.signature(orch.decide).parameters:
        return orch.decide(task_id, person, choice, values=values)  # type: ignore[call-arg,unused-ignore]
    with decision_values(values):
        return orch.decide(task_id, person, choice)


DECIDE_AS_CLERK = """
import sys
from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.rule_planner import RulePlanner
from casepilot.store import Store
from tests.bpmn._process_bundle import CLERK, decide_with, process_registry
store = Store.from_url(sys.argv[1])
decide_with(Orchestrator(store, process_registry(), RulePlanner()), sys.argv[2], Person("ann", {CLERK}), {"ok": True})
"""
"""A worker deciding the clerk's item (``argv``: the store's URL, the item's id) — run as a child
process that a test SIGKILLs inside the payment that decision lets the process make."""


def kill_the_clerk_inside_pay_out(url: str, task_id: str, gate: Path, spawned: list[subprocess.Popen[bytes]]) -> None:
    """Decide ``task_id`` as the clerk in a worker process (``DECIDE_AS_CLERK``) and SIGKILL it inside
    ``pay_out``: entered (the ``gate`` folder holds the tool there), not returned. The gate is then
    opened, so that a second call would not hang the test. ``spawned`` (the fixture) kills the child
    should the test fail first."""
    gate.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), GATE_ENV: str(gate)}
    proc = subprocess.Popen([sys.executable, "-c", DECIDE_AS_CLERK, url, task_id], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    spawned.append(proc)
    deadline = time.monotonic() + 90
    while not (gate / "entered.pay_out").exists():
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode()[-2000:] if proc.stderr else "the worker ended early")
        assert time.monotonic() < deadline, "the worker never reached pay_out"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    (gate / "open.pay_out").touch()  # were it called again, it would not hang the test
