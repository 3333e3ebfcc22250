"""An operation's verdict reads as what the person asked and what governance answered, in the
timeline every face shows (CLI ``history``, the demo, the web page): the store's
``describe_event``, on events the real operations recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.errors import GovernanceBlocked
from casepilot.store.timeline import describe_event
from tests.agent._support import CLAIMS, write_bundle
from tests.agent.conftest import OrchFactory
from tests.agent.test_operations import CLAIMS_OPERATOR, LETTER, OPERATOR, TWO, _operation_guardrail
from tests.agent.test_operations_children import OPS, _family
from tests.agent.test_operations_children import orch as orch  # the fixture


def _operation_lines(orch: Orchestrator, case_id: str) -> list[str]:
    return [describe_event(e, width=200) for e in orch.store.iter_history(case_id)
            if e.kind == "verdict" and e.payload.get("operation")]


def test_lifecycle_operations_name_the_reason_the_answer_and_the_children(orch: Orchestrator,
                                                                          tmp_path: Path) -> None:
    parent, child, _ = _family(orch, tmp_path)
    orch.suspend(parent, OPS, "legal hold")
    orch.terminate(parent, OPS, "customer withdrew")
    top = _operation_lines(orch, parent)
    assert top[0].startswith("suspend the case and its 2 running child cases (“legal hold”): allowed — ")
    assert top[1].startswith("terminate the case and its 2 running child cases (“customer withdrew”): allowed — ")
    assert _operation_lines(orch, child) == [
        f"suspend the case with its parent case {parent} (“legal hold”): allowed — "
        f"its parent case {parent} was suspended by olga",
        f"terminate the case with its parent case {parent} (“customer withdrew”): allowed — "
        f"its parent case {parent} was terminated by olga"]


def test_a_refused_operation_says_so_with_its_rule(make_orch: OrchFactory, tmp_path: Path) -> None:
    orch, _ = make_orch()
    folder = write_bundle(tmp_path / "b", "guarded-ops", TWO)
    _operation_guardrail(folder, "terminate")
    orch.deploy(folder)
    case = orch.start_case("guarded-ops", {"ref": "R-5"})
    with pytest.raises(GovernanceBlocked):
        orch.terminate(case.id, OPERATOR, "tidy up")
    assert _operation_lines(orch, case.id) == [
        "terminate the case (“tidy up”): refused — not by hand [rules: no_terminate]"]


def test_correct_and_reassign_say_what_changed(make_orch: OrchFactory, tmp_path: Path) -> None:
    orch, _ = make_orch()
    folder = write_bundle(tmp_path / "b", "correctable", TWO, variables=("ref", "contact"))
    _operation_guardrail(folder, "terminate")
    orch.deploy(folder)
    case = orch.start_case("correctable", {"ref": "R-6", "contact": {"amount": 800}})
    orch.correct(case.id, "contact.amount", 850, Person("carl", {"clerk"}), "typo")
    (line,) = _operation_lines(orch, case.id)
    assert line == "correct contact.amount: 800 → 850 (“typo”): allowed — ok [rules: rest]"

    orch.deploy(CLAIMS)
    claim = orch.start_case("claim-triage", {"letter": LETTER, "policy": "POL-1"})
    orch.run(claim.id)
    (task,) = orch.pending(claim.id)
    moved = orch.reassign(task.id, CLAIMS_OPERATOR, role="team lead", person="tina", reason="analysts are out")
    (line,) = _operation_lines(orch, claim.id)
    assert line.startswith(f"reassign inbox item {task.id} to team lead, tina (“analysts are out”): allowed — ")
    assert moved.role == "team lead"
