"""Following a case someone else runs (issue 18): ``GET /cases/{id}/events`` streams new history
events as server-sent events, and the case page shows them while it is open — a step recorded by
another thread (a colleague's decision, the run after it) appears without a reload, in Chromium."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page

from casepilot.agent.operations import terminate
from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.api import create_app
from casepilot.demo.run import EXAMPLE, LETTERS
from tests.api._browser import chromium_page, serving


def _events(text: str) -> list[tuple[str | None, str, dict[str, object]]]:
    """(id, event, data) of each server-sent event in ``text`` (comments and ``retry:`` left out)."""
    found = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields:
            found.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
    return found


@pytest.fixture
def waiting(orch: Orchestrator) -> tuple[str, str]:
    """(case id, inbox item id) of a claim waiting for a senior analyst."""
    orch.deploy(EXAMPLE)
    case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-1"}, "CLM-L")
    orch.run(case.id)
    (task,) = orch.pending(case.id)
    return case.id, task.id


def test_the_stream_sends_timeline_lines_after_a_sequence_number(client: TestClient, orch: Orchestrator,
                                                                waiting: tuple[str, str]) -> None:
    case_id, _ = waiting
    last = orch.store.case(case_id).last_seq
    response = client.get(f"/cases/{case_id}/events?seconds=0")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    history = [data for _, kind, data in events if kind == "history"]
    assert [kind for _, kind, _ in events][-1] == "end" and events[-1][2] == {"reason": "time", "last_seq": last}
    assert any(d["kind"] == "human_task_created" and "waiting for a senior analyst" in str(d["what"]) for d in history)
    assert all(event_id == str(data["seq"]) for event_id, kind, data in events if kind == "history")
    seqs = [int(str(d["seq"])) for d in history]
    assert seqs == sorted(seqs) and seqs[-1] <= last
    later = _events(client.get(f"/cases/{case_id}/events?seconds=0&after_seq={seqs[-2]}").text)
    assert [d["seq"] for _, k, d in later if k == "history"] == [seqs[-1]]
    resumed = _events(client.get(f"/cases/{case_id}/events?seconds=0",
                                 headers={"Last-Event-ID": str(last)}).text)  # the browser's reconnect
    assert [k for _, k, _ in resumed] == ["end"]


def test_the_stream_ends_when_the_case_is_over_and_refuses_unknown_cases(client: TestClient, orch: Orchestrator,
                                                                        waiting: tuple[str, str]) -> None:
    case_id, _ = waiting
    terminate(orch, case_id, Person("Olga", {"claims operations"}), "duplicate claim")
    events = _events(client.get(f"/cases/{case_id}/events?seconds=300").text)  # ends at once: nothing more to follow
    assert events[-1][1] == "end" and events[-1][2]["reason"] == "finished"
    assert events[-1][2]["state"] == "terminated"
    assert client.get("/cases/nope/events?seconds=0").status_code == 404
    assert client.get(f"/cases/{case_id}/events?seconds=601").status_code == 422


@pytest.fixture
def browser_page() -> Iterator[Page]:
    with chromium_page() as page:
        yield page


def test_the_case_page_shows_a_step_another_thread_records(orch: Orchestrator, waiting: tuple[str, str],
                                                           browser_page: Page) -> None:
    case_id, task_id = waiting
    page = browser_page
    with serving(create_app(orch)) as url:
        page.goto(f"{url}/ui/cases/{case_id}")
        assert page.locator("#live-note").is_hidden()
        assert page.locator("#timeline li.live-event").count() == 0
        page.wait_for_selector("#timeline[data-following=yes]", state="attached")  # the page follows the case

        def colleague() -> None:  # another person, elsewhere, decides; the case runs on
            orch.decide(task_id, Person("Ann", {"senior analyst"}), "approve", "looks right")
            orch.run(case_id)

        worker = threading.Thread(target=colleague)
        worker.start()
        worker.join(60)
        decided = page.locator("#timeline li.live-event[data-kind=human_task_decided]")
        decided.wait_for()
        assert "decided “approve” — “looks right”" in decided.inner_text()
        assert page.locator("#live-note").is_visible()
        newest = page.locator("#timeline li").first
        assert int(newest.get_attribute("data-seq") or 0) == max(
            e.seq for e in orch.store.history(case_id, limit=10_000) if e.kind not in ("state", "state_delta"))
