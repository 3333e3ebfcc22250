"""Governance sees who acts and how often.

* Loop guard: the case counts how often it already did each plan item and made each exact
  tool call (kept with the case's state) and hands the counts to governance, whose default
  policy stops the fourth repeat for a person — for the agent's steps and people's actions
  alike. An agent planning the same discretionary item again and again no longer runs
  until ``max_steps``.
* Chat: an instruction in the chat is governed as the person who wrote it, with their
  roles, and recorded as theirs — a person's chat can do no more than that person could.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from casepilot.agent.chat import confirm, converse
from casepilot.agent.facts import split_state
from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.planning import Observation, Plan
from casepilot.errors import GovernanceBlocked
from tests.agent._support import (
    Reviewed,
    TaskSpec,
    assert_sound,
    calls_of,
    events,
    watch_reviews,
    write_bundle,
    write_files,
)
from tests.agent.conftest import OrchFactory


@pytest.fixture
def reviewed(monkeypatch: pytest.MonkeyPatch) -> Reviewed:
    return watch_reviews(monkeypatch)


LOOPING = """<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="d" targetNamespace="x">
  <case id="looping" name="Looping">
    <caseFileModel id="cfm"><caseFileItem id="cfi_ref" name="ref" multiplicity="ZeroOrOne"/></caseFileModel>
    <casePlanModel id="cpm" name="Looping">
      <planItem id="pi_keep" name="Keep open" definitionRef="h_keep"/>
      <planningTable id="pt"><discretionaryItem id="di_again" name="Check again" definitionRef="t_again"/></planningTable>
      <humanTask id="h_keep" name="Keep open"/>
      <task id="t_again" name="Check again"/>
    </casePlanModel>
  </case>
</definitions>"""


class Looper:
    """A confused planner: runs whatever task is active, else plans "Check again" once more."""

    name = "looper"

    def plan(self, observation: Observation) -> Plan:
        for kind in ("run_task", "plan"):
            option = next((o for o in observation.options if o.kind == kind), None)
            if option is not None:
                return Plan(option.id, arguments=dict(option.default_arguments), planner=self.name)
        return Plan("wait", planner=self.name)


def _looping_bundle(root: Path) -> Path:
    return write_files(root / "looping", {
        "case.cmmn": LOOPING,
        "bindings.yaml": {"bindings": [{"task": "Check again", "tool": "tool_a", "inputs": {"ref": "ref"},
                                        "outputs": {}}]},
        "casepilot.yaml": {"key": "looping", "model": "case.cmmn", "bindings": "bindings.yaml",
                           "human_tasks": {"Keep open": {"role": "clerk"}},
                           "governance": {"provenance_role": None, "operator_role": "operator", "max_repeats": 3}}})


def test_the_fourth_repeat_of_an_item_or_a_call_needs_the_operator(make_orch: OrchFactory, tmp_path: Path,
                                                                 reviewed: Reviewed) -> None:
    orch, store = make_orch(Looper())
    orch.deploy(_looping_bundle(tmp_path))
    case = orch.start_case("looping", {"ref": "R-1"})

    outcome = orch.run(case.id, max_steps=40)

    planned = [c.times_planned for a, c, _v in reviewed if a.kind == "transition" and a.name == "plan"]
    called = [(c.times_planned, c.times_called) for a, c, _v in reviewed if a.name == "tool_a"]
    assert planned == [0, 1, 2, 3]
    assert called == [(0, 0), (1, 1), (2, 2)]
    assert len(calls_of("tool_a")) == 3
    assert outcome.reason == "waiting_for_people"
    guard = next(t for t in outcome.pending if t.kind == "checkpoint")
    assert guard.role == "operator" and guard.plan_item == "Check again"
    assert "loop guard" in events(store, case.id, "verdict")[-1]["policies"]
    agent = store.case(case.id).state["agent"]
    assert agent["planned"] == {"transition:plan:Check again": 3, "tool_call:tool_a:Check again": 3}
    assert list(agent["called"].values()) == [3]
    assert_sound(store, case.id)


def test_people_count_too_and_old_states_start_at_zero(make_orch: OrchFactory, tmp_path: Path,
                                                       reviewed: Reviewed) -> None:
    orch, store = make_orch()  # the rule planner plans nothing by itself here
    orch.deploy(_looping_bundle(tmp_path))
    case = orch.start_case("looping", {"ref": "R-2"})
    again = next(a for a in orch.person_actions(case.id) if a.label == "Check again")
    clerk = Person("cid", {"clerk"})

    for _ in range(3):
        orch.perform(case.id, again.id, clerk)
    with pytest.raises(GovernanceBlocked, match="already planned or run 3 times"):
        orch.perform(case.id, again.id, clerk)

    assert [c.times_planned for _a, c, _v in reviewed] == [0, 1, 2, 3]
    assert all(c.actor == "person:cid" for _a, c, _v in reviewed)
    state = store.case(case.id).state
    assert state["agent"]["planned"] == {"transition:plan:Check again": 3}
    del state["agent"]["planned"], state["agent"]["called"]  # a state written before the loop guard
    assert split_state(dict(state))[1].planned == {}


def _confirmed(orch: Orchestrator, case_id: str, person: Person, instruction: str) -> str:
    """Chat ``instruction`` (a proposal only) and confirm it as ``person`` (then it is governed)."""
    proposed = converse(orch, case_id, f"person:{person.name}", instruction, roles=person.roles).proposal
    assert proposed is not None
    return confirm(orch, case_id, proposed.id, f"person:{person.name}", roles=person.roles).text


PAY = (TaskSpec("pay", "Pay out", "wire_transfer", {"iban": "ref"}, {"paid": "done"}),)


def test_a_chat_instruction_is_governed_as_the_person_with_their_roles(make_orch: OrchFactory, tmp_path: Path,
                                                                       reviewed: Reviewed) -> None:
    folder = write_bundle(tmp_path / "chat-roles", "chat-roles", PAY,
                          extra_governance={"allowlist": {"roles": {"intern": ["archive"]}},
                                            "roles": ["intern", "treasurer"]})
    orch, store = make_orch()
    orch.deploy(folder)
    case = orch.start_case("chat-roles", {"ref": "R-5"})

    refused = _confirmed(orch, case.id, Person("ivy", {"intern"}), "please run Pay out")

    assert refused.startswith("Pay out was blocked") and "roles intern" in refused
    assert calls_of("wire_transfer") == []
    _action, context, verdict = reviewed[-1]
    assert (context.actor, context.roles, verdict.kind) == ("person:ivy", frozenset({"intern"}), "block")
    plan, verdict_event = [e for e in store.history(case.id) if e.kind in ("plan", "verdict")][-2:]
    assert (plan.actor, verdict_event.actor) == ("person:ivy", "person:ivy")

    done = _confirmed(orch, case.id, Person("tom", {"treasurer"}), "please run Pay out")

    assert done.startswith("Done: Pay out")
    assert calls_of("wire_transfer") == [{"iban": "R-5", "amount": 0.0}]
    _action, context, _verdict = reviewed[-1]
    assert (context.actor, context.roles) == ("person:tom", frozenset({"treasurer"}))
    actors = {e.kind: e.actor for e in store.history(case.id) if e.kind in ("tool_call_started", "tool_call_completed")}
    assert actors == {"tool_call_started": "person:tom", "tool_call_completed": "person:tom"}
    assert_sound(store, case.id)
