"""The case page of a BPMN process, in a real browser (Debian's chromium through Playwright).

A process started on its own shows its diagram (drawn from the model's BPMN DI) with the token
at the clerk's user task instead of the one-task plan around it, the user task with its form,
and its history; the clerk decides in the page, and the diagram then shows the process ended.
A CMMN case whose process task runs the process shows the plan *and* the process's diagram.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.api import create_app
from casepilot.store import Store
from tests.agent._support import calls_of
from tests.api._axe import serious_violations
from tests.api._browser import browser_page
from tests.bpmn._process_bundle import CLERK, process_registry, write_process_bundle


@pytest.fixture
def served(tmp_path: Path, fresh_calls: None) -> Iterator[tuple[Orchestrator, str, Page]]:
    store = Store.from_url(f"sqlite:///{tmp_path / 'page.db'}")
    orch = Orchestrator(store, process_registry(), RulePlanner())
    orch.deploy(write_process_bundle(tmp_path / "pay", "pay", diagram=True))
    with browser_page(create_app(orch)) as (url, page):
        yield orch, url, page
    orch.close()
    store.close()


def test_a_process_page_shows_its_tokens_and_the_clerk_decides_there(served: tuple[Orchestrator, str, Page]) -> None:
    orch, url, page = served
    case = orch.start_case("pay", {"payee": "Ann Lee", "amount": 250}, "P-9", process="pay_small")
    page.goto(f"{url}/ui/cases/{case.id}")

    figure = page.locator("figure.process-diagram[data-process='pay_small']")
    expect(figure).to_have_attribute("data-status", "waiting")
    expect(figure.locator("g.active[data-element='confirm']")).to_be_visible()
    expect(figure.locator("g.completed[data-element='level']")).to_be_visible()
    expect(page.locator("#diagram")).to_have_count(0)  # no one-task plan around the process
    expect(page.locator("#timeline")).to_contain_text("Confirm the payment")
    assert serious_violations(page) == []

    form = page.locator("form[data-decide]")
    form.locator("[name=actor]").fill("ann")
    form.locator("[name=roles]").fill(CLERK)
    form.get_by_label("Pay it").select_option("yes")
    form.locator("button[value=complete]").click()

    page.goto(f"{url}/ui/cases/{case.id}")
    expect(page.locator("#case-state")).to_have_text("completed")
    ended = page.locator("figure.process-diagram[data-process='pay_small']")
    expect(ended).to_have_attribute("data-status", "completed")
    expect(ended.locator("g.completed[data-element='pay']")).to_be_visible()
    expect(ended.locator("g.active")).to_have_count(0)
    assert calls_of("pay_out") == [{"payee": "Ann Lee", "amount": 250.0}]


def test_a_cmmn_case_page_shows_its_plan_and_the_process_its_task_runs(
        served: tuple[Orchestrator, str, Page]) -> None:
    orch, url, page = served
    case = orch.start_case("pay", {"payee": "Ann Lee", "amount": 20})
    orch.run(case.id)
    page.goto(f"{url}/ui/cases/{case.id}")
    expect(page.locator("#diagram")).to_be_visible()
    figure = page.locator("figure.process-diagram[data-process='pay_small']")
    expect(figure.locator("g.active[data-element='confirm']")).to_be_visible()
    expect(figure.locator("figcaption")).to_contain_text("tokens at confirm")
    assert serious_violations(page) == []
