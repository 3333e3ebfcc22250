"""``CaseInstance.changes()`` says everything a step changed: after every step of every scenario
(the corpus' and this folder's), the previous snapshot with the changes put in equals the
full snapshot — and the changes are few when a step touches few of many plan items."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from casepilot.cmmn.runtime import CaseInstance
from casepilot.cmmn.scenarios import _Models, _step
from casepilot.errors import CasepilotError
from tests.cmmn.scenarios.test_scenarios import CORPUS_FILES, OWN_FILES


def merged(previous: dict[str, Any], header: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    position = {item["id"]: i for i, item in enumerate(previous["items"])}
    out = list(previous["items"])
    for item in items:
        if item["id"] in position:
            out[position[item["id"]]] = item
        else:
            position[item["id"]] = len(out)
            out.append(item)
    return {**header, "items": out}


def check_file(path: Path, models: _Models) -> int:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    case = models.case(path.parent / str(data["model"]), data.get("case"))
    inst: CaseInstance | None = None
    previous: dict[str, Any] | None = None
    checked = 0
    for step in data["steps"] or []:
        try:
            inst = _step(inst, case, step)
        except CasepilotError:
            return checked  # the scenario expects a refusal here; what came before was checked
        if previous is None:
            previous = inst.to_dict()
            continue
        header, items = inst.changes()
        full = inst.to_dict()
        assert merged(previous, header, items) == full, f"{path.name}: step {step!r}"
        previous = full
        checked += 1
    return checked


def test_changes_rebuild_the_snapshot_after_every_scenario_step() -> None:
    models = _Models()
    checked = sum(check_file(p, models) for p in [*CORPUS_FILES, *OWN_FILES])
    assert checked > 600


def test_changes_cost_what_changed_not_the_case_size() -> None:
    from bench.cmmn_bench import build_case  # 1,000 chained tasks with if-part sentries

    inst = CaseInstance.start(build_case(1000), {})
    previous = inst.to_dict()
    first = next(v for v in inst.items() if v.state == "Active")
    inst.complete(first.id)
    header, items = inst.changes()
    assert "items" not in header
    assert 1 <= len(items) <= 5  # the completed task, the next one started (and their stage)
    assert merged(previous, header, items) == inst.to_dict()
    header, items = inst.changes()
    assert items == []  # nothing changed since


def test_a_loaded_instance_has_no_changes() -> None:
    from bench.cmmn_bench import build_case

    case = build_case(50)
    started = CaseInstance.start(case, {})
    assert len(started.changes()[1]) > 50  # everything is new
    inst = CaseInstance.from_json(case, started.to_json())
    assert inst.changes()[1] == []
