"""The case page's conversation in Chromium, the model a scripted OpenAI-protocol server (issue 17).

A person asks why the claim waits (the answer streams in over server-sent events and cites the
history), asks for more documents (a proposal: nothing happens yet), confirms it (governed as
them: the claims handlers' inbox gets the item), and is refused a payment promise by the
output rail with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, sync_playwright

from casepilot.agent.chat_model import ChatModel, use_chat_model
from casepilot.agent.llm_client import LLMClient
from casepilot.agent.llm_endpoints import EndpointSettings
from casepilot.agent.orchestrator import Orchestrator
from casepilot.api import create_app
from casepilot.demo.run import EXAMPLE, LETTERS
from tests._openai_server import Reply, ScriptedOpenAI, scripted_openai
from tests.api._browser import chromium_path, serving


def said(answer: str, citations: list[str] | None = None, propose: str | None = None) -> Reply:
    return Reply(text=json.dumps({"answer": answer, "citations": citations or [], "propose": propose}))


@pytest.fixture
def browser_page(orch: Orchestrator) -> Iterator[tuple[str, Page, ScriptedOpenAI]]:
    orch.deploy(EXAMPLE)  # with its message rail (message-rail.dmn)
    with scripted_openai([]) as model, serving(create_app(orch)) as url, sync_playwright() as pw:
        endpoint = EndpointSettings(base_url=model.url, max_retries=1, backoff=0.0)
        use_chat_model(orch, ChatModel(LLMClient({"default": endpoint}, sleep=lambda _s: None), "gpt-4o-mini"))
        browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            yield url, page, model
        finally:
            browser.close()


def _ask(page: Page, message: str, turns_before: int) -> None:
    form = page.locator("form#chat-ask")
    form.locator("input[name=actor]").fill("Olga")
    form.locator("input[name=roles]").fill("claims operations")
    form.locator("input[name=message]").fill(message)
    form.locator("button").click()
    page.wait_for_function(f"document.querySelectorAll('#chat-thread li').length >= {turns_before + 2}")


def test_a_person_handles_the_claim_from_the_chat(browser_page: tuple[str, Page, ScriptedOpenAI],
                                                  orch: Orchestrator) -> None:
    url, page, model = browser_page
    case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-1"})
    orch.run(case.id)
    review = next(e.seq for e in orch.store.history(case.id) if e.kind == "human_task_created")
    options, _ = orch.runtime.options(orch.runtime.load(case.id))
    documents = next(o.id for o in options if o.label == "Request more documents")
    model.replies += [
        said(f"It waits for a senior analyst to approve or reject it [#{review}].", [f"#{review}"]),
        said("I can have the claims handlers request more documents.", [], documents),
        said("Yes, you will be paid EUR 800 tomorrow."),
    ]
    page.goto(f"{url}/ui/cases/{case.id}")

    _ask(page, "Why is my claim waiting?", 0)
    thread = page.locator("#chat-thread")
    assert f"It waits for a senior analyst to approve or reject it [#{review}]." in thread.inner_text()
    assert f"cites #{review}" in thread.inner_text()

    _ask(page, "Ask the customer for more documents", 2)
    confirm = page.locator("#chat-thread form[data-proposal]")
    assert confirm.count() == 1 and "Confirm: Request more documents" in confirm.inner_text()
    assert orch.pending(case.id, role="claims handler") == []  # proposed only

    confirm.locator("input[name=actor]").fill("Olga")
    confirm.locator("input[name=roles]").fill("claims operations")
    confirm.locator("button").click()
    page.wait_for_url("**/ui/cases/*")
    assert "Done: Request more documents" in page.inner_text("[role=status]")
    assert [t.plan_item for t in orch.pending(case.id, role="claims handler")] == ["Request more documents"]
    assert page.locator("#chat-thread form[data-proposal]").count() == 0  # confirmed once, not offered again

    _ask(page, "Will I be paid?", 6)
    last = page.locator("#chat-thread li").last.inner_text()
    assert "I cannot give that answer" in last and "promise of payment" in last
    assert "paid EUR 800 tomorrow" not in page.locator("#chat-thread").inner_text()
