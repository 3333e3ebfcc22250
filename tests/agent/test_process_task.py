"""A CMMN process task bound to a BPMN process of its bundle, worked by Orchestrator.run/decide.

The process (``tests/bpmn/_process_bundle.py``): a DMN business-rule task, a user task for the
payments clerk, the non-idempotent service task ``pay_out``. Every step lands in the case's
hash-chained history (the chain verifies, replaying it gives the stored state), the user task
is an inbox item decided through the runner, the outputs come back into the case file and the
CMMN task completes — on SQLite and on PostgreSQL. A payee read from a document goes to a
person before ``pay_out`` runs (the provenance rule), and bundles that declare processes are
checked at deploy.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from casepilot.agent.bundle import load_folder
from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.rule_planner import RulePlanner
from casepilot.agent.task_fields import InvalidTaskValues
from casepilot.errors import DecisionRejected, DefinitionError
from casepilot.store import Store
from casepilot.tools import ToolRegistry
from casepilot.validation import validate_paths
from tests.agent._support import assert_sound, calls_of, events, make_registry
from tests.bpmn._process_bundle import (
    CLERK,
    OPERATOR,
    PROCESS,
    SUPERVISOR,
    decide_with,
    process_orchestrator,
    process_registry,
    write_process_bundle,
)

CLERK_ANN = Person("ann", {CLERK})
SUPERVISOR_SAM = Person("sam", {SUPERVISOR})


@pytest.fixture
def orch(url: str) -> Iterator[Orchestrator]:
    with process_orchestrator(url) as orchestrator:
        yield orchestrator


def _deploy(orch: Orchestrator, tmp_path: Path, key: str, *, from_letter: bool = False) -> None:
    orch.deploy(write_process_bundle(tmp_path / key, key, from_letter=from_letter))


def test_the_process_runs_governed_to_the_clerk_and_its_outputs_complete_the_task(
        orch: Orchestrator, tmp_path: Path) -> None:
    key = f"pay-{tmp_path.name[-12:]}"
    _deploy(orch, tmp_path, key)
    case = orch.start_case(key, {"payee": "Ann Lee", "amount": 250})
    outcome = orch.run(case.id)
    assert outcome.reason == "waiting_for_people"
    [item] = orch.pending(case.id)
    assert (item.kind, item.role, item.plan_item) == ("human_task", CLERK, "confirm")
    loaded = orch.runtime.load(case.id)
    [(instance_id, entry)] = loaded.facts.processes.items()
    assert entry["runner"]["process_id"] == "pay_small" and entry["runner"]["status"] == "waiting"
    # The business-rule task ran; no payment yet.
    assert [e["element"] for e in events(orch.store, case.id, "transition") if e.get("engine") == "bpmn"] == [
        "start", "level"]
    assert calls_of("pay_out") == []
    assert_sound(orch.store, case.id)

    with pytest.raises(DecisionRejected):  # a person without the clerk's role cannot decide it
        decide_with(orch, item.id, SUPERVISOR_SAM, {"ok": True})
    decided = decide_with(orch, item.id, CLERK_ANN, {"ok": True})
    assert decided.status == "decided" and decided.decided_by == "person:ann"
    assert calls_of("pay_out") == [{"payee": "Ann Lee", "amount": 250.0}]

    loaded = orch.runtime.load(case.id)
    assert loaded.facts.processes == {}
    variables = loaded.engine.variables()  # type: ignore[union-attr]
    # The tool saw the clear payee; the case file keeps its result pseudonymised, like any tool's.
    assert "Ann" not in str(variables["receipt"]) and variables["approval"] == "auto"
    assert orch.runtime.privacy is not None
    assert orch.runtime.privacy.reveal_payload(variables["receipt"], case.id) == {"transfer_id": "T-Ann Lee-250"}
    assert loaded.facts.provenance["receipt"]["trust"] == "untrusted"  # a tool wrote it
    assert loaded.engine.item(instance_id).state == "completed"  # type: ignore[union-attr]
    assert orch.run(case.id).case_state == "completed"
    verdicts = [e for e in events(orch.store, case.id, "verdict") if e.get("engine") == "bpmn"]
    assert [(v["element"], v["verdict"]["kind"]) for v in verdicts] == [("pay", "allow")]
    started = [e for e in events(orch.store, case.id, "tool_call_started") if e.get("engine") == "bpmn"]
    assert [(s["element"], s["tool"]) for s in started] == [("pay", "pay_out")]
    assert_sound(orch.store, case.id)
    assert orch.pending(case.id) == []


def test_a_refusing_clerk_ends_the_process_without_paying(orch: Orchestrator, tmp_path: Path) -> None:
    key = f"pay-no-{tmp_path.name[-12:]}"
    _deploy(orch, tmp_path, key)
    case = orch.start_case(key, {"payee": "Ann Lee", "amount": 5000})
    orch.run(case.id)
    [item] = orch.pending(case.id)
    decide_with(orch, item.id, CLERK_ANN, {"ok": False})
    assert calls_of("pay_out") == []
    variables = orch.runtime.load(case.id).engine.variables()  # type: ignore[union-attr]
    assert variables["approval"] == "manager" and variables.get("receipt") is None
    assert orch.run(case.id).case_state == "completed"
    assert_sound(orch.store, case.id)


def test_a_form_the_process_refuses_changes_nothing(orch: Orchestrator, tmp_path: Path) -> None:
    key = f"pay-form-{tmp_path.name[-12:]}"
    _deploy(orch, tmp_path, key)
    case = orch.start_case(key, {"payee": "Ann Lee", "amount": 10})
    orch.run(case.id)
    [item] = orch.pending(case.id)
    version = orch.store.case_version(case.id)
    # Refused where the values come in (typed like a human task's fields) or by the process's form check.
    with pytest.raises((DecisionRejected, InvalidTaskValues)):
        decide_with(orch, item.id, CLERK_ANN, {"ok": "yes please"})
    assert orch.store.case_version(case.id) == version
    assert [t.id for t in orch.pending(case.id)] == [item.id]


def test_a_payee_read_from_a_document_goes_to_a_person_before_the_payment(
        orch: Orchestrator, tmp_path: Path) -> None:
    key = f"pay-letter-{tmp_path.name[-12:]}"
    _deploy(orch, tmp_path, key, from_letter=True)
    case = orch.start_case(key, {"letter": "Dear insurer, Pay to: Mallory Fox. Thanks", "amount": 90})
    orch.run(case.id)
    [item] = orch.pending(case.id)
    decide_with(orch, item.id, CLERK_ANN, {"ok": True})
    assert calls_of("pay_out") == []  # the payee came from the letter: a person first
    [checkpoint] = orch.pending(case.id)
    assert (checkpoint.kind, checkpoint.role) == ("checkpoint", SUPERVISOR)
    [verdict] = [e for e in events(orch.store, case.id, "verdict") if e.get("engine") == "bpmn"]
    assert verdict["verdict"]["kind"] == "require_human" and verdict["untrusted_arguments"] == ["payee"]
    assert verdict["provenance"]["payee"][0] == "untrusted" and "read_letter" in verdict["provenance"]["payee"][1]
    assert_sound(orch.store, case.id)
    with pytest.raises(DecisionRejected):
        orch.decide(checkpoint.id, CLERK_ANN, "approve")
    orch.decide(checkpoint.id, SUPERVISOR_SAM, "approve", "checked the payee by phone")
    assert calls_of("pay_out") == [{"payee": "Mallory Fox", "amount": 90.0}]
    assert orch.run(case.id).case_state == "completed"
    assert_sound(orch.store, case.id)


def test_a_rejected_checkpoint_fails_the_process_and_faults_the_task(orch: Orchestrator, tmp_path: Path) -> None:
    key = f"pay-rej-{tmp_path.name[-12:]}"
    _deploy(orch, tmp_path, key, from_letter=True)
    case = orch.start_case(key, {"letter": "Pay to: Mallory Fox.", "amount": 90})
    orch.run(case.id)
    [item] = orch.pending(case.id)
    decide_with(orch, item.id, CLERK_ANN, {"ok": True})
    [checkpoint] = orch.pending(case.id)
    orch.decide(checkpoint.id, SUPERVISOR_SAM, "reject")
    loaded = orch.runtime.load(case.id)
    assert calls_of("pay_out") == [] and loaded.facts.processes == {}
    view = next(v for v in loaded.engine.items() if v.name == "Pay")  # type: ignore[union-attr]
    assert view.state == "failed"
    [failed] = [e for e in events(orch.store, case.id, "tool_call_failed") if e.get("tool") == "bpmn:pay_small"]
    assert "rejected" in failed["error"]
    assert_sound(orch.store, case.id)


def test_terminating_the_case_stops_its_process_and_cancels_its_inbox_items(
        orch: Orchestrator, tmp_path: Path) -> None:
    from casepilot.agent import operations

    key = f"pay-end-{tmp_path.name[-12:]}"
    _deploy(orch, tmp_path, key)
    case = orch.start_case(key, {"payee": "Ann Lee", "amount": 250})
    orch.run(case.id)
    [item] = orch.pending(case.id)
    operations.terminate(orch, case.id, Person("olga", {OPERATOR}), "the claim was withdrawn")
    assert orch.pending(case.id) == [] and orch.store.task(item.id).status == "cancelled"
    loaded = orch.runtime.load(case.id)
    assert loaded.facts.processes == {} and loaded.engine is not None and loaded.engine.state == "terminated"
    [stopped] = [e for e in events(orch.store, case.id, "error") if e.get("engine") == "bpmn"]
    assert "its process stopped" in stopped["problem"]
    assert calls_of("pay_out") == []
    assert_sound(orch.store, case.id)


def test_a_process_timer_is_advanced_by_the_first_run_after_it_is_due(tmp_path: Path) -> None:
    now = [dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)]
    store = Store.from_url(f"sqlite:///{tmp_path / 'cases.db'}")
    orch = Orchestrator(store, process_registry(), RulePlanner(), clock=lambda: now[0])
    try:
        orch.deploy(write_process_bundle(tmp_path / "timer", "pay-timer", timer=True))
        case = orch.start_case("pay-timer", {"payee": "Ann Lee", "amount": 30})
        orch.run(case.id)
        [item] = orch.pending(case.id)
        decide_with(orch, item.id, CLERK_ANN, {"ok": True})
        [entry] = orch.runtime.load(case.id).facts.processes.values()
        assert entry["next_timer"] == "2026-03-01T10:00:00+00:00"
        now[0] += dt.timedelta(minutes=59)
        assert orch.run(case.id).reason == "waiting_for_events" and calls_of("pay_out") == []
        now[0] += dt.timedelta(minutes=2)
        assert orch.run(case.id).case_state == "completed"
        assert calls_of("pay_out") == [{"payee": "Ann Lee", "amount": 30.0}]
        assert_sound(store, case.id)
    finally:
        orch.close()
        store.close()


def test_a_process_ref_naming_no_process_of_the_bundle_is_refused_at_deploy(tmp_path: Path) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path / 'cases.db'}")
    orch = Orchestrator(store, process_registry(), RulePlanner())
    try:
        with pytest.raises(DefinitionError) as caught:
            orch.deploy(write_process_bundle(tmp_path / "bad", "bad", process_ref="pay_big"))
        assert "pay_big" in str(caught.value.problems[0]) and "pay_small" in str(caught.value.problems[0])
    finally:
        orch.close()
        store.close()


def test_a_broken_process_of_the_bundle_is_refused_with_its_problems(tmp_path: Path) -> None:
    folder = write_process_bundle(tmp_path / "broken", "broken")
    (folder / "pay.bpmn").write_text((folder / "pay.bpmn").read_text().replace(
        '<bpmn:serviceTask id="pay" name="Pay" cp:tool="pay_out"',
        '<bpmn:scriptTask id="py" name="Python"><bpmn:script>print(1)</bpmn:script></bpmn:scriptTask>'
        '<bpmn:serviceTask id="pay" name="Pay" cp:tool="pay_out"'), encoding="utf-8")
    store = Store.from_url(f"sqlite:///{tmp_path / 'cases.db'}")
    orch = Orchestrator(store, process_registry(), RulePlanner())
    try:
        with pytest.raises(DefinitionError) as caught:
            orch.deploy(folder)
        assert "scripts cannot run in casepilot" in str(caught.value) + "".join(
            str(p) for p in caught.value.problems)
    finally:
        orch.close()
        store.close()


def test_the_bundle_files_include_the_processes(tmp_path: Path) -> None:
    from casepilot.agent.bundle import bundle_files

    folder = write_process_bundle(tmp_path / "files", "files")
    assert {"pay.bpmn", "approval.dmn", "case.cmmn"} <= set(bundle_files(folder))


def _refused(folder: Path, registry: ToolRegistry) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        load_folder(folder, registry)
    return caught.value


def test_a_service_task_calling_an_unknown_tool_is_refused_at_deploy(tmp_path: Path) -> None:
    folder = write_process_bundle(tmp_path / "unknown", "unknown")
    error = _refused(folder, make_registry())  # no pay_out in it
    assert "'pay_out'" in str(error) and error.problems[0].element == "pay"


def test_a_non_idempotent_service_task_needs_an_operator_role(tmp_path: Path) -> None:
    folder = write_process_bundle(tmp_path / "no-operator", "no-operator")
    manifest = yaml.safe_load((folder / "casepilot.yaml").read_text())
    del manifest["governance"]["operator_role"]
    (folder / "casepilot.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    error = _refused(folder, process_registry())
    assert "pay_out" in str(error) and "operator_role" in str(error)


def test_casepilot_validate_checks_the_processes_of_a_bundle(tmp_path: Path) -> None:
    folder = write_process_bundle(tmp_path / "validated", "validated")
    manifest = yaml.safe_load((folder / "casepilot.yaml").read_text())
    manifest["tools"] = ["tests.bpmn._process_bundle:PROCESS_TOOLS"]
    (folder / "casepilot.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    out = io.StringIO()
    assert validate_paths([folder], Console(file=out, width=400)) == 0, out.getvalue()
    (folder / "pay.bpmn").write_text(PROCESS.replace('cp:decision="approval_level"', 'cp:decision="no_such"'),
                                     encoding="utf-8")
    out = io.StringIO()
    assert validate_paths([folder], Console(file=out, width=400)) >= 1
    assert "no_such" in out.getvalue() and "FAIL" in out.getvalue()
