"""CMMN 1.1 ch. 8 case file item lifecycle: the case file item transitions the scenario steps cannot refuse — each one
needs the item in the state the lifecycle allows, and a reference needs the model's leave."""

from __future__ import annotations

from pathlib import Path

import pytest

from casepilot.cmmn import CaseInstance
from casepilot.cmmn.parser import parse_file
from casepilot.errors import IllegalTransition, UnknownPlanItem
from tests.cmmn.runtime._models import case_of

MODEL = Path(__file__).parents[1] / "scenarios/ch8/models/case-file-events.cmmn"


def _case() -> CaseInstance:
    return CaseInstance.start(parse_file(MODEL).case())


def test_replace_and_delete_need_an_available_item() -> None:
    inst = _case()
    with pytest.raises(IllegalTransition, match="not created"):
        inst.replace_case_file_item("claim", {"status": "x"})
    inst.set_variables({"claim": {"status": "open"}})
    inst.delete_case_file_item("claim")
    assert inst.case_file["cfi_claim"] == "Discarded"
    assert "claim" not in inst.variables
    with pytest.raises(IllegalTransition, match="Discarded"):
        inst.delete_case_file_item("claim")
    with pytest.raises(UnknownPlanItem, match="no case file item 'nothing'"):
        inst.delete_case_file_item("nothing")


def test_replace_is_its_own_event_and_sets_the_value() -> None:
    inst = _case()
    inst.set_variables({"claim": {"status": "open"}})
    events = inst.replace_case_file_item("claim", {"status": "new"})
    assert [(e.name, e.transition) for e in events if e.subject == "caseFileItem"] == [("claim", "replace")]
    assert inst.variables["claim"] == {"status": "new"}


def test_references_follow_the_model_and_the_state() -> None:
    inst = _case()
    inst.set_variables({"claim": {"status": "open"}})
    with pytest.raises(IllegalTransition, match="not created"):
        inst.add_case_file_reference("claim", "policy")
    inst.set_variables({"policy": "gold"})
    with pytest.raises(IllegalTransition, match="targetRefs"):
        inst.add_case_file_reference("policy", "claim")  # only claim may refer to policy
    inst.add_case_file_reference("claim", "policy")
    assert inst.case_file_references("claim") == ["policy"]
    with pytest.raises(IllegalTransition, match="already"):
        inst.add_case_file_reference("claim", "policy")
    rebuilt = CaseInstance.from_json(inst.case, inst.to_json())
    assert rebuilt.case_file_references("claim") == ["policy"]
    rebuilt.remove_case_file_reference("claim", "policy")
    assert rebuilt.case_file_references("claim") == []
    with pytest.raises(IllegalTransition, match="not referring"):
        rebuilt.remove_case_file_reference("claim", "policy")


def test_deleting_a_referenced_item_removes_the_reference_with_an_event() -> None:
    inst = _case()
    inst.set_variables({"claim": {"status": "open"}, "policy": "gold"})
    inst.add_case_file_reference("claim", "policy")
    events = inst.delete_case_file_item("policy")
    assert [(e.name, e.transition) for e in events if e.subject == "caseFileItem"] == [
        ("policy", "delete"),
        ("claim", "removeReference"),
    ]
    assert inst.case_file_references("claim") == []
    assert len(inst.find("On removeReference", state="Active")) == 1


def test_a_snapshot_without_references_has_no_reference_key() -> None:
    """Snapshots of cases that never used references are as before (no schema change)."""
    inst = _case()
    inst.set_variables({"claim": {"status": "open"}})
    assert "caseFileRefs" not in inst.to_dict()


def test_a_sentry_may_mix_plan_item_and_case_file_on_parts() -> None:
    """ch. 5 Sentry: on-parts of both kinds are and-ed; the case file create may come first (even at
    start, with the case's variables) and is remembered until the plan item event."""
    case_file_model = (
        '<caseFileModel id="cfm"><caseFileItem id="cfi" name="doc" definitionRef="cfd"/></caseFileModel>'
    )
    body = (
        '<planItem id="a" definitionRef="ta"/><humanTask id="ta" name="A"/>'
        '<planItem id="b" definitionRef="tb"><entryCriterion sentryRef="s"/></planItem><humanTask id="tb" name="B"/>'
        '<sentry id="s"><planItemOnPart sourceRef="a"><standardEvent>complete</standardEvent></planItemOnPart>'
        '<caseFileItemOnPart sourceRef="cfi"><standardEvent>create</standardEvent></caseFileItemOnPart></sentry>'
    )
    case = case_of(body, case_file=case_file_model)
    later = CaseInstance.start(case)
    later.complete(later.find("A")[0].id)
    assert later.state_of("B") == "Available"
    later.set_variables({"doc": 1})
    assert later.state_of("B") == "Active"
    at_start = CaseInstance.start(case, {"doc": 1})
    assert at_start.state_of("B") == "Available"
    at_start.complete(at_start.find("A")[0].id)
    assert at_start.state_of("B") == "Active"
