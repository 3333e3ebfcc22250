"""Every BPMN element a history line names is named as the specification names it, for people.

``payment/level (business-rule task): complete`` — not SpiffWorkflow's class labels (``BPMN Task``
for a business-rule task, ``Default End Event``, ``Interrupting Error Boundary Event``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from casepilot.bpmn import load_processes
from casepilot.bpmn._element_types import element_type
from tests.bpmn._payment import payment_definitions

MODELS = Path(__file__).parent / "scenarios" / "models"


@pytest.mark.parametrize(
    ("element", "kind"),
    [
        ("start", "start event"),
        ("validate", "service task"),
        ("gw_valid", "exclusive gateway"),
        ("level", "business-rule task"),
        ("approve", "user task"),
        ("pay_failed", "interrupting error boundary event"),
        ("backoff", "timer intermediate catch event"),
        ("paid", "end event"),
    ],
)
def test_the_payment_process_elements_have_readable_kinds(element: str, kind: str) -> None:
    specs = {
        s.bpmn_id: s
        for s in payment_definitions().process("payment").spec.task_specs.values()
        if getattr(s, "bpmn_id", None)
    }
    assert element_type(specs[element]) == kind


def test_no_kind_in_the_scenario_models_is_a_class_label() -> None:
    kinds: set[str] = set()
    for model in sorted(MODELS.glob("*.bpmn")):
        if model.stem.endswith("refused"):
            continue  # models that are refused at deploy
        definitions = load_processes([model], decisions=list(MODELS.glob("*.dmn")))
        for pid in definitions.processes:
            process = definitions.process(pid)
            specs = [
                *process.spec.task_specs.values(),
                *(t for sub in process.subprocess_specs.values() for t in sub.task_specs.values()),
            ]
            kinds |= {element_type(s) for s in specs if getattr(s, "bpmn_id", None)}
    assert kinds == {k.lower() for k in kinds} and not {k for k in kinds if "default" in k or "bpmn" in k}
    assert {
        "event-based gateway",
        "message intermediate catch event",
        "parallel gateway",
        "sub-process",
        "non-interrupting timer boundary event",
        "compensation intermediate throw event",
    } <= kinds, kinds
