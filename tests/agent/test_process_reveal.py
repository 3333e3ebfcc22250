"""A BPMN process in a case reads the clear values behind the case file's pseudonyms — and stores none.

The case file holds ``<PERSON_1>`` for the payee; the process's gateway compares the payee's
clear name (``payee = "Ann Lee"``), and a mapping builds a text from it. The gateway must take
the branch the clear name says, while the process's stored variables, the history and the case
file keep only pseudonyms; once the case's personal data is erased the gateway is not evaluated
on the pseudonym: the process fails, and nothing is paid. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from casepilot.agent.orchestrator import Orchestrator
from tests.agent._support import assert_sound, calls_of, events, stored_text
from tests.bpmn._process_bundle import process_orchestrator, write_process_bundle

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:cp="https://casepilot.dev/bpmn/extensions" id="pay_defs" targetNamespace="t">
  <bpmn:process id="pay_small" name="Pay a listed payee" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:exclusiveGateway id="listed" default="f_other"/>
    <bpmn:serviceTask id="pay" name="Pay" cp:tool="pay_out" cp:resultVariable="receipt">
      <bpmn:extensionElements>
        <cp:input name="payee">payee</cp:input>
        <cp:input name="amount">amount</cp:input>
        <cp:output name="approval">"paid to " + upper case(payee)</cp:output>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:userTask id="file" name="File the payment" cp:role="payments clerk"/>
    <bpmn:endEvent id="paid"/>
    <bpmn:endEvent id="not_listed"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="listed"/>
    <bpmn:sequenceFlow id="f_listed" sourceRef="listed" targetRef="pay">
      <bpmn:conditionExpression>payee = "Ann Lee"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_other" sourceRef="listed" targetRef="not_listed"/>
    <bpmn:sequenceFlow id="f2" sourceRef="pay" targetRef="file"/>
    <bpmn:sequenceFlow id="f3" sourceRef="file" targetRef="paid"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def orch(url: str) -> Iterator[Orchestrator]:
    """The process bundle's orchestrator, once on SQLite and once on PostgreSQL (the shared ``url``)."""
    with process_orchestrator(url) as orchestrator:
        yield orchestrator


def _deploy(orch: Orchestrator, tmp_path: Path) -> str:
    key = f"listed-{tmp_path.name[-12:]}"
    folder = write_process_bundle(tmp_path / key, key)
    (folder / "pay.bpmn").write_text(PROCESS, encoding="utf-8")
    orch.deploy(folder)
    return key


def test_the_gateway_compares_the_clear_name_and_only_pseudonyms_are_stored(
        orch: Orchestrator, tmp_path: Path) -> None:
    key = _deploy(orch, tmp_path)
    case = orch.start_case(key, {"payee": "Ann Lee", "amount": 250})
    assert orch.runtime.load(case.id).engine.variables()["payee"].startswith("<PERSON_")  # type: ignore[union-attr]

    assert orch.run(case.id).reason == "waiting_for_people"
    assert calls_of("pay_out") == [{"payee": "Ann Lee", "amount": 250.0}]  # the listed branch, clear name to the tool
    [(_instance, entry)] = orch.runtime.load(case.id).facts.processes.items()
    variables = entry["runner"]["process"]
    stored = stored_text(orch.store, case.id)
    assert "Ann" not in stored and "ANN" not in stored
    token = orch.runtime.load(case.id).engine.variables()["payee"]  # type: ignore[union-attr]
    # The output mapping saw the clear name and the process keeps its result with the pseudonym put back.
    assert f'"paid to {token}"' in json.dumps(variables)
    started = [e for e in events(orch.store, case.id, "tool_call_started") if e.get("engine") == "bpmn"]
    assert [s["arguments"]["payee"] for s in started] == [token]
    assert_sound(orch.store, case.id)


def test_a_payee_not_listed_takes_the_default_flow(orch: Orchestrator, tmp_path: Path) -> None:
    key = _deploy(orch, tmp_path)
    case = orch.start_case(key, {"payee": "Bob Stone", "amount": 250})
    orch.run(case.id)
    assert calls_of("pay_out") == []
    ended = orch.runtime.load(case.id).facts.processes_ended
    [record] = ended.values()
    assert record["status"] == "completed" and "not_listed" in record["completed"] and "pay" not in record["completed"]


def test_erased_personal_data_is_not_compared_as_a_pseudonym(orch: Orchestrator, tmp_path: Path) -> None:
    key = _deploy(orch, tmp_path)
    case = orch.start_case(key, {"payee": "Ann Lee", "amount": 250})
    orch.erase(case.id, reason="the payee asked")
    orch.run(case.id)
    assert calls_of("pay_out") == []
    loaded = orch.runtime.load(case.id)
    [record] = loaded.facts.processes_ended.values()
    assert record["status"] == "failed" and "not_listed" not in record["completed"]
    [failed] = [e for e in events(orch.store, case.id, "tool_call_failed") if e.get("tool") == "bpmn:pay_small"]
    assert "cannot be revealed" in failed["error"]
    assert [i.state for i in loaded.engine.items() if i.definition_id == "pt_pay"] == ["failed"]  # type: ignore[union-attr]
    assert_sound(orch.store, case.id)
