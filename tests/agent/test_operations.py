"""Operations on cases (issue 16): terminate, suspend/resume, retry a failed task, correct a
case-file item, reassign an inbox item — each role-checked, governed, recorded with the person
as actor — a start refused with every problem, and ``run``'s reason for stopping in words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.planning import Observation, Plan, PlannerError
from casepilot.agent.rule_planner import RulePlanner
from casepilot.agent.start_variables import InvalidStartVariables
from casepilot.agent.stop_reason import guardrail_decisions, stop_reason
from casepilot.errors import (
    DecisionRejected,
    GovernanceBlocked,
    IllegalTransition,
    NotAuthorized,
    UnknownPlanItem,
)
from casepilot.store import Store
from casepilot.tools import NO_RETRY, tool
from tests._claims import claim
from tests.agent._support import CLAIMS, DoneResult, RefArgs, TaskSpec, calls_of, make_registry, write_bundle
from tests.agent.conftest import OrchFactory

LETTER = ("This is the third time I write. Nobody answers and I am furious. "
          "Mary Jones wants the EUR 800 for the broken mirror now.")
OPERATOR = Person("olga", {"operator"})
CLAIMS_OPERATOR = Person("otto", {"claims operations"})
TWO = [TaskSpec("a", "First", "tool_a", {"ref": "ref"}, {}),
       TaskSpec("b", "Second", "tool_b", {"ref": "ref"}, {}, after="a")]

BROKEN = {"on": True}


@tool(name="flaky", side_effect="idempotent", retry=NO_RETRY)
def flaky(args: RefArgs) -> DoneResult:
    """A lookup whose service is down until the test brings it back."""
    if BROKEN["on"]:
        raise RuntimeError("the credit bureau is down")
    return DoneResult(done=f"flaky:{args.ref}")


@pytest.fixture
def flaky_orch(db_url: str) -> Iterator[Orchestrator]:
    BROKEN["on"] = True
    store = Store.from_url(db_url)
    orch = Orchestrator(store, make_registry(flaky), RulePlanner())
    yield orch
    orch.close()
    store.close()


def _history(orch: Orchestrator, case_id: str) -> list[Any]:
    return list(orch.store.iter_history(case_id))


def _reason(orch: Orchestrator, case_id: str) -> Any:
    manifest = orch.runtime.load(case_id).bundle.manifest
    return stop_reason(orch.outcome(case_id), _history(orch, case_id), guardrail_decisions(manifest))


def _operation_verdicts(orch: Orchestrator, case_id: str) -> list[Any]:
    return [e for e in _history(orch, case_id) if e.kind == "verdict" and e.payload.get("operation")]


# -- why a case stopped -------------------------------------------------------------------------


def test_a_guardrail_block_is_named_with_its_decision_rule_and_reason(make_orch: OrchFactory, tmp_path: Path) -> None:
    orch, _ = make_orch()
    orch.deploy(write_bundle(tmp_path / "b", "blocked", TWO, guardrails=[("tool_b", "block", None)]))
    case = orch.start_case("blocked", {"ref": "R-1"})
    outcome = orch.run(case.id)
    assert outcome.reason == "waiting_for_events"  # what run said before: nothing about the block
    reason = _reason(orch, case.id)
    assert reason.kind == "blocked" and reason.exit_code == 3 and reason.stuck
    assert reason.lines == ("blocked by guardrail Route (guardrails) rule r0: rule 0 for block",)


def test_a_failed_tool_is_named_until_a_retry_gets_past_it(flaky_orch: Orchestrator, tmp_path: Path) -> None:
    orch = flaky_orch
    orch.deploy(write_bundle(tmp_path / "b", "flaky-case", [TaskSpec("f", "Credit check", "flaky", {"ref": "ref"}, {}),
                                                           TaskSpec("a", "Archive", "tool_a", {"ref": "ref"}, {},
                                                                    after="f")]))
    case = orch.start_case("flaky-case", {"ref": "R-2"})
    orch.run(case.id)
    reason = _reason(orch, case.id)
    assert reason.kind == "failed" and reason.exit_code == 4
    (line,) = reason.lines
    assert line.startswith("tool flaky failed: ") and "the credit bureau is down" in line
    assert orch.run(case.id).reason == "waiting_for_events"  # a plain re-run does not try it again
    assert _reason(orch, case.id).kind == "failed"

    with pytest.raises(UnknownPlanItem, match=r"failed tasks: Credit check \("):
        orch.retry(case.id, "Archive", OPERATOR)
    with pytest.raises(NotAuthorized, match="needs the role 'operator'"):
        orch.retry(case.id, "Credit check", Person("bob", {"clerk"}))
    BROKEN["on"] = False
    done = orch.retry(case.id, "Credit check", OPERATOR, "the bureau is back")
    assert done.case_state == "active" and done.detail["item"] == "Credit check"
    outcome = orch.run(case.id)
    assert outcome.case_state == "completed" and calls_of("tool_a") == [{"ref": "R-2"}]
    reason = _reason(orch, case.id)
    assert reason.kind == "completed" and reason.exit_code == 0  # the old failure is not reported any more
    (verdict,) = _operation_verdicts(orch, case.id)
    assert verdict.actor == "person:olga" and verdict.payload["kind"] == "allow"
    assert verdict.payload["arguments"] == {"item": "Credit check", "reason": "the bureau is back"}


def test_waiting_for_people_names_the_role_and_the_task(make_orch: OrchFactory) -> None:
    orch, _ = make_orch()
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", claim(LETTER, "CLM-OPS-1"))
    orch.run(case.id)
    reason = _reason(orch, case.id)
    assert reason.kind == "waiting" and reason.exit_code == 0
    (line,) = reason.lines
    assert line.startswith("waiting for senior analyst (") and " since 20" in line


class _BrokenPlanner:
    name = "broken"

    def plan(self, observation: Observation) -> Plan:
        raise PlannerError("the endpoint answered 503", detail={"status": 503, "endpoint": "default"})


def test_a_planner_failure_is_named_with_what_the_endpoint_said(make_orch: OrchFactory, tmp_path: Path) -> None:
    orch, _ = make_orch(planner=_BrokenPlanner())
    orch.deploy(write_bundle(tmp_path / "b", "plain", TWO))
    case = orch.start_case("plain", {"ref": "R-3"})
    assert orch.run(case.id).reason == "planner_error"
    reason = _reason(orch, case.id)
    assert reason.kind == "failed" and reason.exit_code == 4
    (line,) = reason.lines
    assert line.startswith("planner failed: the endpoint answered 503") and "status 503" in line


# -- the case lifecycle -----------------------------------------------------------------------------


def test_terminate_ends_the_case_cancels_its_inbox_and_records_the_person(make_orch: OrchFactory) -> None:
    orch, store = make_orch()
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", claim(LETTER, "CLM-OPS-1"))
    orch.run(case.id)
    (task,) = orch.pending(case.id)

    before = len(_history(orch, case.id))
    with pytest.raises(NotAuthorized, match=r"needs the role 'claims operations'.*ann has senior analyst"):
        orch.terminate(case.id, Person("ann", {"senior analyst"}), "duplicate")
    assert len(_history(orch, case.id)) == before  # a refused role leaves no trace in the case

    done = orch.terminate(case.id, CLAIMS_OPERATOR, "duplicate of CLM-7")
    assert done.case_state == "terminated"
    assert orch.pending(case.id) == [] and store.task(task.id).status == "cancelled"
    events = _history(orch, case.id)[before:]
    assert events[0].kind == "verdict" and events[0].actor == "person:otto"
    assert events[0].payload["operation"] == "terminate" and events[0].payload["kind"] == "allow"
    assert any(e.kind == "transition" and e.actor == "person:otto" and e.payload["to_state"] == "Terminated"
               for e in events)
    assert store.verify(case.id).ok
    assert _reason(orch, case.id).lines == ("terminated by otto: duplicate of CLM-7",)

    with pytest.raises(IllegalTransition, match="terminated"):
        orch.chat(case.id, CLAIMS_OPERATOR, "what is the status?")
    with pytest.raises(IllegalTransition, match="terminated"):
        orch.terminate(case.id, CLAIMS_OPERATOR, "again")
    assert orch.run(case.id).reason == "terminated"  # run of a finished case does nothing and says how it ended


def test_a_suspended_case_refuses_work_until_resumed(make_orch: OrchFactory, tmp_path: Path) -> None:
    orch, _ = make_orch()
    orch.deploy(write_bundle(tmp_path / "b", "pausable", TWO, guardrails=[("tool_b", "require_human", "team lead")]))
    case = orch.start_case("pausable", {"ref": "R-4"})
    assert orch.run(case.id).reason == "waiting_for_people"
    (checkpoint,) = orch.pending(case.id)

    orch.suspend(case.id, OPERATOR, "customer asked us to wait")
    assert _reason(orch, case.id).lines == (
        "suspended by olga: customer asked us to wait",)
    for attempt in (lambda: orch.run(case.id), lambda: orch.chat(case.id, OPERATOR, "status?"),
                    lambda: orch.decide(checkpoint.id, Person("tim", {"team lead"}), "approve")):
        with pytest.raises(IllegalTransition, match=r"it is suspended.*resume"):
            attempt()
    with pytest.raises(IllegalTransition, match="cannot suspend"):
        orch.suspend(case.id, OPERATOR, "twice")

    orch.resume(case.id, OPERATOR, "customer called back")
    orch.decide(checkpoint.id, Person("tim", {"team lead"}), "approve")
    assert orch.run(case.id).case_state == "completed"
    assert [e.payload["operation"] for e in _operation_verdicts(orch, case.id)] == ["suspend", "resume"]


def _operation_guardrail(folder: Path, blocked: str) -> None:
    """Add a guardrail on transitions that blocks operation ``blocked`` (input ``action``)."""
    (folder / "ops.dmn").write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="ops" name="Ops" namespace="urn:ops">
  <decision id="ops_rules" name="Operations">
    <informationRequirement id="ir"><requiredInput href="#action"/></informationRequirement>
    <decisionTable id="dt" hitPolicy="FIRST">
      <input id="in" label="action"><inputExpression id="ie" typeRef="string"><text>action</text></inputExpression></input>
      <output id="o_verdict" name="verdict" typeRef="string"/>
      <output id="o_reason" name="reason" typeRef="string"/>
      <rule id="no_{blocked}"><inputEntry><text>"{blocked}"</text></inputEntry>
        <outputEntry><text>"block"</text></outputEntry><outputEntry><text>"not by hand"</text></outputEntry></rule>
      <rule id="rest"><inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"allow"</text></outputEntry><outputEntry><text>"ok"</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <inputData id="action" name="action"><variable name="action" typeRef="string"/></inputData>
</definitions>""", encoding="utf-8")
    manifest = yaml.safe_load((folder / "casepilot.yaml").read_text())
    manifest["governance"]["guardrails"] = [{"file": "ops.dmn", "decision": "Operations", "applies_to": ["transition"]}]
    manifest["governance"]["operations"] = {"correct": ["clerk"]}
    (folder / "casepilot.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")


def test_a_guardrail_can_refuse_an_operation_and_the_verdict_is_recorded(make_orch: OrchFactory,
                                                                          tmp_path: Path) -> None:
    orch, _ = make_orch()
    folder = write_bundle(tmp_path / "b", "guarded-ops", TWO)
    _operation_guardrail(folder, "terminate")
    orch.deploy(folder)
    case = orch.start_case("guarded-ops", {"ref": "R-5"})
    with pytest.raises(GovernanceBlocked, match=r"terminate of case .* not allowed: not by hand \(rules no_terminate\)"):
        orch.terminate(case.id, OPERATOR, "tidy up")
    (verdict,) = _operation_verdicts(orch, case.id)
    assert verdict.payload["kind"] == "block" and verdict.rule_ids == ("no_terminate",)
    assert verdict.actor == "person:olga" and orch.case(case.id) is not None
    assert orch.run(case.id).case_state == "completed"  # the case was left as it was


# -- correct and reassign ----------------------------------------------------------------------------


def test_a_correction_is_a_persons_trusted_value_with_old_and_new_pseudonymised(make_orch: OrchFactory,
                                                                                tmp_path: Path) -> None:
    orch, _ = make_orch()
    folder = write_bundle(tmp_path / "b", "correctable", TWO, variables=("ref", "contact"))
    _operation_guardrail(folder, "terminate")
    orch.deploy(folder)
    case = orch.start_case("correctable", {"ref": "R-6", "contact": {"name": "Mary Jones", "amount": 800}})
    clerk = Person("carl", {"clerk"})  # may correct (named for it), may not terminate
    with pytest.raises(NotAuthorized):
        orch.terminate(case.id, clerk, "no")
    with pytest.raises(UnknownPlanItem, match="no case-file item 'nope'"):
        orch.correct(case.id, "nope", 1, clerk, "typo")
    done = orch.correct(case.id, "contact.name", "John Smith", clerk, "wrong person on the letter")
    old, new = done.detail["old"], done.detail["new"]
    assert "Mary Jones" not in str(old) and "John Smith" not in str(new) and old != new  # pseudonyms only
    loaded = orch.runtime.load(case.id)
    assert loaded.engine is not None and loaded.engine.variables()["contact"]["amount"] == 800
    assert loaded.engine.variables()["contact"]["name"] == new
    assert loaded.facts.provenance["contact.name"] == {"trust": "trusted", "source": "person:carl"}
    (verdict,) = _operation_verdicts(orch, case.id)
    assert verdict.payload["old"] == old and verdict.payload["new"] == new and verdict.actor == "person:carl"
    assert "Mary Jones" not in str([e.payload for e in _history(orch, case.id)][1:])
    assert orch.runtime.privacy is not None and orch.runtime.privacy.reveal_payload(new, case.id) == "John Smith"


def test_reassign_to_another_role_and_to_a_named_person(make_orch: OrchFactory) -> None:
    orch, store = make_orch()
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", claim(LETTER, "CLM-OPS-1"))
    orch.run(case.id)
    (task,) = orch.pending(case.id)
    assert task.role == "senior analyst"
    with pytest.raises(NotAuthorized):
        orch.reassign(task.id, Person("ann", {"senior analyst"}), role="team lead")

    moved = orch.reassign(task.id, CLAIMS_OPERATOR, role="team lead", reason="analysts are out")
    assert store.task(task.id).status == "cancelled" and moved.role == "team lead" and moved.prompt == task.prompt
    assert [t.id for t in orch.pending(case.id)] == [moved.id]
    with pytest.raises(DecisionRejected, match="needs the role 'team lead'"):
        orch.decide(moved.id, Person("ann", {"senior analyst"}), "approve")

    named = orch.reassign(moved.id, CLAIMS_OPERATOR, person="tina")
    assert named.role == "team lead"
    with pytest.raises(DecisionRejected, match="assigned to tina"):
        orch.decide(named.id, Person("tom", {"team lead"}), "approve")
    orch.decide(named.id, Person("tina", {"team lead"}), "approve", "checked")
    assert orch.run(case.id).case_state == "completed"
    assert store.verify(case.id).ok
    first, second = _operation_verdicts(orch, case.id)
    assert (first.payload["task_id"], first.payload["new_task_id"], first.payload["to_role"]) == (
        task.id, moved.id, "team lead")
    assert (second.payload["new_task_id"], second.payload["person"], second.actor) == (named.id, "tina", "person:otto")


# -- start validation ------------------------------------------------------------------------------


def test_a_start_without_required_or_with_ill_typed_variables_is_refused_with_the_list(
        make_orch: OrchFactory, tmp_path: Path) -> None:
    orch, store = make_orch()
    folder = write_bundle(tmp_path / "b", "strict-start", TWO, variables=("ref", "amount", "urgent"))
    manifest = yaml.safe_load((folder / "casepilot.yaml").read_text())
    manifest["start"] = {"required": {"ref": "string", "amount": "number", "urgent": "boolean"}}
    (folder / "casepilot.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    orch.deploy(folder)
    with pytest.raises(InvalidStartVariables) as refused:
        orch.start_case("strict-start", {"amount": "800", "urgent": True})
    assert sorted(str(p) for p in refused.value.problems) == ["amount: must be a number, got string",
                                                               "ref: required (string) but missing"]
    assert store.cases() == []  # nothing was created
    assert orch.start_case("strict-start", {"ref": "R-7", "amount": 800, "urgent": False}).id
