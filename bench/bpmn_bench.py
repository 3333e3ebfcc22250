"""Process steps/s: casepilot.bpmn against SpiffWorkflow alone, on the same model.

    .venv/bin/python bench/bpmn_bench.py [--instances 300] [--rounds 5]

The model (built here, valid for both engines): start → exclusive gateway (``amount > 1000``,
Python and FEEL alike) → service task ``validate`` → parallel fork → service tasks ``score``
and ``check_payee`` → join → user task ``approve`` → service task ``pay`` → end.

Three ways of running one instance to its end:

* **spiff** — SpiffWorkflow alone: its default parser and Python script engine; its service
  tasks wait (STARTED) and the loop completes each with the same small result; the user task
  is completed.
* **casepilot** — casepilot.bpmn: FEEL conditions, every service task yields a ServiceCall
  the host answers at once with a small result (mapped back with FEEL), the user task is
  completed through ``complete_user_task``.
* **casepilot+dump** — the same, plus ``dump()`` (the state as JSON, what a host persists) at
  every wait state: 5 per instance.
* **runner** — ``casepilot.bpmn.runner.ProcessRunner``: every service task reviewed by a
  ``Governor`` (allowlist, provenance rule, loop guard; argument provenance computed per call)
  and run through a ``ToolRegistry`` (arguments and results validated by pydantic; tools run in
  the caller's thread, ``timeout=None``), every batch (before and after each tool call, at every
  wait state: 9 per instance) serialised to JSON as a sink would write it — no database.
* **runner+sqlite** — the same, writing through ``StoreSink`` into a SQLite file store (one
  ``Store.step`` per batch: events hash-chained, inbox rows, state snapshot), on
  ``--store-instances`` instances per round (it is the slowest by far).

A step is one BPMN element completed (start, gateways, tasks, end: 10 per instance here).
The rounds interleave the three ways (so a shared machine's load falls on all alike);
reported: steps/s per way (median over rounds, and the range), and the ratios to spiff.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lxml import etree  # noqa: E402
from pydantic import BaseModel  # noqa: E402
from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from casepilot.bpmn import ProcessInstance, load_processes  # noqa: E402
from casepilot.bpmn.events import ProcessBatch  # noqa: E402
from casepilot.bpmn.runner import ProcessRunner, governed_by  # noqa: E402
from casepilot.bpmn.store_sink import start_process_case  # noqa: E402
from casepilot.governance import GovernanceContext, Governor, ToolAllowlist  # noqa: E402
from casepilot.store import DefinitionBundle, Store  # noqa: E402
from casepilot.tools import NO_RETRY, Tool, ToolRegistry  # noqa: E402

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:cp="https://casepilot.dev/bpmn/extensions" id="d" targetNamespace="t">
  <bpmn:process id="bench" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
    <bpmn:exclusiveGateway id="g" default="f_small"/>
    <bpmn:sequenceFlow id="f_big" sourceRef="g" targetRef="validate">
      <bpmn:conditionExpression>amount &gt; 1000</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_small" sourceRef="g" targetRef="validate"/>
    <bpmn:serviceTask id="validate" cp:tool="validate" cp:resultVariable="valid">
      <bpmn:extensionElements><cp:input name="amount">amount</cp:input></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f1" sourceRef="validate" targetRef="fork"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="score"/>
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="check_payee"/>
    <bpmn:serviceTask id="score" cp:tool="score" cp:resultVariable="score">
      <bpmn:extensionElements><cp:input name="amount">amount</cp:input></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:serviceTask id="check_payee" cp:tool="check_payee" cp:resultVariable="payee_ok">
      <bpmn:extensionElements><cp:input name="payee">payee</cp:input></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f4" sourceRef="score" targetRef="join"/>
    <bpmn:sequenceFlow id="f5" sourceRef="check_payee" targetRef="join"/>
    <bpmn:parallelGateway id="join"/>
    <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="approve"/>
    <bpmn:userTask id="approve"/>
    <bpmn:sequenceFlow id="f7" sourceRef="approve" targetRef="pay"/>
    <bpmn:serviceTask id="pay" cp:tool="pay" cp:resultVariable="receipt">
      <bpmn:extensionElements><cp:input name="amount">amount</cp:input></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f8" sourceRef="pay" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>
"""
STEPS = 10  # s, g, validate, fork, score, check_payee, join, approve, pay, e
DATA = {"amount": 2500, "payee": "ACME Ltd"}


def spiff_runner() -> Callable[[], None]:
    parser = BpmnParser()
    parser.add_bpmn_xml(etree.fromstring(MODEL.encode()), "bench.bpmn")
    spec = parser.get_spec("bench")

    def run() -> None:
        workflow = BpmnWorkflow(spec)
        workflow.get_tasks(state=TaskState.READY)[0].data.update(DATA)
        workflow.do_engine_steps()
        while not workflow.completed:
            started = workflow.get_tasks(state=TaskState.STARTED)
            if started:
                started[0].data[started[0].task_spec.bpmn_id] = {"ok": True}
                started[0].complete()
            else:
                for task in workflow.get_tasks(state=TaskState.READY, manual=True):
                    task.data["approved"] = True
                    task.run()
            workflow.do_engine_steps()
    return run


def casepilot_runner(dump: bool) -> Callable[[], None]:
    defs = load_processes(MODEL)

    def run() -> None:
        instance = ProcessInstance.start(defs, "bench", data=DATA)
        while not instance.completed:
            if dump:
                instance.dump()
            calls = instance.service_calls()
            if calls:
                instance.complete_service(calls[0].call_id, {"ok": True})
                continue
            task = instance.user_tasks()[0]
            instance.complete_user_task(task.task_id, {"approved": True})
    return run


class Ok(BaseModel):
    ok: bool = True


class Amount(BaseModel):
    amount: float


class Payee(BaseModel):
    payee: str


def _tools() -> ToolRegistry:
    def ok(args: BaseModel) -> Ok:
        return Ok()

    def make(name: str, args: type[BaseModel], side_effect: Any) -> Tool[Any, Any]:
        return Tool(name=name, description=name, args_model=args, result_model=Ok, side_effect=side_effect,
                    retry=NO_RETRY, timeout=None, func=ok)
    return ToolRegistry([make("validate", Amount, "read_only"), make("score", Amount, "read_only"),
                         make("check_payee", Payee, "read_only"), make("pay", Amount, "non_idempotent")])


class JsonSink:
    """Serialises every batch as a sink writing somewhere would."""

    def write(self, batch: ProcessBatch) -> None:
        json.dumps([[e.kind, e.payload] for e in batch.events])
        json.dumps(batch.state)


def runner_way(store_dir: Path | None) -> Callable[[], None]:
    defs = load_processes(MODEL)
    tools = _tools()
    govern = governed_by(Governor(provenance_role="payments", allowlist=ToolAllowlist(definition=frozenset(tools.names()))),
                         GovernanceContext(definition_key="bench", definition_version=1))
    store = None
    if store_dir is not None:
        store = Store.from_url(f"sqlite:///{store_dir / 'bench.db'}")
        store.deploy("bench", DefinitionBundle(files={"bench.bpmn": MODEL}))

    def run() -> None:
        if store is not None:
            runner = start_process_case(store, "bench", defs, "bench", tools=tools, govern=govern, data=DATA)
        else:
            runner = ProcessRunner.start(defs, "bench", instance_id="bench", tools=tools, govern=govern,
                                         sink=JsonSink(), data=DATA)
        while runner.status != "completed":
            task = runner.instance.user_tasks()[0]
            runner.complete_user_task(task.task_id, {"approved": True}, actor="person:bench")
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--instances", type=int, default=300)
    ap.add_argument("--store-instances", type=int, default=30, help="instances per round of runner+sqlite")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        measure(args, Path(tmp))


def measure(args: argparse.Namespace, tmp: Path) -> None:
    ways = {"spiff": spiff_runner(), "casepilot": casepilot_runner(False), "casepilot+dump": casepilot_runner(True),
            "runner": runner_way(None), "runner+sqlite": runner_way(tmp)}
    counts = {name: args.store_instances if name == "runner+sqlite" else args.instances for name in ways}
    for run in ways.values():  # warm up (imports, FEEL compile cache)
        for _ in range(20):
            run()
    rates: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, run in ways.items():
            start = time.perf_counter()
            for _ in range(counts[name]):
                run()
            rates[name].append(counts[name] * STEPS / (time.perf_counter() - start))
    base = statistics.median(rates["spiff"])
    print(f"{args.instances} instances ({args.store_instances} for runner+sqlite) x {args.rounds} rounds, "
          f"{STEPS} steps per instance")
    print(f"{'way':<16}{'steps/s (median)':>18}{'range':>22}{'ratio to spiff':>16}")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:<16}{median:>18,.0f}{f'{min(values):,.0f}–{max(values):,.0f}':>22}{median / base:>15.2f}x")


if __name__ == "__main__":
    main()
