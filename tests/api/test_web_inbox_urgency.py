"""Priority and due time of inbox items (issue 18), in Chromium: a human task declares them in the
manifest (``priority: high``, ``due: PT1H`` — an ISO 8601 duration from the item's creation); the
inbox shows them, marks an item overdue, and sorts by due time or priority, the order kept in the URL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page
from pydantic import ValidationError

from casepilot.agent.manifest import HumanTaskSpec
from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.api import create_app
from casepilot.demo.run import LETTERS
from casepilot.store import Store
from casepilot.tools import ToolRegistry
from tests.api._browser import chromium_page, serving

ANCHOR = "    question: Approve or reject this claim?\n"


def _bundle(files: dict[str, str], key: str, urgency: str) -> dict[str, str]:
    manifest = files["casepilot.yaml"].replace("key: claim-triage", f"key: {key}", 1)
    assert ANCHOR in manifest
    return {**files, "casepilot.yaml": manifest.replace(ANCHOR, ANCHOR + urgency)}


@pytest.fixture
def shifted(tmp_path: Path, registry: ToolRegistry) -> Iterator[tuple[Orchestrator, list[timedelta]]]:
    """An orchestrator whose store clock can be set back (items created "hours ago"), and the shift."""
    shift = [timedelta(0)]
    store = Store.from_url(f"sqlite:///{tmp_path / 'inbox.db'}", clock=lambda: datetime.now(UTC) + shift[0])
    orch = Orchestrator(store, registry, RulePlanner())
    yield orch, shift
    orch.close()
    store.close()


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium_page() as page:
        yield page


def _keys(page: Page) -> list[str]:
    return [title.split(" — ")[0].split(" · ")[1] for title in page.locator("section.card h2").all_inner_texts()]


def test_priority_and_due_time_are_shown_and_sorted(shifted: tuple[Orchestrator, list[timedelta]],
                                                    claim_files: dict[str, str], page: Page) -> None:
    orch, shift = shifted
    orch.deploy_files(_bundle(claim_files, "claims-slow", "    priority: low\n    due: P2D\n"))
    orch.deploy_files(_bundle(claim_files, "claims-fast", "    priority: urgent\n    due: PT1H\n"))
    orch.deploy_files(_bundle(claim_files, "claims-plain", ""))
    letter = {"letter": LETTERS["senior-review"], "policy": "POL-1"}
    for key, definition, ago in (("OLD-SLOW", "claims-slow", 3), ("OLD-FAST", "claims-fast", 2),
                                 ("PLAIN", "claims-plain", 1), ("NEW-FAST", "claims-fast", 0)):
        shift[0] = timedelta(hours=-ago)
        orch.run(orch.start_case(definition, letter, key).id)
    shift[0] = timedelta(0)
    with serving(create_app(orch)) as url:
        page.goto(f"{url}/ui/inbox")
        assert _keys(page) == ["OLD-SLOW", "OLD-FAST", "PLAIN", "NEW-FAST"]  # oldest first, as before
        facts = dict(zip(_keys(page), page.locator("section.card .task-facts").all_inner_texts(), strict=True))
        assert "urgent priority" in facts["OLD-FAST"] and "overdue since" in facts["OLD-FAST"]
        assert "urgent priority" in facts["NEW-FAST"] and "overdue" not in facts["NEW-FAST"]
        assert " due " in facts["NEW-FAST"] + " "
        assert "low priority" in facts["OLD-SLOW"] and "due" in facts["OLD-SLOW"] and "overdue" not in facts["OLD-SLOW"]
        assert "priority" not in facts["PLAIN"] and "due" not in facts["PLAIN"]  # normal, no due time: nothing said
        assert page.locator("section.card .due-soon").count() == 1  # the overdue one stands out

        page.select_option("#inbox-filter select[name=sort]", "due")
        page.click("#inbox-filter button")
        page.wait_for_url("**sort=due**")
        assert _keys(page) == ["OLD-FAST", "NEW-FAST", "OLD-SLOW", "PLAIN"]  # no due time: last
        page.goto(f"{url}/ui/inbox?sort=priority")
        assert _keys(page) == ["OLD-FAST", "NEW-FAST", "PLAIN", "OLD-SLOW"]
        assert page.input_value("#inbox-filter select[name=sort]") == "priority"  # the order stays in the form
        page.goto(f"{url}/ui/inbox?sort=bogus")
        assert _keys(page) == ["OLD-SLOW", "OLD-FAST", "PLAIN", "NEW-FAST"]  # an odd link still shows the inbox


@pytest.mark.parametrize(("due", "message"), [
    ("2 days", "not a positive ISO 8601 duration"), ("PT0S", "not a positive"), ("P1M", "months or years"),
])
def test_a_due_time_must_be_a_positive_duration_in_days_or_less(due: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        HumanTaskSpec(due=due)
    assert HumanTaskSpec(due="P1DT12H").due_after == timedelta(days=1, hours=12)
