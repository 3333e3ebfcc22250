"""Child cases follow their parent (issue 16): a case task's case is terminated when the parent
case is terminated, suspended with it and resumed with it (CMMN 1.1 couples the two
lifecycles). Each child records the operation with the person as actor and names its parent;
the person needs the operation's role on every case reached, checked before anything changes.
Real orchestrator, real SQLite store, real CMMN engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.stop_reason import stop_reason
from casepilot.errors import IllegalTransition, NotAuthorized
from casepilot.store import Store
from casepilot.tools import ToolRegistry

CMMN = '<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="d" targetNamespace="x">{}</definitions>'


def _case_task_case(case_id: str, task: str, child_key: str) -> str:
    """A case whose one case task starts a ``child_key`` case, then a human task."""
    return CMMN.format(f"""
  <case id="{case_id}" name="{case_id}">
    <caseFileModel id="cfm"><caseFileItem id="cfi_ref" name="ref" multiplicity="ZeroOrOne"/></caseFileModel>
    <casePlanModel id="cpm" name="{case_id}" autoComplete="true">
      <planItem id="pi_child" name="{task}" definitionRef="ct"/>
      <caseTask id="ct" name="{task}" caseRef="{child_key}"><input id="in1" bindingRef="cfi_ref"/></caseTask>
    </casePlanModel>
  </case>""")


LEAF = CMMN.format("""
  <case id="leaf" name="Leaf">
    <casePlanModel id="cpm" name="Leaf" autoComplete="true">
      <planItem id="pi_check" name="Check by hand" definitionRef="ht"/>
      <humanTask id="ht" name="Check by hand"/>
    </casePlanModel>
  </case>""")

OPS = Person("olga", {"operator"})


def _bundle(root: Path, key: str, model: str, *, operator: str = "operator") -> Path:
    folder = root / key
    folder.mkdir()
    (folder / "case.cmmn").write_text(model, encoding="utf-8")
    humans = "human_tasks: {Check by hand: {role: clerk}}\n" if "humanTask" in model else ""
    (folder / "casepilot.yaml").write_text(
        f"key: {key}\nmodel: case.cmmn\n{humans}governance: {{operator_role: {operator}}}\n", encoding="utf-8")
    return folder


@pytest.fixture
def orch(tmp_path: Path) -> Orchestrator:
    return Orchestrator(Store.from_url(f"sqlite:///{tmp_path}/cases.db"), ToolRegistry([]), privacy=False)


def _family(orch: Orchestrator, tmp_path: Path, *, leaf_operator: str = "operator") -> tuple[str, str, str]:
    """parent → child (a case task) → grandchild (a case task) waiting for a clerk; their ids."""
    orch.deploy(_bundle(tmp_path, "leaf", LEAF, operator=leaf_operator))
    orch.deploy(_bundle(tmp_path, "middle", _case_task_case("middle", "Run leaf", "leaf")))
    orch.deploy(_bundle(tmp_path, "top", _case_task_case("top", "Run middle", "middle")))
    parent = orch.start_case("top", {"ref": "R-1"}).id
    assert orch.run(parent).reason == "waiting_for_events"  # its case task waits for the child case
    child = orch.runtime.load(parent).facts.children["case.1"]
    grandchild = orch.runtime.load(child).facts.children["case.1"]
    assert len(orch.pending(grandchild)) == 1
    return parent, child, grandchild


def _state(orch: Orchestrator, case_id: str) -> str:
    engine = orch.runtime.load(case_id).engine
    assert engine is not None
    return engine.state


def _operations(orch: Orchestrator, case_id: str) -> list[Any]:
    return [e for e in orch.store.iter_history(case_id) if e.kind == "verdict" and e.payload.get("operation")]


def test_terminating_a_case_terminates_its_running_child_cases(orch: Orchestrator, tmp_path: Path) -> None:
    parent, child, grandchild = _family(orch, tmp_path)
    (item,) = orch.pending(grandchild)

    done = orch.terminate(parent, OPS, "customer withdrew")
    assert done.case_state == "terminated" and done.detail["child_cases"] == [child, grandchild]
    for case_id, above in ((child, parent), (grandchild, child)):
        assert _state(orch, case_id) == "terminated"
        (verdict,) = _operations(orch, case_id)
        assert verdict.actor == "person:olga" and verdict.payload["with_parent"] == above
        assert verdict.payload["operation"] == "terminate" and verdict.payload["kind"] == "allow"
        assert verdict.payload["reason"] == f"its parent case {above} was terminated by olga"
        ended = [e for e in orch.store.iter_history(case_id)
                 if e.kind == "transition" and e.payload["to_state"] == "Terminated"]
        assert ended and all(e.actor == "person:olga" for e in ended)
        assert orch.store.verify(case_id).ok
        reason = stop_reason(orch.outcome(case_id), orch.store.iter_history(case_id))
        assert reason.lines == ("terminated by olga: customer withdrew",)
    assert orch.store.task(item.id).status == "cancelled"
    # the parent keeps no running child: a later run of it does not touch the children again
    assert orch.runtime.load(parent).facts.children == {}
    before = len(list(orch.store.iter_history(parent)))
    assert orch.run(parent).reason == "terminated"
    assert len(list(orch.store.iter_history(parent))) == before


def test_a_person_without_the_role_on_a_child_case_terminates_nothing(orch: Orchestrator,
                                                                       tmp_path: Path) -> None:
    parent, child, grandchild = _family(orch, tmp_path, leaf_operator="leaf operations")
    sizes = {c: len(list(orch.store.iter_history(c))) for c in (parent, child, grandchild)}
    with pytest.raises(NotAuthorized, match=rf"olga cannot terminate case {grandchild}.*'leaf operations'"):
        orch.terminate(parent, OPS, "tidy up")
    assert {c: _state(orch, c) for c in sizes} == dict.fromkeys(sizes, "active")
    assert {c: len(list(orch.store.iter_history(c))) for c in sizes} == sizes  # no trace anywhere


def test_suspend_suspends_the_children_and_resume_resumes_those_suspended_with_it(
        orch: Orchestrator, tmp_path: Path) -> None:
    parent, child, grandchild = _family(orch, tmp_path)
    (item,) = orch.pending(grandchild)

    orch.suspend(parent, OPS, "legal hold")
    assert [_state(orch, c) for c in (parent, child, grandchild)] == ["suspended"] * 3
    with pytest.raises(IllegalTransition, match="suspended"):
        orch.decide(item.id, Person("cleo", {"clerk"}), "done")
    assert _operations(orch, grandchild)[-1].payload["with_parent"] == child

    orch.resume(parent, OPS, "hold lifted")
    assert [_state(orch, c) for c in (parent, child, grandchild)] == ["active"] * 3
    assert [e.payload["operation"] for e in _operations(orch, child)] == ["suspend", "resume"]

    # the family works on: the clerk decides, the grandchild completes, then the child and the parent
    orch.decide(item.id, Person("cleo", {"clerk"}), "done")
    assert orch.run(parent).reason == "completed"
    assert [_state(orch, c) for c in (parent, child, grandchild)] == ["completed"] * 3


def test_a_child_suspended_on_its_own_stays_suspended_when_the_parent_resumes(
        orch: Orchestrator, tmp_path: Path) -> None:
    parent, child, grandchild = _family(orch, tmp_path)
    orch.suspend(grandchild, OPS, "waiting for a document")
    orch.suspend(parent, OPS, "legal hold")  # reaches the child; the grandchild is suspended already
    assert "with_parent" not in _operations(orch, grandchild)[-1].payload

    orch.resume(parent, OPS, "hold lifted")
    assert [_state(orch, c) for c in (parent, child, grandchild)] == ["active", "active", "suspended"]
