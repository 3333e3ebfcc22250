"""Confirming a chat proposal behind ``casepilot serve`` with workers: the server records the
person's confirmed choice and queues the case's run in one transaction; a worker process carries
out exactly that option, governed as the person, and answers — never the server, and once, also
when a worker is SIGKILLed in between.

The app is served by uvicorn in the test process (the server's process id is the test's); the
workers are real ``casepilot worker`` processes. Every tool execution is counted with the id of
the process that made it (``_decide_tools``). The claim is the demo's senior-review letter,
waiting for a senior analyst; the chat (offline: no model configured) proposes "Request more
documents", a discretionary human task for the claims handlers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from casepilot.store import Store
from casepilot.worker import jobs
from tests._claims import claim
from tests.worker import _chat_tools, _kill_tools, _storm
from tests.worker.conftest import libpq

pytestmark = pytest.mark.postgres

OLGA = {"actor": "olga", "roles": ["claims operations"]}
LABEL = "Request more documents"


def _server_tools(pg_url: str) -> list[str]:
    """Tools executed by this process (the server's)."""
    with psycopg.connect(libpq(pg_url)) as conn:
        rows = conn.execute("SELECT tool FROM tool_invocations WHERE pid = %s", (os.getpid(),))
        return [str(tool) for (tool,) in rows]


@contextmanager
def _working(
    store: Store, workers: _storm.StormWorkers, processes: int = 2, *, ready: bool = True
) -> Iterator[None]:
    """``processes`` workers for the block (with ``ready``, from when each said it takes jobs: a
    single one runs inside the supervisor, where ``Workers.ready`` does not see it); after it, until
    nothing moves without a person (``_storm.settle``). Stopped in any case; after a block that went
    through, they must have stopped cleanly (exit code 0: a SIGKILLed worker is replaced, no crash loop)."""
    workers.start(processes)
    try:
        if ready:
            workers.wait_ready(processes)
        yield
        _storm.settle(store, workers)
    finally:
        code = workers.stop()
    assert code == 0, workers.log.read_text(errors="replace")[-3000:]


def _carry_out(store: Store, workers: _storm.StormWorkers, processes: int) -> None:
    """``processes`` workers until the queued confirmation is carried out and nothing moves any more."""
    with _working(store, workers, processes, ready=False):
        pass


def _waiting_claim(base: str, reference: str) -> str:
    """Start the senior-review claim and wait until a worker has brought it to the senior analyst."""
    response = httpx.post(
        f"{base}/cases",
        params={"wait": 180},
        timeout=200,
        json={"definition_key": "claim-triage", "variables": claim("senior-review", reference)},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert [t["role"] for t in body["open_tasks"]] == ["senior analyst"], body["open_tasks"]
    return str(body["id"])


def _proposal(base: str, case_id: str) -> str:
    asked = httpx.post(
        f"{base}/cases/{case_id}/chat", timeout=60, json={**OLGA, "message": f"please plan {LABEL}"}
    )
    assert asked.status_code == 200, asked.text
    proposal = asked.json()["proposal"]
    assert proposal is not None and proposal["label"] == LABEL, asked.json()
    return str(proposal["id"])


def _proposed(base: str, store: Store, workers: _storm.StormWorkers, reference: str) -> tuple[str, str]:
    """With two workers: the senior-review claim brought to the senior analyst and the chat's
    proposal of ``LABEL`` for olga; the workers stopped once the case settled (the chat's steps
    queue runs too), so that none runs what comes next. (case id, proposal id)"""
    with _working(store, workers):
        case_id = _waiting_claim(base, reference)
        return case_id, _proposal(base, case_id)


def _chat_plans(store: Store, case_id: str) -> list[Any]:
    return [e for e in store.history(case_id) if e.kind == "plan" and e.payload.get("planner") == "chat"]


def _carried_out_once(store: Store, case_id: str, proposal: str, pg_url: str) -> None:
    """The person's option was carried out once, as theirs, and answered once; nothing by the server."""
    [plan] = _chat_plans(store, case_id)
    assert (plan.actor, plan.payload["label"]) == ("person:olga", LABEL)
    history = store.history(case_id)
    verdict = next(
        e for e in history if e.kind == "verdict" and e.seq > plan.seq and e.actor == "person:olga"
    )
    assert verdict.payload["kind"] == "allow"
    answers = [e for e in history if e.kind == "chat_message" and e.payload.get("confirmed") == proposal]
    assert [a.payload["text"] for a in answers] == [f"Done: {LABEL} ({verdict.payload['reason']})."]
    assert answers[0].payload["outcome"] == "allow"
    assert [
        t.plan_item for t in store.tasks(case_id=case_id, status="open") if t.role == "claims handler"
    ] == [LABEL]
    assert store.case(case_id).state["agent"].get("chat_requests", []) == []
    assert _server_tools(pg_url) == []  # the server executed no tool at all
    assert store.verify(case_id).ok


def test_a_confirmed_proposal_is_recorded_queued_and_carried_out_by_a_worker_once(
    base: str, store: Store, pg_url: str, tmp_path: Path
) -> None:
    workers = _storm.storm_workers(pg_url, tmp_path, _chat_tools.SPEC)
    case_id, proposal = _proposed(base, store, workers, "CLM-CQ-1")
    # No worker runs now: whatever the confirmation does, the server does.
    confirmed = httpx.post(f"{base}/cases/{case_id}/chat/proposals/{proposal}/confirm", json=OLGA, timeout=60)
    assert confirmed.status_code == 202, confirmed.text
    assert confirmed.headers["location"] == f"/cases/{case_id}"
    body = confirmed.json()
    assert body["outcome"] == "queued" and body["reply"].startswith(f"Confirmed: {LABEL}."), body
    assert body["answer_seq"] == body["question_seq"] + 1

    # Recorded (the person's choice with name and roles), the run queued with it — nothing carried out.
    assert _chat_plans(store, case_id) == []
    [request] = store.case(case_id).state["agent"]["chat_requests"]
    assert (request["option_id"], request["actor"], request["roles"]) == (
        "plan:di_documents:case.3",
        "person:olga",
        ["claims operations"],
    )
    assert jobs.runs_in_flight(store.engine, case_id) == 1
    again = httpx.post(f"{base}/cases/{case_id}/chat/proposals/{proposal}/confirm", json=OLGA, timeout=60)
    assert again.status_code == 409, again.text  # confirmed once, queued or not

    _carry_out(store, workers, 1)
    _carried_out_once(store, case_id, proposal, pg_url)
    turns = httpx.get(f"{base}/cases/{case_id}/chat", timeout=30).json()["turns"]
    assert [(t["actor"], t["text"].split(".")[0]) for t in turns[-3:]] == [
        ("person:olga", f"Confirm: {LABEL}"),
        ("agent", f"Confirmed: {LABEL}"),
        ("agent", f"Done: {LABEL} (no policy objected)"),
    ]


def test_wait_answers_with_the_workers_outcome(base: str, store: Store, pg_url: str, tmp_path: Path) -> None:
    workers = _storm.storm_workers(pg_url, tmp_path, _chat_tools.SPEC)
    with _working(store, workers):
        case_id = _waiting_claim(base, "CLM-CQ-2")
        proposal = _proposal(base, case_id)
        confirmed = httpx.post(
            f"{base}/cases/{case_id}/chat/proposals/{proposal}/confirm",
            params={"wait": 180},
            json=OLGA,
            timeout=200,
        )
        assert confirmed.status_code == 200, confirmed.text
        body = confirmed.json()
        assert (body["outcome"], body["reply"].split(" (")[0]) == ("allow", f"Done: {LABEL}"), body
    _carried_out_once(store, case_id, proposal, pg_url)


@pytest.mark.parametrize("point", [_chat_tools.BEFORE, _chat_tools.ANSWER])
def test_a_worker_killed_after_the_confirmation_leaves_it_to_another_once(
    base: str, store: Store, pg_url: str, tmp_path: Path, point: str
) -> None:
    """The first worker to take the confirmed option dies (SIGKILL) before carrying it out, or after
    (its plan and verdict committed) but before answering; another worker takes the job once the dead
    one's heartbeat is stale and carries the option out — or, when it was, only answers."""
    marker = tmp_path / "killed"
    env = {_kill_tools.ENV_POINT: point, _kill_tools.ENV_MARKER: str(marker)}
    workers = _storm.storm_workers(pg_url, tmp_path, _chat_tools.SPEC, env=env)
    with _working(store, workers):
        case_id = _waiting_claim(base, f"CLM-CQ-{point}")
        proposal = _proposal(base, case_id)
        confirmed = httpx.post(
            f"{base}/cases/{case_id}/chat/proposals/{proposal}/confirm", json=OLGA, timeout=60
        )
        assert confirmed.status_code == 202, confirmed.text
    assert marker.exists(), f"no worker died at {point}"
    _carried_out_once(store, case_id, proposal, pg_url)


def test_the_pages_confirm_records_and_queues_too(
    base: str, store: Store, pg_url: str, tmp_path: Path
) -> None:
    workers = _storm.storm_workers(pg_url, tmp_path, _chat_tools.SPEC)
    case_id, proposal = _proposed(base, store, workers, "CLM-CQ-WEB")
    confirmed = httpx.post(
        f"{base}/ui/cases/{case_id}/chat/proposals/{proposal}/confirm",
        data={"actor": "olga", "roles": "claims operations"},
        timeout=60,
    )
    assert confirmed.status_code == 303, confirmed.text  # back to the case page, with the acknowledgement
    assert _chat_plans(store, case_id) == []
    assert [r["proposal"] for r in store.case(case_id).state["agent"]["chat_requests"]] == [proposal]
    assert jobs.runs_in_flight(store.engine, case_id) == 1
    page = httpx.get(f"{base}{confirmed.headers['location']}", timeout=30)
    assert f"Confirmed: {LABEL}." in page.text

    _carry_out(store, workers, 2)
    _carried_out_once(store, case_id, proposal, pg_url)
