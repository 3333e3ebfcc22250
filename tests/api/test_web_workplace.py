"""The case handler's workplace (issue 18) in a real browser: find a case in the list (search,
filters and sort that stay in the URL, paging), see on its page where it stands and why (the
banner, the plan diagram's states before and after a decision, the timeline with times and a
kind filter), only the actions the state allows, a form refused when sent twice, a run followed
live over the SSE stream, no serious axe-core violations, and a phone-width layout."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.api import create_app
from casepilot.demo.run import EXAMPLE
from tests._claims import claim
from tests.api._axe import serious_violations
from tests.api._browser import browser_page

SENIOR = Person("Ann", frozenset({"senior analyst"}))


@pytest.fixture
def site(orch: Orchestrator) -> Iterator[tuple[str, Page]]:
    orch.deploy(EXAMPLE)
    with browser_page(create_app(orch)) as site:
        yield site


def _claim(orch: Orchestrator, key: str, letter: str = "senior-review", run: bool = True) -> str:
    case = orch.start_case("claim-triage", claim(letter, key, policy="POL-1"), key)
    if run:
        orch.run(case.id)
    return case.id


def _listed(page: Page) -> list[str]:
    return [page.locator("#case-list tbody tr[data-case]").nth(i).locator("td").nth(0).inner_text()
            for i in range(page.locator("#case-list tbody tr[data-case]").count())]


def test_find_a_case_by_business_key_value_and_state(site: tuple[str, Page], orch: Orchestrator) -> None:
    url, page = site
    _claim(orch, "CLM-1")
    _claim(orch, "CLM-2", "small")  # paid by the payment process without a claims manager
    page.goto(f"{url}/ui/cases")
    assert sorted(_listed(page)) == ["claim-triage · CLM-1", "claim-triage · CLM-2"]
    row = page.locator("#case-list tr", has_text="CLM-1")
    assert "active" in row.inner_text() and "senior analyst" in row.inner_text()  # state and waiting-for
    assert "completed" in page.locator("#case-list tr", has_text="CLM-2").inner_text()

    page.fill("input[name=q]", "clm-2")
    page.click("#case-search button")
    page.wait_for_url("**q=clm-2**")
    assert _listed(page) == ["claim-triage · CLM-2"]

    page.fill("input[name=q]", "Mary Jones")  # the clear name in CLM-1's letter: never stored, never found
    page.click("#case-search button")
    page.wait_for_url("**q=Mary+Jones**")
    assert _listed(page) == [] and "No case matches." in page.inner_text("#case-list")
    page.fill("input[name=q]", "PERSON_1")  # its pseudonym is what the store holds
    page.click("#case-search button")
    page.wait_for_url("**q=PERSON_1**")
    assert "claim-triage · CLM-1" in _listed(page)

    page.goto(f"{url}/ui/cases")
    page.select_option("select[name=state]", "completed")
    page.click("#case-search button")
    page.wait_for_url("**state=completed**")
    page.reload()  # the filter lives in the URL
    assert page.input_value("select[name=state]") == "completed"
    assert _listed(page) == ["claim-triage · CLM-2"]

    page.goto(f"{url}/ui/cases")
    page.click("a[data-sort=business_key]")
    page.wait_for_url("**sort=business_key**")
    assert _listed(page) == ["claim-triage · CLM-2", "claim-triage · CLM-1"]  # descending first
    page.click("a[data-sort=business_key]")
    page.wait_for_url("**order=asc**")
    assert _listed(page) == ["claim-triage · CLM-1", "claim-triage · CLM-2"]
    assert page.get_attribute("th[aria-sort]", "aria-sort") == "ascending"


def test_the_list_pages(site: tuple[str, Page], orch: Orchestrator) -> None:
    url, page = site
    for n in range(27):
        _claim(orch, f"P-{n:02d}", run=False)
    page.goto(f"{url}/ui/cases?sort=business_key&order=asc")
    assert "27 cases · page 1 of 2" in page.inner_text("#case-count")
    assert len(_listed(page)) == 25 and _listed(page)[0] == "claim-triage · P-00"
    page.click("a[rel=next]")
    page.wait_for_url("**page=2**")
    assert _listed(page) == ["claim-triage · P-25", "claim-triage · P-26"]
    assert "sort=business_key" in page.url  # paging keeps the sort


def test_the_case_page_says_why_and_draws_the_plan_before_and_after(site: tuple[str, Page],
                                                                    orch: Orchestrator) -> None:
    url, page = site
    case_id = _claim(orch, "CLM-7")
    page.goto(f"{url}/ui/cases/{case_id}")
    assert page.inner_text("h1") == "claim-triage · CLM-7"
    banner = page.inner_text("#banner")
    assert re.search(r"waiting for senior analyst \(Senior analyst review\) since \d{4}-\d\d-\d\d \d\d:\d\d UTC", banner)
    assert "decides in the inbox" in banner

    def drawn(element: str) -> str | None:
        return page.get_attribute(f"#diagram g[data-element={element}]", "data-state")

    assert (drawn("pi_extract"), drawn("pi_review"), drawn("pi_pay"), drawn("di_documents")) == (
        "Completed", "Active", "Available", "not planned")
    assert page.locator("#diagram path.on-part[data-from=pi_review][data-to=pi_pay]").count() == 1
    assert page.locator("form#run").count() == 1 and page.locator("form[data-action]").count() == 2

    (task,) = orch.pending(case_id)
    orch.decide(task.id, SENIOR, "approve", "documents verified")
    orch.run(case_id)
    page.reload()
    assert (drawn("cpm_claim"), drawn("pi_review"), drawn("pi_pay"), drawn("pi_settled")) == (
        "Completed", "Completed", "Completed", "Completed")
    assert "completed" in page.inner_text("#banner")
    # a completed case offers no Run, no actions, no operations
    assert page.locator("form#run").count() == 0 and page.locator("form[data-action]").count() == 0
    assert page.locator("form#operate").count() == 0

    timeline = page.locator("#timeline li").first.inner_text()
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d #\d+", timeline)  # newest first, with its time
    decided = page.locator("#timeline li[data-kind=human_task_decided]").inner_text()
    assert "Senior analyst review: decided “approve” — “documents verified”" in decided and "person:Ann" in decided
    page.click("#timeline-filter >> text=governance")
    page.wait_for_url("**kind=governance**")
    kinds = {page.locator("#timeline li").nth(i).get_attribute("data-kind")
             for i in range(page.locator("#timeline li").count())}
    assert kinds == {"verdict"}
    governance = page.inner_text("#timeline")
    assert "rules: already_approved" in governance and "rules: reading_only" in governance  # the DMN rules that decided
    assert "[rules:" not in governance  # said once


def test_a_terminated_case_is_worded_and_offers_nothing(site: tuple[str, Page], orch: Orchestrator) -> None:
    url, page = site
    case_id = _claim(orch, "CLM-8")
    orch.terminate(case_id, Person("Olga", frozenset({"claims operations"})), "duplicate claim")
    page.goto(f"{url}/ui/cases/{case_id}")
    assert "terminated by Olga: duplicate claim" in page.inner_text("#banner")
    for form in ("form#run", "form#chat", "form#operate", "form[data-action]"):
        assert page.locator(form).count() == 0, form
    withdrawn = page.locator("#timeline li[data-kind=human_task_decided]").inner_text()
    assert "Senior analyst review: the inbox item was withdrawn — the human task ended without a decision" in withdrawn
    assert "None" not in withdrawn


def test_a_form_sent_twice_is_refused_the_second_time(site: tuple[str, Page], orch: Orchestrator) -> None:
    url, page = site
    case_id = _claim(orch, "CLM-9")
    page.goto(f"{url}/ui/cases/{case_id}")
    form = page.locator("form[data-action]", has_text="Request more documents")
    fields = {"actor": "Hal", "roles": "claims operations",
              "form_key": form.locator("input[name=form_key]").get_attribute("value") or ""}
    action = form.get_attribute("action") or ""
    first = page.request.post(f"{url}{action}", form=fields, max_redirects=0)
    second = page.request.post(f"{url}{action}", form=fields, max_redirects=0)
    assert first.status == 303 and second.status == 409
    assert "this form was sent already" in second.text()
    planned = [i for i in orch.runtime.load(case_id).engine.items() if i.name == "Request more documents"]  # type: ignore[union-attr]
    assert len(planned) == 1  # planned once, not twice

    # a refused first attempt frees its key: the corrected form goes through
    page.goto(f"{url}/ui/cases/{case_id}")
    form = page.locator("form[data-action]", has_text="Customer withdraws")
    form.locator("input[name=actor]").fill("Dan")
    form.locator("input[name=roles]").fill("senior analyst")
    form.locator("button").click()
    assert "authorises claims handler" in page.inner_text("[role=alert]")
    form = page.locator("form[data-action]", has_text="Customer withdraws")
    form.locator("input[name=actor]").fill("Dan")
    form.locator("input[name=roles]").fill("claims handler")
    form.locator("button").click()
    page.wait_for_url("**/ui/cases/*notice=*")
    assert page.text_content("#case-state") == "terminated"


def test_a_run_is_followed_live_over_the_event_stream(site: tuple[str, Page], orch: Orchestrator) -> None:
    url, page = site
    case_id = _claim(orch, "CLM-10", run=False)
    page.add_init_script(_RECORD_LIVE)
    page.goto(f"{url}/ui/cases/{case_id}")
    assert page.get_attribute("#diagram g[data-element=pi_extract]", "data-state") in ("Active", "Enabled", "Available")
    run = page.locator("form#run")
    run.locator("input[name=actor]").fill("Olga")
    run.locator("input[name=roles]").fill("claims operations")
    with page.expect_response(lambda r: r.url.endswith("/run/stream")) as streamed:
        run.locator("button").click()
    response = streamed.value
    assert response.status == 200 and response.headers["content-type"].startswith("text/event-stream")
    page.wait_for_function("document.querySelector('#diagram g[data-element=pi_review]')"
                           ".getAttribute('data-state') === 'Active'")  # the page reloaded with the new state
    assert "waiting for senior analyst" in page.inner_text("#banner")
    shown = json.loads(page.evaluate("sessionStorage.getItem('live') || '[]'"))
    assert any(line.startswith("act: ") for line in shown), shown  # each step appeared while the run went
    assert shown[-1] == "stopped: waiting for people"


_RECORD_LIVE = """
new MutationObserver(() => {
  const lines = [...document.querySelectorAll('#live li')].map(li => li.textContent);
  if (lines.length) sessionStorage.setItem('live', JSON.stringify(lines));
}).observe(document, {childList: true, subtree: true});
"""
"""Keeps what the live list showed across the reload that follows the run (the test's eyes only)."""


def test_no_serious_accessibility_violations_and_a_phone_layout(site: tuple[str, Page], orch: Orchestrator) -> None:
    url, page = site
    case_id = _claim(orch, "CLM-11")
    _claim(orch, "CLM-12", "small")
    for path in ("/ui/cases", f"/ui/cases/{case_id}", "/ui/inbox"):
        page.goto(url + path)
        assert serious_violations(page) == [], path
    page.set_viewport_size({"width": 375, "height": 800})
    for path in ("/ui/cases", f"/ui/cases/{case_id}", "/ui/inbox"):
        page.goto(url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, (path, width)  # wide tables and the diagram scroll inside their own boxes


def _blocking_bundle(claim_files: dict[str, str]) -> dict[str, str]:
    """The claim bundle with the large-amount rule blocking (not asking a person), and no exception for approved claims."""
    dmn = claim_files["guardrails.dmn"]
    start = dmn.index('<rule id="large_amount">')
    end = dmn.index("</rule>", start)
    dmn = dmn[:start] + dmn[start:end].replace('"require_human"', '"block"') + dmn[end:]
    start = dmn.index('<rule id="already_approved">')
    end = dmn.index("</rule>", start) + len("</rule>")
    return {**claim_files, "guardrails.dmn": dmn[:start] + dmn[end:]}


def test_a_blocked_case_says_which_rule_and_a_correction_frees_it(site: tuple[str, Page], orch: Orchestrator,
                                                                  claim_files: dict[str, str]) -> None:
    url, page = site
    orch.deploy_files(_blocking_bundle(claim_files))
    letter = "Dear claims team, my parked car was hit on 3 May. The garage quotes EUR 15000 for the repair. Thanks!"
    case = orch.start_case("claim-triage", claim(letter, "CLM-B", policy="POL-1"), "CLM-B")
    (task,) = orch.run(case.id).pending
    # rejected: the rejection letter (a tool call of the case) is what the large-amount rule now blocks
    orch.decide(task.id, SENIOR, "reject")
    orch.run(case.id)
    page.goto(f"{url}/ui/cases/{case.id}")
    assert "Stuck: blocked" in page.inner_text("#banner-title")
    assert ("blocked by guardrail Review routing (guardrails) rule large_amount: the claimed amount is over 10,000"
            in page.inner_text("#banner"))
    assert "Correct the case-file value it read" in page.inner_text("#banner-help")
    assert serious_violations(page) == []  # the stuck case's page too
    page.click("#banner >> text=Correct a case-file value")  # the banner leads to the form that helps
    assert page.url.endswith("#correct")

    correct = page.locator("form#correct")
    correct.locator("input[name=actor]").fill("Olga")
    correct.locator("input[name=roles]").fill("claims operations")
    correct.locator("input[name=path]").fill("claim.amount")
    correct.locator("input[name=value]").fill("9000")
    correct.locator("input[name=reason]").fill("the quote was 9,000; the letter had a typo")
    correct.locator("button").click()
    page.wait_for_url("**/ui/cases/*notice=*")
    page.evaluate("document.querySelector('form#run').onsubmit = null")  # the plain form post, as without JavaScript
    run = page.locator("form#run")
    run.locator("input[name=actor]").fill("Olga")
    run.locator("input[name=roles]").fill("claims operations")
    run.locator("button").click()
    page.wait_for_function("document.querySelector('#case-state').textContent === 'completed'")
    assert "completed" in page.inner_text("#banner")


def test_an_odd_or_stale_list_link_still_shows_a_list(client: TestClient, deployed: object) -> None:
    for query in ("page=abc", "page=-5&state=bogus&sort=zzz&order=up", "page=99999999999"):
        answer = client.get(f"/ui/cases?{query}")
        assert answer.status_code == 200 and 'id="case-list"' in answer.text, query
    answer = client.get("/ui/cases?q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in answer.text  # the search is text, never markup
