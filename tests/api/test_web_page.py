"""The web page in a real browser: start a claim, decide its checkpoint, chat — and no markup
from a letter ever runs. Plus the page's error answers (without a browser)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect, sync_playwright

from casepilot.agent.orchestrator import Orchestrator
from casepilot.api import create_app
from casepilot.demo.run import EXAMPLE, LETTERS
from tests._claims import claim
from tests.api._browser import browser_page, chromium_path, serving


@pytest.fixture
def page_url(orch: Orchestrator) -> Iterator[tuple[str, Page]]:
    orch.deploy(EXAMPLE)
    with browser_page(create_app(orch)) as site:
        yield site


def _start_claim(url: str, page: Page, letter: str, business_key: str) -> None:
    page.goto(f"{url}/ui/cases")
    page.select_option("select[name=definition_key]", "claim-triage")
    page.fill("input[name=business_key]", business_key)
    page.fill("textarea[name=variables]", json.dumps(claim(letter, business_key, policy="POL-1")))
    page.click("text=Start and run")
    page.wait_for_url("**/ui/cases/*")


def test_a_person_decides_a_checkpoint_in_the_browser(page_url: tuple[str, Page], orch: Orchestrator) -> None:
    url, page = page_url
    _start_claim(url, page, LETTERS["senior-review"], "CLM-7")
    assert page.text_content("#case-state") == "active"
    assert "Waiting for people" in page.inner_text("main")

    page.click("header >> text=Inbox")
    card = page.locator("section.card", has_text="Approve or reject this claim?")
    assert card.count() == 1
    card.locator("input[name=actor]").fill("Bob")
    card.locator("input[name=roles]").fill("claims handler")
    card.locator("button", has_text="approve").click()
    assert "needs the role 'senior analyst'" in page.inner_text("[role=alert]")
    assert len(orch.pending(role="senior analyst")) == 1  # refused: nothing changed

    card = page.locator("section.card", has_text="Approve or reject this claim?")
    card.locator("input[name=actor]").fill("Ann")
    card.locator("input[name=roles]").fill("senior analyst, team lead")
    card.locator("input[name=comment]").fill("documents verified")
    card.locator("button", has_text="approve").click()
    page.wait_for_url("**/ui/cases/*")
    assert page.text_content("#case-state") == "completed"
    assert "Ann decided “approve”" in page.inner_text("[role=status]")
    timeline = page.inner_text("#timeline")
    assert "human_task_decided" in timeline and "pay_claim" in timeline  # the payment process paid it
    assert "verified ✓" in page.inner_text("main")
    assert orch.pending() == []

    chat = page.locator("form#chat-ask")
    chat.locator("input[name=actor]").fill("Ann")
    chat.locator("input[name=message]").fill("What is the status?")
    chat.locator("button").click()
    # The answer arrives over the stream and the page reloads with it: ``expect`` retries across the reload.
    expect(page.locator("#chat-thread")).to_contain_text("What is the status?", timeout=60_000)
    expect(page.locator("#chat-thread li").last).to_contain_text("completed", timeout=60_000)


def test_markup_in_a_letter_is_shown_as_text_never_run(page_url: tuple[str, Page]) -> None:
    url, page = page_url
    hostile = ('My car was hit. <script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> '
               "The repair costs EUR 300.")
    _start_claim(url, page, hostile, "<b>CLM-8</b>")
    assert page.evaluate("window.pwned") is None
    assert page.locator("main b").count() == 0
    assert "<b>CLM-8</b>" in page.inner_text("main")  # the business key, shown as the text it is
    page.goto(f"{url}/ui/cases")
    assert page.evaluate("window.pwned") is None
    assert "<b>CLM-8</b>" in page.inner_text("table")


def test_the_page_answers_bad_forms_and_unknown_cases_with_reasons(orch: Orchestrator) -> None:
    orch.deploy(EXAMPLE)
    with TestClient(create_app(orch)) as client:
        bad_json = client.post("/ui/cases", data={"definition_key": "claim-triage", "variables": "{letter: 1"})
        assert bad_json.status_code == 422
        assert "the variables are not JSON" in bad_json.text
        not_object = client.post("/ui/cases", data={"definition_key": "claim-triage", "variables": "[1, 2]"})
        assert not_object.status_code == 422 and "must be a JSON object" in not_object.text
        unknown_key = client.post("/ui/cases", data={"definition_key": "nope", "variables": "{}"})
        assert unknown_key.status_code == 404 and "nope" in unknown_key.text
        assert client.get("/ui/cases/no-such-case").status_code == 404
        decided = client.post("/ui/inbox/no-such-task", data={"actor": "Ann", "choice": "approve"})
        assert decided.status_code == 404
        missing_field = client.post("/ui/inbox/no-such-task", data={"choice": "approve"})
        assert missing_field.status_code == 422
        assert orch.store.cases() == []  # nothing was started by the bad forms
        home = client.get("/", follow_redirects=False)
        assert home.status_code == 303 and home.headers["location"] == "/ui/inbox"


def test_form_posts_from_another_site_are_refused_before_anything_runs(orch: Orchestrator) -> None:
    orch.deploy(EXAMPLE)
    case = orch.start_case("claim-triage", claim("senior-review", "CLM-1", policy="POL-1"))
    orch.run(case.id)
    (task,) = orch.pending()
    form = {"actor": "Ann", "roles": "senior analyst", "choice": "approve"}
    with TestClient(create_app(orch)) as client:
        for headers in ({"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"},
                        {"sec-fetch-site": "same-site"}, {"origin": "null"}):
            refused = client.post(f"/ui/inbox/{task.id}", data=form, headers=headers)
            assert refused.status_code == 403, headers
            assert refused.headers["content-type"].startswith("text/html") and "use the page itself" in refused.text
            started = client.post("/ui/cases", data={"definition_key": "claim-triage", "variables": "{}"},
                                  headers=headers)
            assert started.status_code == 403
        assert [t.id for t in orch.pending()] == [task.id]  # nothing was decided
        assert len(orch.store.cases()) == 1  # nor started
        same_site = client.post(f"/ui/inbox/{task.id}", data=form, follow_redirects=False,
                                headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"})
        assert same_site.status_code == 303
        assert orch.pending() == []
        assert client.get("/ui/inbox", headers={"sec-fetch-site": "cross-site"}).status_code == 200  # reading is fine


def test_a_claims_handler_records_a_withdrawal_on_the_case_page(page_url: tuple[str, Page]) -> None:
    url, page = page_url
    _start_claim(url, page, LETTERS["senior-review"], "CLM-9")
    action = page.locator("form[data-action^='occur:']", has_text="Customer withdraws")
    assert "for a claims handler" in action.inner_text()
    action.locator("input[name=actor]").fill("Dan")
    action.locator("input[name=roles]").fill("senior analyst")
    action.locator("button").click()
    assert "authorises claims handler" in page.inner_text("[role=alert]")
    assert page.text_content("#case-state") == "active"

    action = page.locator("form[data-action^='occur:']", has_text="Customer withdraws")
    action.locator("input[name=actor]").fill("Carol")
    action.locator("input[name=roles]").fill("claims handler")
    action.locator("button").click()
    page.wait_for_url("**/ui/cases/*")
    assert page.text_content("#case-state") == "terminated"
    assert "Carol did it" in page.inner_text("[role=status]")
    assert "person:Carol" in page.inner_text("#timeline")
    assert page.locator("form[data-action]").count() == 0


def test_the_case_page_reveals_personal_data_to_allowed_roles_only(orch: Orchestrator) -> None:
    orch.deploy(EXAMPLE)
    case = orch.start_case("claim-triage", claim("senior-review", "CLM-1", policy="POL-1"))
    orch.run(case.id)
    with TestClient(create_app(orch)) as client:
        page = client.get(f"/ui/cases/{case.id}")
        assert "&lt;PERSON_1&gt;" in page.text and "Mary Jones" not in page.text
        refused = client.post(f"/ui/cases/{case.id}/reveal", data={"actor": "Bob", "roles": "claims handler"})
        assert refused.status_code == 403 and "Mary Jones" not in refused.text
        shown = client.post(f"/ui/cases/{case.id}/reveal", data={"actor": "Ann", "roles": "senior analyst"})
        assert shown.status_code == 200 and "Mary Jones" in shown.text
        assert shown.headers["cache-control"] == "no-store"
        assert "recorded in the case history" in shown.text
    assert [e.actor for e in orch.store.history(case.id) if e.kind == "pii_revealed"] == ["person:Ann"]


def test_the_inbox_shows_each_items_case_file_pseudonymised(orch: Orchestrator) -> None:
    orch.deploy(EXAMPLE)
    case = orch.start_case("claim-triage", claim("senior-review", "CLM-7", policy="POL-7"))
    orch.run(case.id)
    with TestClient(create_app(orch)) as client:
        page = client.get("/ui/inbox").text
    card = page[page.index('<section class="card"'):]
    assert "POL-7" in card and "sentiment" in card and '"amount": "800"' in card.replace("&#34;", '"')
    assert "&lt;PERSON_1&gt;" in card and "Mary Jones" not in page


def test_a_crafted_link_cannot_make_the_page_announce_anything(orch: Orchestrator) -> None:
    orch.deploy(EXAMPLE)
    case = orch.start_case("claim-triage", claim("small", "CLM-1", policy="POL-1"))  # paid without a manager
    with TestClient(create_app(orch)) as client:
        forged = client.get(f"/ui/cases/{case.id}", params={"notice": "Ann approved the payout", "sig": "0" * 32})
        assert forged.status_code == 200 and "Ann approved the payout" not in forged.text
        ran = client.post(f"/ui/cases/{case.id}/run", follow_redirects=False)
        assert ran.status_code == 303 and "&sig=" in ran.headers["location"]
        shown = client.get(ran.headers["location"])
        assert "The run stopped: completed" in shown.text
        other_app = TestClient(create_app(orch))  # another server's signature does not count here
        assert "The run stopped" not in other_app.get(ran.headers["location"]).text


def test_behind_a_sign_on_proxy_the_browser_never_types_a_name(orch: Orchestrator) -> None:
    """The proxy's headers (set here on every request the browser makes) are the person."""
    from casepilot.api.identity import TrustedHeaders

    orch.deploy(EXAMPLE)
    case = orch.start_case("claim-triage", claim("senior-review", "CLM-1", policy="POL-1"))
    orch.run(case.id)
    with serving(create_app(orch, identity=TrustedHeaders())) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            page.set_extra_http_headers({"X-Forwarded-User": "ann", "X-Forwarded-Groups": "senior analyst"})
            page.goto(f"{url}/ui/inbox")
            assert page.inner_text("#signed-in") == "ann · senior analyst"
            card = page.locator("section.card", has_text="Approve or reject this claim?")
            assert card.locator("input[name=actor]").count() == 0
            card.locator("button", has_text="approve").click()
            page.wait_for_url("**/ui/cases/*")
            assert page.text_content("#case-state") == "completed"
            assert "ann decided “approve”" in page.inner_text("[role=status]")
        finally:
            browser.close()
    decided = [e for e in orch.store.history(case.id) if e.kind == "human_task_decided"]
    assert [e.actor for e in decided] == ["person:ann"]
