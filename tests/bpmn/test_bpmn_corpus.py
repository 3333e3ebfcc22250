"""SpiffWorkflow's own test models through casepilot.bpmn: the committed table (CORPUS.md)
is what a run produces, nothing with Python in it deploys, every refusal says why."""

from __future__ import annotations

import pytest

from .corpus_run import CORPUS, TABLE, Outcome, run_all, table


@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    return run_all()


def test_the_committed_table_is_what_a_run_produces(outcomes: list[Outcome]) -> None:
    assert len(outcomes) == 116
    assert table(outcomes) == TABLE.read_text(), "run `python -m tests.bpmn.corpus_run` and commit CORPUS.md"


def test_no_model_with_python_in_it_deploys(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        text = (CORPUS / outcome.file).read_text()
        if "<bpmn:scriptTask" in text or "preScript>" in text or "postScript>" in text:
            assert not outcome.deployed, outcome.file


def test_every_refusal_names_a_reason(outcomes: list[Outcome]) -> None:
    refused = [o for o in outcomes if not o.deployed]
    assert refused
    assert all(len(o.detail) > 20 for o in refused)
    scripts = [o for o in refused if "use a service task or a FEEL expression" in o.detail]
    python = [o for o in refused if "is not FEEL" in o.detail]
    assert len(scripts) >= 30 and len(python) >= 15


def test_models_that_deploy_run(outcomes: list[Outcome]) -> None:
    deployed = [o for o in outcomes if o.deployed]
    completed = [o for o in deployed if ": completed" in o.detail]
    assert len(deployed) >= 40 and len(completed) >= 20
