"""A decision's output derived from a clear value (not copied) is stored pseudonymised, never clear.

A DMN decision sees the clear values behind the case file's pseudonyms. What it returns is
stored — a CMMN decision task's output in the case file, a BPMN business-rule task's result in
the process data. An output that *copies*
a clear value gets its pseudonym back; one that *derives* text from it — ``substring(payee, 1,
4)``, ``upper case(payee)``, ``substring(iban, 1, 8)``, ``"ref " + substring(iban, 5, 8)`` — must
not land in the store as partially clear personal data: it goes through the case's PII detector
and what still carries a run of a clear value is pseudonymised whole (as its own pseudonym, which
the vault reveals to what the decision made). A table literal (``"domestic"``) stays as it is.
SQLite and PostgreSQL; the history's hash chain verifies.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.governance.pii.pseudonymizer import TOKEN_PATTERN
from casepilot.governance.pii.vault import reveal_tokens
from casepilot.store import Store
from casepilot.tools import ToolRegistry
from tests._postgres import require_postgres, throwaway_database
from tests.agent._support import assert_sound, stored_text
from tests.bpmn._process_bundle import process_registry, write_process_bundle

PAYEE, IBAN = "John Smith", "DE89370400440532013000"
FRAGMENTS = ("John", "JOHN", "Smith", "SMITH", "DE89", "3704", "0044", IBAN)

CASE = """<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="d" targetNamespace="x">
  <case id="derive_case" name="Derive">
    <caseFileModel id="cfm">
      <caseFileItem id="cfi_payee" name="payee" multiplicity="ZeroOrOne"/>
      <caseFileItem id="cfi_iban" name="iban" multiplicity="ZeroOrOne"/>
      <caseFileItem id="cfi_derived" name="derived" multiplicity="ZeroOrOne"/>
    </caseFileModel>
    <casePlanModel id="cpm" name="Derive" autoComplete="false">
      <planItem id="pi_derive" name="Derive" definitionRef="dt_derive"/>
      <decisionTask id="dt_derive" name="Derive" decisionRef="derive">
        <output id="o_derived" bindingRef="cfi_derived"/>
      </decisionTask>
    </casePlanModel>
  </case>
</definitions>"""


def _dmn(with_iban: bool) -> str:
    """One rule; outputs derived from the payee (and the IBAN) in every way but copying, plus a literal."""
    outputs = [("route", '"domestic"'), ("initials", "substring(payee, 1, 4)"), ("shout", "upper case(payee)")]
    if with_iban:
        outputs += [("bank", "substring(iban, 1, 8)"), ("ref", '"ref " + substring(iban, 5, 8)')]
    inputs = ["payee", *(["iban"] if with_iban else [])]
    return f"""<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dd" name="dd" namespace="x">
  <decision id="derive" name="derive">
    {"".join(f'<informationRequirement id="ir_{n}"><requiredInput href="#{n}"/></informationRequirement>'
             for n in inputs)}
    <decisionTable id="table" hitPolicy="UNIQUE">
      <input id="i_payee"><inputExpression id="e1" typeRef="string"><text>payee</text></inputExpression></input>
      {"".join(f'<output id="o_{name}" name="{name}" typeRef="string"/>' for name, _ in outputs)}
      <rule id="only"><inputEntry><text>-</text></inputEntry>
        {"".join(f"<outputEntry><text>{text}</text></outputEntry>" for _, text in outputs)}
      </rule>
    </decisionTable>
  </decision>
  {"".join(f'<inputData id="{n}" name="{n}"/>' for n in inputs)}
</definitions>"""


PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:cp="https://casepilot.dev/bpmn/extensions" id="pay_defs" targetNamespace="t">
  <bpmn:process id="pay_small" name="Derive in a process" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:businessRuleTask id="level" name="Derive" cp:decision="derive" cp:resultVariable="approval">
      <bpmn:extensionElements><cp:input name="payee">payee</cp:input></bpmn:extensionElements>
    </bpmn:businessRuleTask>
    <bpmn:userTask id="file" name="File the result" cp:role="payments clerk"/>
    <bpmn:endEvent id="done"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="level"/>
    <bpmn:sequenceFlow id="f2" sourceRef="level" targetRef="file"/>
    <bpmn:sequenceFlow id="f3" sourceRef="file" targetRef="done"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    server = require_postgres()  # a missing server fails the test, never skips it
    with throwaway_database(server, "casepilot_derived") as name:
        yield server.sqlalchemy_url(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'cases.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    opened = Store.from_url(url)
    yield opened
    opened.close()


def _orch(store: Store, registry: ToolRegistry) -> Orchestrator:
    return Orchestrator(store, registry, RulePlanner())


def _revealed(orch: Orchestrator, case_id: str, token: str) -> str:
    assert orch.runtime.privacy is not None
    return reveal_tokens(orch.runtime.privacy.vault, case_id, [token])[token]


def _values_of(data: Any, key: str) -> Iterator[Any]:
    """Every value stored under ``key`` anywhere in ``data`` (a serialised process keeps task data deltas)."""
    if isinstance(data, dict):
        for name, value in data.items():
            if name == key:
                yield value
            else:
                yield from _values_of(value, key)
    elif isinstance(data, list):
        for value in data:
            yield from _values_of(value, key)


def _check_payee_outputs(orch: Orchestrator, case_id: str, derived: dict[str, str], payee_token: str) -> None:
    assert derived["route"] == "domestic"  # a table literal: unchanged
    assert derived["shout"] == payee_token  # the whole name, upper case: a copy, its pseudonym back
    initials = derived["initials"]
    assert TOKEN_PATTERN.fullmatch(initials) and initials != payee_token, derived
    assert _revealed(orch, case_id, initials) == "John"  # kept, reversibly: the vault has what the decision made


def test_a_decision_task_stores_no_text_derived_from_a_clear_value(store: Store, tmp_path: Path) -> None:
    orch = _orch(store, ToolRegistry([]))
    try:
        key = f"derive-{tmp_path.name[-12:]}"
        folder = tmp_path / key
        folder.mkdir()
        (folder / "case.cmmn").write_text(CASE, encoding="utf-8")
        (folder / "derive.dmn").write_text(_dmn(with_iban=True), encoding="utf-8")
        (folder / "casepilot.yaml").write_text(f"key: {key}\nmodel: case.cmmn\ndecisions: [derive.dmn]\n",
                                               encoding="utf-8")
        orch.deploy(folder)
        case = orch.start_case(key, {"payee": PAYEE, "iban": IBAN})
        orch.run(case.id)

        variables = orch.runtime.load(case.id).engine.variables()  # type: ignore[union-attr]
        derived = variables["derived"]
        _check_payee_outputs(orch, case.id, derived, variables["payee"])
        bank, ref = derived["bank"], derived["ref"]
        assert TOKEN_PATTERN.fullmatch(bank) and bank != variables["iban"], derived
        assert _revealed(orch, case.id, bank) == IBAN[:8]
        assert TOKEN_PATTERN.search(ref) and "3704" not in ref, derived
        stored = stored_text(orch.store, case.id)
        assert [f for f in FRAGMENTS if f in stored] == []
        assert_sound(orch.store, case.id)
    finally:
        orch.close()


def test_a_business_rule_task_stores_no_text_derived_from_a_clear_value(store: Store, tmp_path: Path) -> None:
    orch = _orch(store, process_registry())
    try:
        key = f"derivep-{tmp_path.name[-12:]}"
        folder = write_process_bundle(tmp_path / key, key)
        (folder / "pay.bpmn").write_text(PROCESS, encoding="utf-8")
        (folder / "approval.dmn").write_text(_dmn(with_iban=False), encoding="utf-8")
        orch.deploy(folder)
        case = orch.start_case(key, {"payee": PAYEE, "amount": 250})
        orch.run(case.id)

        # The process waits at the clerk's task with the decision's result in its stored data.
        loaded = orch.runtime.load(case.id)
        [entry] = loaded.facts.processes.values()
        [approval] = list(_values_of(entry["runner"]["process"], "approval"))
        _check_payee_outputs(orch, case.id, approval, loaded.engine.variables()["payee"])  # type: ignore[union-attr]
        stored = stored_text(orch.store, case.id)
        assert [f for f in FRAGMENTS if f in stored] == []
        assert_sound(orch.store, case.id)
    finally:
        orch.close()
