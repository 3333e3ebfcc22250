"""``POST /cases/{id}/run/stream`` with workers: the run is queued, a real worker process works it,
and the stream (served by uvicorn, so it really streams) follows the case's history — the same
``step``/``outcome`` events the in-process stream sends, ending when the case stops. A stream
that ends early (time, a hung-up client, a worker stopped by SIGTERM) loses nothing."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import text

from casepilot.agent.timeline import timeline
from casepilot.api import app_from_settings, queued_stream
from casepilot.api.settings import ApiSettings
from casepilot.store import Store
from casepilot.worker import jobs
from tests._claims import claim
from tests.api._browser import serving
from tests.worker import _tools
from tests.worker.conftest import Workers, libpq, wait_until

pytestmark = pytest.mark.postgres

PAYMENT = "pay_claim"
"""The non-idempotent tool that moves the money (the claim's payment process; ``_tools`` counts it)."""
Event = tuple[str, dict[str, Any], int | None]


@pytest.fixture
def base(pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """``casepilot serve``'s app in queue mode under uvicorn, with the counting claims bundle deployed."""
    monkeypatch.setenv(_tools.ENV_URL, libpq(pg_url))
    with serving(app_from_settings(ApiSettings(database_url=pg_url, registry=_tools.registry), queue=True)) as url:
        folder = _tools.claims_bundle(tmp_path / "claims")
        files = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if p.is_file()}
        assert httpx.post(f"{url}/definitions", json={"files": files}, timeout=60).status_code == 201
        yield url


def _start(base: str, letter: str, ref: str) -> str:
    """Start a claim (``letter``: ``"small"``, paid without a person, or a demo letter's label)."""
    response = httpx.post(f"{base}/cases", json={"definition_key": "claim-triage", "variables": claim(letter, ref)},
                          timeout=60)
    assert response.status_code == 202, response.text  # queued: no worker has run it yet
    return str(response.json()["id"])


def _read(lines: Iterator[str]) -> Iterator[Event]:
    """Server-sent events as (event, data, id) while they arrive (comment lines skipped)."""
    fields: dict[str, str] = {}
    for line in lines:
        if line:
            if not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
            continue
        if "event" in fields:
            yield fields["event"], json.loads(fields["data"]), int(fields["id"]) if "id" in fields else None
        fields = {}


def _timeline_after(store: Store, case_id: str, seq: int) -> list[tuple[int, str, str]]:
    return [(e.seq, e.kind, e.what) for e in timeline(store.history(case_id)) if e.seq > seq]


def _steps(events: list[Event]) -> list[tuple[int, str, str]]:
    return [(seq, data["node"], data["summary"]) for kind, data, seq in events if kind == "step" and seq is not None]


def test_the_stream_follows_the_worker_and_its_steps_are_the_history(
        base: str, store: Store, pg_url: str, tmp_path: Path) -> None:
    case_id = _start(base, "senior-review", "S-1")
    before = store.case(case_id).last_seq
    workers = Workers(pg_url, tmp_path / "workers.log")
    events: list[Event] = []
    with httpx.stream("POST", f"{base}/cases/{case_id}/run/stream", json={"max_steps": 50}, timeout=120) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        workers.start(1)  # the stream is open and the run queued before any worker exists
        try:
            events = list(_read(response.iter_lines()))
        finally:
            workers.stop()
    steps = _steps(events)
    assert steps == _timeline_after(store, case_id, before)  # every recorded step, in order, none twice
    assert [kind for kind, _data, _seq in events] == ["step"] * len(steps) + ["outcome"]
    nodes = Counter(node for _seq, node, _what in steps)
    assert nodes["plan"] >= 2 and nodes["verdict"] >= 2 and nodes["tool_call_completed"] >= 2
    assert nodes["human_task_created"] == 1
    outcome = events[-1][1]
    assert (outcome["case_id"], outcome["reason"], outcome["case_state"]) == (case_id, "waiting_for_people", "active")
    assert [task["role"] for task in outcome["pending"]] == ["senior analyst"]
    assert outcome["steps"] > 0  # the worker's run, read from the loop's checkpoint
    assert "Mary Jones" not in json.dumps(events)  # the history holds pseudonyms only


def test_a_stream_that_runs_out_of_time_leaves_the_run_queued(
        base: str, store: Store, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No worker yet: the stream ends with ``queued`` after its time; the run waits in the queue and a
    worker started later works it — the stream's end lost nothing."""
    monkeypatch.setattr(queued_stream, "STREAM_SECONDS", 1.0)
    case_id = _start(base, "small", "S-2")
    with httpx.stream("POST", f"{base}/cases/{case_id}/run/stream", timeout=60) as response:
        events = list(_read(response.iter_lines()))
    assert [(kind, data["reason"], data["case_state"]) for kind, data, _seq in events] == [
        ("outcome", "queued", "active")]
    assert jobs.runs_in_flight(store.engine, case_id) == 1
    workers = Workers(pg_url, tmp_path / "workers.log")
    workers.start(1)
    try:
        wait_until(lambda: _state(base, case_id) == "completed", "the queued run was not worked")
    finally:
        assert workers.stop() == 0


def _state(base: str, case_id: str) -> str:
    return str(httpx.get(f"{base}/cases/{case_id}", timeout=30).json()["state"])


def test_sigterm_during_a_streamed_run_hands_the_step_back_and_the_stream_goes_on(
        base: str, store: Store, pg_url: str, tmp_path: Path) -> None:
    """The payment (``pay_claim``) takes 3 s; the worker gets SIGTERM while it runs: it finishes that step, hands the
    case back, and a second worker finishes the case. The stream, open throughout, shows every
    step once and ends with ``completed``; the payment ran once."""
    case_id = _start(base, "small", "S-3")
    before = store.case(case_id).last_seq
    first = Workers(pg_url, tmp_path / "first.log", delay=3.0)
    second = Workers(pg_url, tmp_path / "second.log", delay=3.0)
    events: list[Event] = []
    with httpx.stream("POST", f"{base}/cases/{case_id}/run/stream", timeout=120) as response:
        first.start(1)
        stream = _read(response.iter_lines())
        try:
            for event in stream:
                events.append(event)
                if event[0] == "step" and event[1]["node"] == "tool_call_started" \
                        and event[1]["summary"].startswith(f"{PAYMENT} "):
                    break
            assert first.stop() == 0  # SIGTERM while the payment runs: it finishes the step, then exits
            paid = [e for e in store.history(case_id) if e.kind == "tool_call_completed"
                    and e.payload.get("tool") == PAYMENT]
            assert len(paid) == 1, "the payment in flight at SIGTERM was not recorded"
            assert store.lease_holder(case_id) is None  # given back
            assert _state(base, case_id) == "completed" or jobs.runs_in_flight(store.engine, case_id) == 1
            second.start(1)
            events.extend(stream)
        finally:
            for workers in (first, second):
                if workers.supervisor is not None:
                    workers.stop()
    steps = _steps(events)
    assert steps == _timeline_after(store, case_id, before)
    assert events[-1][0] == "outcome" and events[-1][1]["reason"] == "completed", events[-1]
    assert [node for _seq, node, _what in steps].count("tool_call_completed") >= 3
    with psycopg.connect(libpq(pg_url)) as conn:
        runs = [ref for (ref,) in conn.execute("SELECT reference FROM tool_runs WHERE tool = %s", (PAYMENT,))]
    assert runs == ["S-3"]
    assert store.verify(case_id).ok


def test_a_run_the_worker_cannot_do_ends_the_stream_with_an_error_event(
        base: str, store: Store, pg_url: str, tmp_path: Path) -> None:
    """The case's stored state is edited after the run was queued: the worker refuses to work it
    (its job fails and the queue holds it), and the stream says so instead of waiting on."""
    case_id = _start(base, "small", "S-4")
    workers = Workers(pg_url, tmp_path / "workers.log")
    with httpx.stream("POST", f"{base}/cases/{case_id}/run/stream", timeout=120) as response:
        assert response.status_code == 200
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE cases SET state_json = :s WHERE id = :c"), {"s": '{"paid": true}', "c": case_id})
        workers.start(1)
        try:
            events = list(_read(response.iter_lines()))
        finally:
            workers.stop()
    assert [kind for kind, _data, _seq in events] == ["error"], events
    error = events[0][1]
    assert error["error"] == "StateTampered" and error["problems"] == []
    assert error["detail"].startswith("the worker's run of the case failed (job ") and "is not worked" in error["detail"]
    with store.engine.connect() as conn:
        held = conn.execute(text("SELECT count(*) FROM pgqueuer WHERE status = 'failed'")).scalar_one()
    assert held == 1


def test_a_client_that_hangs_up_loses_nothing_and_resumes_from_the_last_id(
        base: str, store: Store, pg_url: str, tmp_path: Path) -> None:
    """The client reads one step and hangs up: the worker finishes the case all the same, and
    ``GET /cases/{id}/events?after_seq=<the last id>`` gives every step it did not see."""
    case_id = _start(base, "small", "S-5")
    workers = Workers(pg_url, tmp_path / "workers.log", delay=1.0)
    workers.start(1)
    try:
        with httpx.stream("POST", f"{base}/cases/{case_id}/run/stream", timeout=120) as response:
            first = next(event for event in _read(response.iter_lines()) if event[0] == "step")
        wait_until(lambda: _state(base, case_id) == "completed", "the worker stopped with the client")
        wait_until(lambda: jobs.runs_in_flight(store.engine, case_id) == 0, "the run did not end")
    finally:
        assert workers.stop() == 0
    seen = first[2]
    assert seen is not None
    rest = httpx.get(f"{base}/cases/{case_id}/events", params={"after_seq": seen, "seconds": 0}, timeout=60)
    followed = [(seq, data["kind"], data["what"]) for kind, data, seq in _read(iter(rest.text.splitlines()))
                if kind == "history" and seq is not None]
    assert followed == _timeline_after(store, case_id, seen) and len(followed) > 3
    assert any(kind == "tool_call_completed" and what.startswith(PAYMENT) for _s, kind, what in followed)
