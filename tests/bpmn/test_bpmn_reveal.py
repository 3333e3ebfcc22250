"""FEEL in a process sees the clear values behind pseudonyms through the host's revealer (casepilot.governance.pii.reveal).

Without a revealer the values are used as stored; with one, the pseudonyms of the variables an
expression reads (and only those) are revealed for that evaluation, results that are kept get
the pseudonyms back, and a pseudonym that cannot be revealed stops the process.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import pytest

from casepilot.bpmn import ProcessInstance, load_processes
from casepilot.bpmn.instance import ProcessFailed
from casepilot.governance.pii import InMemoryVault
from casepilot.governance.pii.reveal import VaultRevealer, conceal
from tests.bpmn._models import gateway_with_condition, process

CASE = "case-1"


class Spy(VaultRevealer):
    """A vault revealer recording what it was asked and what it concealed."""

    def __init__(self, vault: InMemoryVault) -> None:
        super().__init__(vault, CASE, conceal=self._detector)
        self.asked: list[list[str]] = []
        self.concealed: list[Any] = []

    def reveal(self, tokens: Collection[str]) -> Mapping[str, str]:
        self.asked.append(sorted(tokens))
        return super().reveal(tokens)

    def _detector(self, value: Any) -> Any:
        self.concealed.append(value)
        return value


@pytest.fixture
def vault() -> InMemoryVault:
    vault = InMemoryVault()
    vault.put(CASE, "<PERSON_1>", "Ann Lee")
    vault.put(CASE, "<PERSON_2>", "Bob Stone")
    return vault


DATA = {"payee": "<PERSON_1>", "clerk": "<PERSON_2>", "amount": 40}


def test_a_gateway_compares_the_clear_value_and_the_data_keeps_the_pseudonym(vault: InMemoryVault) -> None:
    defs = load_processes(gateway_with_condition('payee = "Ann Lee"'))
    assert ProcessInstance.start(defs, data=DATA).active_elements() == ["b"]  # no revealer: the pseudonym
    spy = Spy(vault)
    instance = ProcessInstance.start(defs, data=DATA, revealer=spy)
    assert instance.active_elements() == ["a"]
    assert spy.asked == [["<PERSON_1>"]]  # only what the condition reads (not the clerk)
    assert instance.data["payee"] == "<PERSON_1>"
    assert "Ann" not in instance.dump()


def test_an_expression_reading_no_pseudonym_reveals_nothing(vault: InMemoryVault) -> None:
    spy = Spy(vault)
    instance = ProcessInstance.start(load_processes(gateway_with_condition("amount > 10")), data=DATA, revealer=spy)
    assert instance.active_elements() == ["a"] and spy.asked == []


def test_erased_personal_data_stops_the_process_instead_of_comparing_pseudonyms(vault: InMemoryVault) -> None:
    vault.shred(CASE)
    for condition in ('payee = "Ann Lee"', 'payee != "Ann Lee"'):
        with pytest.raises(ProcessFailed, match="cannot be revealed"):
            ProcessInstance.start(load_processes(gateway_with_condition(condition)), data=DATA,
                                  revealer=VaultRevealer(vault, CASE))


SERVICE = process("""
<bpmn:startEvent id="s"/>
<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="t"/>
<bpmn:serviceTask id="t" cp:tool="pay_out" cp:resultVariable="receipt">
  <bpmn:extensionElements>
    <cp:input name="payee">payee</cp:input>
    <cp:input name="reference">"Claim of " + upper case(payee)</cp:input>
    <cp:input name="country">if payee = "Ann Lee" then "DE" else "FR"</cp:input>
    <cp:output name="note">result.id + " for " + payee</cp:output>
  </bpmn:extensionElements>
</bpmn:serviceTask>
<bpmn:sequenceFlow id="f1" sourceRef="t" targetRef="e"/>
<bpmn:endEvent id="e"/>""")


def test_mappings_see_clear_values_and_keep_pseudonyms(vault: InMemoryVault) -> None:
    spy = Spy(vault)
    instance = ProcessInstance.start(load_processes(SERVICE), data=DATA, revealer=spy)
    [call] = instance.service_calls()
    assert dict(call.arguments) == {"payee": "<PERSON_1>", "reference": "Claim of <PERSON_1>", "country": "DE"}
    instance.complete_service(call.call_id, {"id": "T-1"})
    assert instance.completed and instance.data["note"] == "T-1 for <PERSON_1>"
    # What becomes data passes through the host's detector too (it catches what FEEL derived).
    assert "Claim of <PERSON_1>" in spy.concealed and "T-1 for <PERSON_1>" in spy.concealed
    assert "Ann" not in instance.dump() and "ANN" not in instance.dump()


def test_conceal_puts_back_longer_values_first_and_ignores_case() -> None:
    clear = {"<PERSON_1>": "Ann Lee", "<PERSON_2>": "Ann"}
    assert conceal({"a": ["ANN LEE and ann", 3]}, clear) == {"a": ["<PERSON_1> and <PERSON_2>", 3]}
    assert conceal(True, clear) is True


PAYEE_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="payees" name="payees" namespace="t">
  <decision id="payee_kind" name="Payee kind">
    <informationRequirement id="ir"><requiredInput href="#payee_in"/></informationRequirement>
    <decisionTable id="dt" hitPolicy="FIRST">
      <input id="i1" label="payee"><inputExpression id="ie1" typeRef="string"><text>payee</text></inputExpression></input>
      <output id="o1" name="kind" typeRef="string"/>
      <output id="o2" name="who" typeRef="string"/>
      <rule id="r1"><inputEntry id="r1i"><text>"Ann Lee"</text></inputEntry>
        <outputEntry id="r1o"><text>"staff"</text></outputEntry><outputEntry id="r1w"><text>payee</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="r2i"><text>-</text></inputEntry>
        <outputEntry id="r2o"><text>"external"</text></outputEntry><outputEntry id="r2w"><text>payee</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <inputData id="payee_in" name="payee"/>
</definitions>
"""

RULE = process("""
<bpmn:startEvent id="s"/>
<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="d"/>
<bpmn:businessRuleTask id="d" cp:decision="payee_kind" cp:resultVariable="kind"/>
<bpmn:sequenceFlow id="f1" sourceRef="d" targetRef="w"/>
<bpmn:userTask id="w"/>
<bpmn:sequenceFlow id="f2" sourceRef="w" targetRef="e"/>
<bpmn:endEvent id="e"/>""")


def test_a_decision_reads_clear_inputs_and_its_result_keeps_pseudonyms(vault: InMemoryVault) -> None:
    defs = load_processes(RULE, decisions=[PAYEE_DMN])
    assert ProcessInstance.start(defs, data=DATA).data["kind"]["kind"] == "external"  # no revealer
    instance = ProcessInstance.start(defs, data=DATA, revealer=VaultRevealer(vault, CASE))
    assert instance.data["kind"] == {"kind": "staff", "who": "<PERSON_1>"}
    assert "Ann" not in instance.dump()


def test_a_copied_value_skips_the_detector(vault: InMemoryVault) -> None:
    spy = Spy(vault)
    instance = ProcessInstance.start(load_processes(SERVICE), data=DATA, revealer=spy)
    assert "<PERSON_1>" not in spy.concealed  # the payee argument is the stored pseudonym, copied
    assert instance.service_calls()[0].arguments["payee"] == "<PERSON_1>"


def test_the_engine_environment_reveals_too(vault: InMemoryVault) -> None:
    """SpiffWorkflow evaluates ad-hoc completion conditions and message correlations through the
    engine's ``environment``: it uses the same revealer."""
    from casepilot.bpmn.engine import FeelScriptEngine

    engine = FeelScriptEngine(revealer=VaultRevealer(vault, CASE))
    assert engine.environment.evaluate('payee = "Ann Lee"', DATA) is True
    assert FeelScriptEngine().environment.evaluate('payee = "Ann Lee"', DATA) is False
