"""Typed fields of a human task on the inbox page (issue 18), in Chromium: the senior analyst's
review declares a choice, a number, a date and an optional yes/no; the page renders them as
fields of their type, the server says what is wrong beside each field and keeps what was typed,
and a corrected decision writes typed values into the case file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from casepilot.agent.orchestrator import Orchestrator
from casepilot.api import create_app
from casepilot.demo.run import LETTERS
from tests.api._axe import serious_violations
from tests.api._browser import browser_page
from tests.api.test_web_task_fields_api import with_fields


@pytest.fixture
def site(orch: Orchestrator, claim_files: dict[str, str]) -> Iterator[tuple[str, Page]]:
    orch.deploy_files(with_fields(claim_files))
    with browser_page(create_app(orch)) as site:
        yield site


def test_a_review_with_typed_fields(site: tuple[str, Page], orch: Orchestrator) -> None:
    url, page = site
    case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-1"}, "CLM-F")
    orch.run(case.id)
    (task,) = orch.pending(case.id)
    page.goto(f"{url}/ui/inbox?name=Ann&roles=senior+analyst")
    fid = f"#field-{task.id}"
    assert page.get_attribute(f"{fid}-approved_amount", "type") == "number"
    assert page.get_attribute(f"{fid}-paid_by", "type") == "date"
    assert page.locator(f"{fid}-reason_code option").all_inner_texts() == [
        "choose", "documents ok", "fraud suspected", "other"]
    assert page.locator(f"{fid}-urgent option").all_inner_texts() == ["—", "yes", "no"]
    assert "Approved amount (number)" in page.inner_text(f"label[for='field-{task.id}-approved_amount']")
    assert "(yes or no, optional)" in page.inner_text(f"label[for='field-{task.id}-urgent']")

    page.select_option(f"{fid}-reason_code", "other")
    page.fill(f"section[id='{task.id}'] input[name=comment]", "checked the garage invoice")
    page.click(f"section[id='{task.id}'] button[value=approve]")
    assert "2 field(s) need correcting" in page.inner_text("[role=alert]")
    assert page.inner_text(f"{fid}-approved_amount-problem") == "required"
    assert page.inner_text(f"{fid}-paid_by-problem") == "required"
    assert page.get_attribute(f"{fid}-paid_by", "aria-invalid") == "true"
    assert page.input_value(f"{fid}-reason_code") == "other"  # what was chosen stays
    assert page.input_value(f"section[id='{task.id}'] input[name=comment]") == "checked the garage invoice"
    assert orch.store.task(task.id).status == "open"
    assert serious_violations(page) == []

    form = {"actor": "Ann", "roles": "senior analyst", "choice": "approve",
            f"field.{task.id}.reason_code": "lost", f"field.{task.id}.approved_amount": "lots",
            f"field.{task.id}.paid_by": "2026-02-30"}
    refused = page.request.post(f"{url}/ui/inbox/{task.id}", form=form, max_redirects=0)  # what the browser prevents
    assert refused.status == 422
    text = refused.text()
    assert "choose one of documents ok, fraud suspected, other" in text
    assert "enter a number, e.g. 800 or 12.5" in text and "enter a date, e.g. 2026-12-31" in text

    page.fill(f"{fid}-approved_amount", "812.5")
    page.fill(f"{fid}-paid_by", "2026-12-31")
    page.select_option(f"{fid}-urgent", "yes")
    page.click(f"section[id='{task.id}'] button[value=approve]")
    page.wait_for_url(f"**/ui/cases/{case.id}**")
    engine = orch.runtime.load(case.id).engine
    assert engine is not None
    review = engine.variables()["review"]
    assert (review["decision"], review["reason_code"], review["approved_amount"], review["paid_by"],
            review["urgent"]) == ("approve", "other", 812.5, "2026-12-31", True)
    assert "instalments" not in review and "note" not in review  # optional and left empty
    assert "812.5" in page.inner_text("#case-file")


def test_deciding_from_the_case_page(site: tuple[str, Page], orch: Orchestrator) -> None:
    url, page = site
    case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-1"}, "CLM-P")
    orch.run(case.id)
    (task,) = orch.pending(case.id)
    page.goto(f"{url}/ui/cases/{case.id}")
    form = page.locator(f"form[data-decide='{task.id}']")
    form.locator("input[name=actor]").fill("Ann")
    form.locator("input[name=roles]").fill("senior analyst")
    form.locator(f"#field-{task.id}-reason_code").select_option("fraud suspected")
    form.locator(f"#field-{task.id}-approved_amount").fill("0")
    form.locator(f"#field-{task.id}-paid_by").fill("2027-01-15")
    assert serious_violations(page) == []
    form.locator("button[value=reject]").click()
    page.wait_for_url(f"**/ui/cases/{case.id}?notice=**")
    assert "Ann decided “reject”" in page.inner_text("[role=status]")
    engine = orch.runtime.load(case.id).engine
    assert engine is not None
    review = engine.variables()["review"]
    assert (review["decision"], review["reason_code"], review["approved_amount"], review["paid_by"]) == (
        "reject", "fraud suspected", 0, "2027-01-15")
