"""A call that may have run goes to the operator role — never to anyone.

A worker stops between recording a non-idempotent call as started and recording its end
(here: the loop is driven by hand and stops after ``govern``). The next run asks the
bundle's operator role whether to run it again; a person without that role cannot answer.
With no operator role anywhere, the call stays parked — nobody can approve it — and the
case says why, until a Governor that names one asks the question at last.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from casepilot.agent.nodes import LoopState, Nodes
from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.errors import DecisionRejected
from casepilot.governance.governor import Governor
from tests.agent._support import TaskSpec, assert_sound, calls_of, events, write_bundle
from tests.agent.conftest import OrchFactory


def _stop_after_govern(orch: Orchestrator, case_id: str, *, now_non_idempotent: bool = False) -> str:
    """Work one step of the case up to ``govern`` (the call is recorded as started), then stop.

    ``now_non_idempotent``: the call's tool was idempotent when governed (so ``govern`` left the
    call for ``record`` to write with its outcome) but counts as non-idempotent now (e.g. a
    registry that changed since deploy): the call is written as started, as non-idempotent.
    """
    nodes = Nodes(orch.runtime)
    state: LoopState = {"case_id": case_id, "max_steps": 5, "steps": 0, "blocked": [], "stop": None}
    state.update(nodes.observe(state))
    state.update(nodes.plan(state))
    state.update(nodes.govern(state))
    call_id = state.get("call_id")
    assert call_id is not None
    if now_non_idempotent:
        deferred = state.get("deferred")
        assert deferred is not None and deferred["started"] is not None
        deferred["started"]["call"]["side_effect"] = "non_idempotent"
        with orch.runtime.step(case_id) as (step, loaded):
            nodes._write_decision(step, loaded, deferred)
    else:
        assert state.get("deferred") is None  # a non-idempotent call is stored as started before it runs
    return call_id


def test_a_payment_that_may_have_run_goes_to_the_operator_role(make_orch: OrchFactory, tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "pay", "pay", (TaskSpec("pay", "Pay out", "wire_transfer", {"iban": "ref"}, {}),),
                          extra_governance={"operator_role": "payments operator"})
    orch, store = make_orch()
    orch.deploy(folder)
    case = orch.start_case("pay", {"ref": "R-1"})
    _stop_after_govern(orch, case.id)

    [task] = orch.run(case.id).pending

    assert calls_of("wire_transfer") == []
    assert (task.kind, task.role) == ("checkpoint", "payments operator")
    with pytest.raises(DecisionRejected):
        orch.decide(task.id, Person("mallory", {"intern"}), "approve")
    orch.decide(task.id, Person("olga", {"payments operator"}), "approve")
    assert orch.run(case.id).reason == "completed"
    assert len(calls_of("wire_transfer")) == 1
    assert_sound(store, case.id)


def test_without_any_operator_role_the_call_stays_parked_and_nobody_can_approve(
    make_orch: OrchFactory, tmp_path: Path
) -> None:
    folder = write_bundle(tmp_path / "plain", "plain", (TaskSpec("a", "Task A", "tool_a", {"ref": "ref"}, {}),),
                          extra_governance={"operator_role": None})
    orch, store = make_orch()
    orch.deploy(folder)
    case = orch.start_case("plain", {"ref": "R-2"})
    _stop_after_govern(orch, case.id, now_non_idempotent=True)

    outcome = orch.run(case.id)

    assert calls_of("tool_a") == []
    assert outcome.pending == () and orch.pending(case.id) == []
    assert "operator_role" in events(store, case.id, "error")[-1]["problem"]
    assert [p.option_id for p in orch.runtime.load(case.id).facts.parked.values()] == ["run:case.1"]
    assert orch.run(case.id).pending == ()  # still parked: not offered again, nobody asked
    assert calls_of("tool_a") == []

    # A Governor that names an operator role (built in Python) asks the question at last.
    ops = Orchestrator(store, orch.registry, governor=Governor(operator_role="night operator", provenance_role=None))
    [task] = ops.run(case.id).pending
    assert task.role == "night operator"
    ops.close()
    assert_sound(store, case.id)
