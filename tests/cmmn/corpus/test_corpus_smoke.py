"""Every model of the corpus that parses runs: started and driven for a bounded number of
steps, it never crashes, never reaches a state CMMN 1.1 does not allow, and its JSON snapshot
round-trips exactly after every step (see ``_smoke.drive``)."""

from __future__ import annotations

from collections import Counter

import pytest

from casepilot.cmmn.compat import model_files
from casepilot.cmmn.parser import parse_file
from casepilot.errors import DefinitionError
from tests._corpora import CMMN

from ._smoke import drive

CORPUS = CMMN


@pytest.mark.parametrize("source", ["camunda7", "flowable", "spec"])
def test_every_parsed_model_runs(source: str) -> None:
    if not CORPUS.is_dir():
        pytest.fail(f"the CMMN corpus is missing at {CORPUS}")
    cases = 0
    outcome: Counter[str] = Counter()
    failures: list[str] = []
    for path in model_files(CORPUS / source / "models"):
        try:
            defs = parse_file(path)
        except DefinitionError:
            continue  # refused models are covered by tests/cmmn/parser
        for case in defs.cases:
            cases += 1
            try:
                inst, _ = drive(case)
            except Exception as exc:
                failures.append(f"{path.relative_to(CORPUS)} [{case.id}]: {type(exc).__name__}: {exc}")
                continue
            outcome[inst.state] += 1
    assert failures == []
    assert cases >= {"camunda7": 440, "flowable": 380, "spec": 12}[source]
    # driving every possible step ends most cases: the loop really exercises the models
    assert outcome["Completed"] + outcome["Terminated"] > cases // 2, outcome
