"""The whole third-party corpus: every model parses or is refused for a named vendor construct."""

from __future__ import annotations

import pytest

from casepilot.cmmn._parse_vendor import VENDOR_CONSTRUCTS
from casepilot.cmmn.compat import FileResult, check_file, main, model_files, report
from tests._corpora import CMMN

CORPUS = CMMN
SOURCES = ("flowable", "camunda7", "spec")

INVALID_CMMN: dict[str, str] = {
    # Engine test models that are not valid CMMN 1.1 would be listed here with what is wrong
    # with them; every model of the visible corpus has a faithful reading today.
}
ACCEPTED_DESPITE_SCHEMA = (
    # A caseFileItemOnPart without <standardEvent>: Camunda 7 deploys it and ignores the on-part.
    "camunda7/models/org/camunda/bpm/engine/test/cmmn/sentry/SentryEntryCriteriaTest.testCaseFileItemOnPart.cmmn",
    # On-parts written inside an exitCriterion whose sentryRef names no sentry (Flowable's modeler
    # shorthand): they become that sentry.
    "flowable/models/org/flowable/cmmn/test/runtime/ExitCriteriaTest.testExitPlanModelWithMultipleOnParts.cmmn",
)


@pytest.fixture(scope="module")
def results() -> dict[str, list[FileResult]]:
    if not CORPUS.is_dir():
        pytest.fail(f"the CMMN corpus is missing at {CORPUS}")
    return {src: [check_file(p) for p in model_files(CORPUS / src / "models")] for src in SOURCES}


def test_every_model_parses_or_is_refused_for_a_vendor_construct(results: dict[str, list[FileResult]]) -> None:
    for src, files in results.items():
        assert files, src
        for r in files:
            rel = str(r.path.relative_to(CORPUS))
            if rel in INVALID_CMMN:
                assert not r.parsed and not r.constructs
                assert any(INVALID_CMMN[rel] in msg for msg in r.invalid), r.invalid
                continue
            assert r.parsed or r.constructs, f"{rel}: {r.invalid}"
            assert not r.invalid or r.constructs, f"{rel}: {r.invalid}"
            assert all(c in VENDOR_CONSTRUCTS for c in r.constructs)


def test_spec_models_all_parse(results: dict[str, list[FileResult]]) -> None:
    assert all(r.parsed for r in results["spec"])
    assert len(results["spec"]) == 12


def test_every_scenario_model_parses() -> None:
    for src in SOURCES:
        for scenario in sorted((CORPUS / src / "scenarios").glob("*.yaml")):
            line = next(ln for ln in scenario.read_text().splitlines() if ln.startswith("model:"))
            model = (scenario.parent / line.split(":", 1)[1].strip()).resolve()
            result = check_file(model)
            assert result.parsed, f"{scenario.name}: {result.constructs or result.invalid}"


def test_lenient_mode_parses_all_but_invalid_models() -> None:
    reports = report([CORPUS / "flowable" / "models"], strict_extensions=False)
    refused = [r for r in reports[0].results if not r.parsed]
    assert all(not r.constructs for r in refused)
    assert reports[0].parsed >= len(reports[0].results) - 8


def test_compat_command_prints_counts(capsys: pytest.CaptureFixture[str]) -> None:
    code = main([str(CORPUS / "spec" / "models"), str(CORPUS / "camunda7" / "models")])
    out = capsys.readouterr().out
    assert "spec: 12 files, 12 parsed, 0 refused (vendor construct), 0 refused (invalid CMMN)" in out
    assert "camunda7: 504 files" in out and "camunda:variableOnPart" in out and out.rstrip().splitlines()[-1].startswith("total:")
    assert "camunda7: 504 files, 442 parsed, 62 refused (vendor construct), 0 refused (invalid CMMN)" in out
    assert code == 0


def test_schema_deviations_that_engines_accept_parse() -> None:
    for rel in ACCEPTED_DESPITE_SCHEMA:
        assert check_file(CORPUS / rel).parsed, rel
