"""A step writes only the agent facts it changed (issue 15): a claim's payment process lives in
the facts, and writing all of them at every step wrote its ten kilobytes again each time; written
key by key, the process was still written whole at each of its batches. Checked against the truth
at every step: replaying the history gives, after each delta, exactly the facts the orchestrator
held when it wrote it; a delta names exactly the keys whose value changed — none missed, none
written for nothing — and writes a changed process by what changed in it, a fraction of it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from casepilot.agent import _step_writer
from casepilot.agent.privacy import jsonable
from casepilot.store.history import apply_ops
from tests._claims import claim
from tests.agent._support import CLAIMS, assert_sound
from tests.agent.conftest import OrchFactory


def test_each_step_writes_the_facts_it_changed_and_the_history_keeps_them_true(
        make_orch: OrchFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    written_with: list[tuple[list[Any], dict[str, Any]]] = []
    changes = _step_writer._changes

    def spy(engine: Any, facts: Any, stored_agent: dict[str, Any] | None) -> tuple[list[Any], dict[str, Any]]:
        truth = jsonable(facts.to_json())  # the orchestrator's facts when the step is written
        ops, agent = changes(engine, facts, stored_agent)
        written_with.append((ops, truth))
        return ops, agent

    monkeypatch.setattr(_step_writer, "_changes", spy)
    orch, store = make_orch()
    version = orch.deploy(CLAIMS)
    case = orch.start_case(version.key, claim("small", "CLM-DELTA-1"), "delta-1")
    assert orch.run(case.id).reason == "completed"

    state: dict[str, Any] = {}
    by_key = whole = 0
    process_deltas: list[tuple[int, int]] = []  # (bytes of the ops on the process, bytes of the process)
    for event in store.history(case.id):
        if event.kind in ("case_created", "state"):
            state = copy.deepcopy(dict(event.payload["state"]))
        elif event.kind == "state_delta":
            ops = event.payload["ops"]
            before = copy.deepcopy(state["agent"])
            apply_ops(state, copy.deepcopy(ops))
            [truth] = [t for written, t in written_with if written == ops]
            assert state["agent"] == truth, f"event {event.seq}: the history's facts are not the orchestrator's"
            agent_ops = [op for op in ops if op[1][0] == "agent"]
            if agent_ops == [["set", ["agent"], truth]]:
                whole += 1
                continue
            by_key += 1
            assert {op[1][1] for op in agent_ops} == {k for k in truth if before.get(k) != truth[k]}
            assert all(op[0] == "set" and len(op[1]) >= 2 for op in agent_ops)
            on_process = [op for op in agent_ops if op[1][1] == "processes"]
            if on_process and truth["processes"]:
                process_deltas.append((len(json.dumps(on_process)), len(json.dumps(truth["processes"]))))
    assert by_key >= 2, (by_key, whole)
    assert process_deltas, "no delta changed the payment process"
    # A few of its tasks, not the whole workflow again (a batch that drops tasks writes the task
    # table whole: a delta has no operation that removes a key).
    assert sum(written for written, _ in process_deltas) < sum(whole for _, whole in process_deltas) / 2, process_deltas
    assert min(written for written, _ in process_deltas) < min(whole for _, whole in process_deltas) / 10
    assert whole <= 1  # only the first delta of a copy read from the store writes them all
    assert_sound(store, case.id)
