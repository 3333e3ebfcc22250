"""Typed start forms (issue 18), in Chromium: a definition's declared start variables are fields of
their type; the server checks them and says what is wrong next to each field; the JSON box
carries what is not declared."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from casepilot.agent.orchestrator import Orchestrator
from casepilot.api import create_app
from casepilot.demo.run import LETTERS
from tests.api._axe import serious_violations
from tests.api._browser import browser_page

DECLARED = "start:\n  required: {letter: string, policy: string, amount: number, urgent: boolean, extras: object}\n"


@pytest.fixture
def site(orch: Orchestrator, claim_files: dict[str, str]) -> Iterator[tuple[str, Page]]:
    orch.deploy_files({**claim_files, "casepilot.yaml": claim_files["casepilot.yaml"] + DECLARED})
    with browser_page(create_app(orch)) as site:
        yield site


def _problem(page: Page, name: str) -> str:
    return page.inner_text(f"#field-claim-triage-{name}-problem")


def test_typed_fields_are_checked_on_the_server_and_explained_beside_each(site: tuple[str, Page],
                                                                          orch: Orchestrator) -> None:
    url, page = site
    page.goto(f"{url}/ui/cases")
    assert page.get_attribute("#field-claim-triage-amount", "type") == "number"
    assert page.locator("#field-claim-triage-urgent option").all_inner_texts() == ["choose", "yes", "no"]
    page.fill("#field-claim-triage-letter", LETTERS["straight-through"])
    page.fill("#field-claim-triage-extras", "[1, 2]")  # a list where an object is declared
    page.fill("input[name=business_key]", "CLM-F")
    page.click("text=Start and run")
    assert "4 field(s) need correcting" in page.inner_text("[role=alert]")
    assert _problem(page, "policy") == "required" and _problem(page, "amount") == "required"
    assert _problem(page, "urgent") == "required"
    assert "enter a JSON object" in _problem(page, "extras")
    assert page.get_attribute("#field-claim-triage-amount", "aria-invalid") == "true"
    assert page.input_value("#field-claim-triage-letter") == LETTERS["straight-through"]  # what was typed stays
    assert orch.store.cases() == []
    assert serious_violations(page) == []  # the marked fields too

    form = {"definition_key": "claim-triage", "variables": "{}", "field.claim-triage.letter": "x",
            "field.claim-triage.policy": "POL-1", "field.claim-triage.amount": "abc",
            "field.claim-triage.urgent": "maybe", "field.claim-triage.extras": "{}"}
    refused = page.request.post(f"{url}/ui/cases", form=form, max_redirects=0)  # what a browser's number field prevents
    assert refused.status == 422
    assert "enter a number, e.g. 800 or 12.5" in refused.text() and "choose yes or no" in refused.text()

    page.fill("#field-claim-triage-policy", "POL-1")
    page.fill("#field-claim-triage-amount", "1250.5")
    page.select_option("#field-claim-triage-urgent", "yes")
    page.fill("#field-claim-triage-extras", '{"channel": "letter"}')
    page.fill("textarea[name=variables]", '{"note": "undeclared and kept as well"}')
    page.click("text=Start and run")
    page.wait_for_url("**/ui/cases/*")
    (case,) = orch.store.cases()
    variables = orch.runtime.load(case.id).engine.variables()  # type: ignore[union-attr]
    assert (variables["amount"], variables["urgent"], variables["extras"], variables["policy"]) == (
        1250.5, True, {"channel": "letter"}, "POL-1")
    assert variables["note"] == "undeclared and kept as well"
