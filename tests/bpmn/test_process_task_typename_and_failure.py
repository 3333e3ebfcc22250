"""A CMMN process task through the agent (Orchestrator.run/decide), on SQLite and PostgreSQL, at two edges:

* its process's data holds a tool's dict with a ``typename`` key of its own (SpiffWorkflow's tag key):
  the process is stored at the person's wait state, loaded again when the person decides, and its
  output comes back into the case file exactly (``_values.ESCAPED_TAG``; before it the load failed
  and the case was stuck);
* its process fails: the task faults, and the case plan model (``autoComplete``) completes over the
  Failed task, as CMMN 1.1 ch. 8's stage completion rule says (Failed is semi-terminal) — unless the
  model holds it open with a required milestone (``paid_milestone``, test_process_case.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from unittest.mock import ANY

import pytest
import yaml
from pydantic import BaseModel

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.rule_planner import RulePlanner
from casepilot.agent.stop_reason import stop_reason
from casepilot.store import Store
from casepilot.tools import NO_RETRY, tool
from tests.agent._support import assert_sound, calls_of, events, make_registry
from tests.bpmn._process_bundle import CLERK, OPERATOR, PROCESS_TOOLS, decide_with, write_process_bundle

CLERK_ANN = Person("ann", {CLERK})


class NoArgs(BaseModel):
    pass


class Car(BaseModel):
    typename: str
    model: str
    specs: dict[str, str]


CAR = {"typename": "car", "model": "X", "specs": {"typename": "Decimal", "value": "12"}}
"""The fleet system's answer: a ``typename`` of its own and a nested dict shaped like a decimal's tag."""


@tool(name="fetch_car", side_effect="read_only", retry=NO_RETRY)
def fetch_car(args: NoArgs) -> Car:
    """Fetch the car the case is about."""
    return Car.model_validate(CAR)


CARS_BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:cp="https://casepilot.dev/bpmn/extensions" id="car_defs" targetNamespace="t">
  <bpmn:process id="fetch_car_process" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:serviceTask id="fetch" name="Fetch" cp:tool="fetch_car" cp:resultVariable="car"/>
    <bpmn:userTask id="look" name="Look at the car" cp:role="{CLERK}"/>
    <bpmn:endEvent id="done"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fetch"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fetch" targetRef="look"/>
    <bpmn:sequenceFlow id="f3" sourceRef="look" targetRef="done"/>
  </bpmn:process>
</bpmn:definitions>
"""

CARS_CMMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="defs_car" name="car"
             targetNamespace="https://casepilot.dev/tests/car">
  <case id="car_case" name="Car case">
    <caseFileModel id="cfm"><caseFileItem id="cfi_car" name="car" multiplicity="ZeroOrOne"/></caseFileModel>
    <casePlanModel id="cpm" name="Car case" autoComplete="true">
      <planItem id="pi_fetch" name="Fetch car" definitionRef="pt_fetch"/>
      <processTask id="pt_fetch" name="Fetch car" processRef="fetch_car_process">
        <output id="out_car" bindingRef="cfi_car"/>
      </processTask>
    </casePlanModel>
  </case>
</definitions>
"""


def _car_bundle(folder: Path, key: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "case.cmmn").write_text(CARS_CMMN, encoding="utf-8")
    (folder / "cars.bpmn").write_text(CARS_BPMN, encoding="utf-8")
    (folder / "bindings.yaml").write_text(yaml.safe_dump({"bindings": []}), encoding="utf-8")
    manifest = {"key": key, "model": "case.cmmn", "bindings": "bindings.yaml", "processes": ["cars.bpmn"],
                "governance": {"operator_role": OPERATOR, "roles": [CLERK]}}
    (folder / "casepilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return folder


@pytest.fixture
def orch(url: str) -> Iterator[Orchestrator]:
    store = Store.from_url(url)
    orchestrator = Orchestrator(store, make_registry(*PROCESS_TOOLS, fetch_car), RulePlanner())
    try:
        yield orchestrator
    finally:
        orchestrator.close()
        store.close()


def test_a_tools_typename_dict_survives_the_stored_process_and_reaches_the_case_file(
        orch: Orchestrator, tmp_path: Path) -> None:
    key = f"car-{tmp_path.name[-12:]}"
    orch.deploy(_car_bundle(tmp_path / key, key))
    case = orch.start_case(key, {})
    assert orch.run(case.id).reason == "waiting_for_people"
    [item] = orch.pending(case.id)
    assert (item.role, item.plan_item) == (CLERK, "look")
    # The person's decision is worked from the stored process (loaded again), which then ends.
    decide_with(orch, item.id, CLERK_ANN, {})
    orch.run(case.id)
    loaded = orch.runtime.load(case.id)
    assert loaded.engine is not None
    car = loaded.engine.variables()["car"]
    assert car == CAR and isinstance(car["specs"], dict)  # not a decimal: the dict the tool answered
    assert [v.state for v in loaded.engine.items() if v.name == "Fetch car"] == ["completed"]
    assert loaded.engine.state == "completed"
    assert_sound(orch.store, case.id)


def test_a_failed_process_task_faults_and_the_autocomplete_case_completes_over_it(
        orch: Orchestrator, tmp_path: Path) -> None:
    """The payment's process fails (the supervisor refuses the payee read from the letter): "Pay" faults and,
    with no required item left pending, the case plan model (autoComplete) completes — the ch. 8 stage
    completion rule counts a Failed child as settled. The history says so, in order: Pay's fault, then the
    case's completion. (With the required milestone "Paid" the case stays open: test_process_case.py.)"""
    key = f"fail-{tmp_path.name[-12:]}"
    orch.deploy(write_process_bundle(tmp_path / key, key, from_letter=True))
    case = orch.start_case(key, {"letter": "Pay to: Mallory Fox.", "amount": 90})
    orch.run(case.id)
    [item] = orch.pending(case.id)
    decide_with(orch, item.id, CLERK_ANN, {"ok": True})
    [checkpoint] = orch.pending(case.id)  # the payee came from the letter: a person checks it first
    orch.decide(checkpoint.id, Person("sam", {"payments supervisor"}), "reject")
    outcome = orch.run(case.id)
    # The caller is told the case completed over a failed task, not a clean success.
    assert outcome.reason == "completed"
    assert outcome.detail == {"failed_items": [{"id": ANY, "name": "Pay"}]}
    # ... and so is whoever reads why the case stands there (``casepilot run``, the page, case views).
    reason = stop_reason(orch.outcome(case.id), orch.store.iter_history(case.id))
    assert (reason.kind, reason.lines) == ("completed", ("completed", "though 1 item(s) failed and stay failed: Pay"))
    loaded = orch.runtime.load(case.id)
    assert loaded.engine is not None
    assert [v.state for v in loaded.engine.items() if v.name == "Pay"] == ["failed"]
    assert loaded.engine.state == "completed"
    assert calls_of("pay_out") == []
    cmmn = [(e.get("name"), e.get("transition")) for e in events(orch.store, case.id, "transition")
            if e.get("engine") != "bpmn"]
    fault, done = cmmn.index(("Pay", "fault")), cmmn.index(("Payment case", "complete"))
    assert fault < done
    assert_sound(orch.store, case.id)
