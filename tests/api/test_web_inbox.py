"""The inbox as a person works it (issue 18), in Chromium: each item titled by its case's
business key with its age; views for my roles' items and items assigned to me by name, kept in
the URL; assigning an item to a person of the role, after which only that person has it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from casepilot.agent.orchestrator import Orchestrator
from casepilot.api import create_app
from casepilot.demo.run import EXAMPLE, LETTERS
from tests.api._axe import serious_violations
from tests.api._browser import browser_page


@pytest.fixture
def site(orch: Orchestrator) -> Iterator[tuple[str, Page]]:
    orch.deploy(EXAMPLE)
    with browser_page(create_app(orch)) as site:
        yield site


def _titles(page: Page) -> list[str]:
    return sorted(page.locator("section.card h2").all_inner_texts())


def test_views_filters_and_assigning_to_a_person(site: tuple[str, Page], orch: Orchestrator) -> None:
    url, page = site
    for key in ("CLM-1", "CLM-2"):
        case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-1"}, key)
        orch.run(case.id)
    page.goto(f"{url}/ui/inbox")
    assert _titles(page) == ["claim-triage · CLM-1 — Approve or reject this claim?",
                             "claim-triage · CLM-2 — Approve or reject this claim?"]
    facts = page.locator("section.card .task-facts").first.inner_text()
    assert "for a senior analyst" in facts and "waiting 0 min" in facts

    page.check("input[name=view][value=roles]")
    page.fill("#inbox-filter input[name=name]", "Bob")
    page.fill("#inbox-filter input[name=roles]", "claims handler")
    page.click("#inbox-filter button")
    page.wait_for_url("**view=roles**")
    assert _titles(page) == [] and "Nothing is waiting for your roles" in page.inner_text("#inbox-empty")
    page.goto(f"{url}/ui/inbox?view=roles&name=Ann&roles=senior+analyst")
    assert len(_titles(page)) == 2
    assert page.get_attribute("section.card input[name=actor] >> nth=0", "value") == "Ann"  # the forms act as Ann
    assert "Acting as Ann (senior analyst)" in page.inner_text("#acting-as")

    assign = page.locator("details.assign", has_text="Approve or reject").first
    assign.locator("summary").click()
    assign.locator("input[name=actor]").fill("Olga")
    assign.locator("input[name=roles]").fill("claims operations")
    assign.locator("input[name=to_person]").fill("Ann")
    assign.locator("input[name=reason]").fill("Ann knows this customer")
    assign.locator("button").click()
    page.wait_for_url("**/ui/cases/*")

    page.goto(f"{url}/ui/inbox?view=mine&name=Ann&roles=senior+analyst")
    (mine,) = _titles(page)
    assert "assigned to Ann" in page.inner_text("section.card .task-facts")
    page.reload()
    assert _titles(page) == [mine]  # the view lives in the URL
    page.goto(f"{url}/ui/inbox?view=mine&name=Bob&roles=senior+analyst")
    assert _titles(page) == []
    page.goto(f"{url}/ui/inbox?view=roles&name=Bob&roles=senior+analyst")
    assert len(_titles(page)) == 1 and mine not in _titles(page)  # Ann's item is hers now


def test_claim_and_release_in_the_inbox(site: tuple[str, Page], orch: Orchestrator) -> None:
    url, page = site
    case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-1"}, "CLM-3")
    (task,) = orch.run(case.id).pending
    claim = page.locator(f"form[data-claim='{task.id}']")
    page.goto(f"{url}/ui/inbox?name=Bob&roles=claims+handler")
    claim.locator("button").click()  # not Bob's role: refused
    assert "that needs the role 'senior analyst', and Bob has claims handler" in page.inner_text("[role=alert]")
    assert orch.store.task_claims([task.id]) == {}

    page.goto(f"{url}/ui/inbox?view=roles&name=Ann&roles=senior+analyst")
    claim.locator("button", has_text="Claim").click()
    page.wait_for_url("**/ui/inbox?view=roles&name=Ann**")  # back to the same list
    assert "claimed by Ann" in page.inner_text("section.card .task-facts")
    assert serious_violations(page) == []
    assert orch.store.task_claims([task.id])[task.id][0] == "Ann"
    page.goto(f"{url}/ui/inbox?view=mine&name=Ann&roles=senior+analyst")
    assert _titles(page) == ["claim-triage · CLM-3 — Approve or reject this claim?"]  # mine: claimed by me

    page.goto(f"{url}/ui/inbox?view=roles&name=Cleo&roles=senior+analyst")
    second = page.request.post(f"{url}/inbox/{task.id}/claim", data={"actor": "Cleo", "roles": ["senior analyst"]})
    assert second.status == 409 and "claimed by Ann" in second.json()["detail"]
    claim.locator("button", has_text="Release").click()  # a colleague of the role may give it back
    page.wait_for_url("**view=roles&name=Cleo**")
    assert "claimed by" not in page.inner_text("section.card .task-facts")
    assert orch.store.task_claims([task.id]) == {}
    # Bob acts with the name and roles of the filter: the item's form asks nothing more
    page.goto(f"{url}/ui/inbox?view=roles&name=Bob&roles=senior+analyst")
    page.locator("section.card button", has_text="approve").click()
    page.wait_for_url("**/ui/cases/*")
    assert "Bob decided “approve”" in page.inner_text("[role=status]")
