"""A worker refuses a case whose stored state or inbox was edited behind the store's back:
``run`` and a person's decision raise ``StateTampered`` saying why, and nothing is done."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from casepilot.agent.orchestrator import Person
from casepilot.demo.run import LETTERS
from casepilot.store._canonical import dumps_text
from casepilot.store.history import StateTampered
from tests.agent._support import CALLS, CLAIMS
from tests.agent.conftest import OrchFactory


def test_a_worker_refuses_an_edited_state(make_orch: OrchFactory) -> None:
    orch, store = make_orch()
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", {"letter": LETTERS["straight-through"], "policy": "POL-1"})
    state = store.case(case.id).state
    state["engine"]["variables"]["policy"] = "POL-FORGED"
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE cases SET state_json = :s WHERE id = :c"), {"s": dumps_text(state), "c": case.id})
    other, _ = make_orch()  # a worker that has not cached the case
    with pytest.raises(StateTampered, match=r"cases\.state_json"):
        other.run(case.id)
    assert not [e for e in store.history(case.id) if e.kind == "tool_call_started"]
    assert not CALLS


def test_an_edited_inbox_role_is_refused_before_a_decision(make_orch: OrchFactory) -> None:
    orch, store = make_orch()
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-1"})
    outcome = orch.run(case.id)
    [task] = store.tasks(case_id=case.id)
    assert outcome.pending and task.role
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE human_tasks SET role = 'intern' WHERE id = :t"), {"t": task.id})
    other, _ = make_orch()
    with pytest.raises(StateTampered, match=f"inbox item {task.id}.*role"):
        other.decide(task.id, Person("ivy", {"intern"}), "approve")
    # the worker that ran the case holds it in its cache (the edit did not move the case's version)
    with pytest.raises(StateTampered, match=f"inbox item {task.id}.*role"):
        orch.decide(task.id, Person("ivy", {"intern"}), "approve")
    assert store.task(task.id).status == "open"
