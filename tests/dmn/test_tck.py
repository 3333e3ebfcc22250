"""The visible DMN TCK (compliance levels 2 and 3) must not fall below the ratchet.

``tests/dmn/tck_ratchet.json`` holds the best rates reached so far (all test cases, and
those with a non-null expected result). Raise it with
``casepilot dmn tck <level folders> --update-ratchet tests/dmn/tck_ratchet.json``;
it is never lowered.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from casepilot.dmn.ratchet import load_ratchet, update_ratchet
from casepilot.dmn.tck import TckReport, run_tck
from tests._corpora import DMN_TCK

TCK = DMN_TCK
RATCHET = Path(__file__).with_name("tck_ratchet.json")
LEVELS = ["compliance-level-2", "compliance-level-3"]


@pytest.fixture(scope="module")
def reports() -> dict[str, TckReport]:
    return {level: run_tck([TCK / level]) for level in LEVELS}


@pytest.mark.parametrize("level", LEVELS)
def test_tck_rates_do_not_drop_below_the_ratchet(reports: dict[str, TckReport], level: str) -> None:
    floor = load_ratchet(RATCHET)[level]
    report = reports[level]
    failures = [o.line for o in report.outcomes if not o.passed]
    assert report.rate_all >= floor["all"], "\n".join(failures)
    assert report.rate_non_null >= floor["non_null"], "\n".join(failures)


def test_level_2_passes_completely(reports: dict[str, TckReport]) -> None:
    report = reports["compliance-level-2"]
    assert report.failed == 0, "\n".join(o.line for o in report.outcomes if not o.passed)
    assert report.passed > 50


def test_report_json_has_per_folder_results(reports: dict[str, TckReport]) -> None:
    data = reports["compliance-level-2"].to_json()
    folder = data["folders"]["compliance-level-2/0004-simpletable-U"]
    assert folder["failed"] == 0
    assert folder["passed"] == folder["non_null_total"] > 0
    json.dumps(data)


def test_the_ratchet_only_goes_up(tmp_path: Path) -> None:
    path = tmp_path / "ratchet.json"
    assert update_ratchet(path, {"l": {"all": 0.5, "non_null": 0.4}})
    assert not update_ratchet(path, {"l": {"all": 0.3, "non_null": 0.4}})
    assert update_ratchet(path, {"l": {"all": 0.6, "non_null": 0.1}})
    assert load_ratchet(path) == {"l": {"all": 0.6, "non_null": 0.4}}
