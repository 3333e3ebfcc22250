"""The claim-triage example worked end to end over HTTP: deploy, start, run, inbox, decide, history.

A claim is paid by the case's BPMN payment process (``pay_claim`` at the demo bank); the claim
form gives the payee and IBAN with the letter. ``SMALL`` claims 950 instead of 1,250.50, so its
payment needs no claims manager and one run settles it."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.api import create_app
from casepilot.demo.run import CLAIMANTS, LETTERS, demo_registry
from casepilot.store import Store
from casepilot.tools import ToolRegistry

SENIOR = "senior analyst"
SMALL = LETTERS["straight-through"].replace("EUR 1,250.50", "EUR 950.00")
PAY_TO = {k: CLAIMANTS["straight-through"][k] for k in ("payee", "iban")}


def _start(client: TestClient, letter: str, business_key: str = "CLM-1") -> dict[str, Any]:
    response = client.post("/cases", json={"definition_key": "claim-triage",
                                           "variables": {"letter": letter, "claim_id": business_key, **PAY_TO},
                                           "business_key": business_key})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _to_review(client: TestClient) -> tuple[str, dict[str, Any]]:
    """Start the senior-review claim and run it until it waits for the analyst."""
    case = _start(client, LETTERS["senior-review"])
    run = client.post(f"/cases/{case['id']}/run", json={"max_steps": 50})
    assert run.status_code == 200, run.text
    assert run.json()["reason"] == "waiting_for_people"
    inbox = client.get("/inbox", params={"role": SENIOR}).json()
    assert len(inbox) == 1
    return case["id"], inbox[0]


def test_deploy_lists_the_definition(client: TestClient, deployed: dict[str, Any]) -> None:
    assert deployed["key"] == "claim-triage"
    assert deployed["version"] == 1
    assert "files" not in deployed
    listed = client.get("/definitions").json()
    assert [(d["key"], d["version"]) for d in listed] == [("claim-triage", 1)]


def test_redeploying_unchanged_files_keeps_the_version(
    client: TestClient, deployed: dict[str, Any], claim_files: dict[str, str]
) -> None:
    again = client.post("/definitions", json={"files": claim_files})
    assert again.status_code == 201
    assert again.json()["version"] == deployed["version"]


def test_senior_review_claim_is_decided_and_completes(client: TestClient, deployed: dict[str, Any]) -> None:
    case = _start(client, LETTERS["senior-review"])
    assert case["state"] == "active"
    assert case["business_key"] == "CLM-1"
    assert "Mary Jones" not in str(case["variables"])  # pseudonymised before it was stored

    first = client.post(f"/cases/{case['id']}/run", json={"max_steps": 50}).json()
    assert first["reason"] == "waiting_for_people"
    assert first["case_state"] == "active"
    assert [t["role"] for t in first["pending"]] == [SENIOR]

    inbox = client.get("/inbox", params={"role": SENIOR}).json()
    assert [t["prompt"] for t in inbox] == ["Approve or reject this claim?"]
    assert client.get("/inbox", params={"role": "claims handler"}).json() == []
    summary = client.get(f"/cases/{case['id']}").json()
    assert [t["id"] for t in summary["open_tasks"]] == [inbox[0]["id"]]
    assert any(i["name"] == "Senior analyst review" and i["state"] == "active" for i in summary["items"])

    decided = client.post(f"/inbox/{inbox[0]['id']}/decision",
                          json={"actor": "ann", "roles": [SENIOR], "choice": "approve",
                                "comment": "documents verified by phone"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "decided"
    assert decided.json()["decided_by"] == "person:ann"

    second = client.post(f"/cases/{case['id']}/run").json()  # body optional: default max_steps
    assert second["reason"] == "completed"
    assert second["case_state"] == "completed"
    assert second["pending"] == []
    assert client.get(f"/cases/{case['id']}").json()["state"] == "completed"
    assert client.get("/inbox").json() == []

    report = client.get(f"/cases/{case['id']}/verify").json()
    assert report["ok"] is True
    assert report["events_checked"] > 10
    kinds = [e["kind"] for e in _all_history(client, case["id"], page=7)]
    assert kinds[0] == "case_created"
    assert "human_task_decided" in kinds
    assert len(kinds) == report["events_checked"]


def _all_history(client: TestClient, case_id: str, page: int) -> list[dict[str, Any]]:
    """Read the whole history page by page, following ``next_after_seq``."""
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        body = client.get(f"/cases/{case_id}/history", params={"after_seq": after, "limit": page}).json()
        assert len(body["events"]) <= page
        events.extend(body["events"])
        if body["next_after_seq"] is None:
            break
        after = body["next_after_seq"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    return events


def test_straight_through_claim_completes_in_one_run(client: TestClient, deployed: dict[str, Any]) -> None:
    assert LETTERS["straight-through"] != SMALL
    case = _start(client, SMALL, "CLM-2")
    outcome = client.post(f"/cases/{case['id']}/run", json={}).json()
    assert outcome["reason"] == "completed"
    assert client.get("/inbox").json() == []


def test_decision_without_the_role_is_refused_and_changes_nothing(
    client: TestClient, deployed: dict[str, Any]
) -> None:
    case_id, task = _to_review(client)
    before = client.get(f"/cases/{case_id}").json()
    history_before = client.get(f"/cases/{case_id}/history", params={"limit": 1000}).json()["events"]

    refused = client.post(f"/inbox/{task['id']}/decision",
                          json={"actor": "bob", "roles": ["claims handler"], "choice": "approve"})
    assert refused.status_code == 403
    body = refused.json()
    assert body["error"] == "DecisionRejected"
    assert "senior analyst" in body["detail"]

    after = client.get(f"/cases/{case_id}").json()
    assert after == before
    assert client.get(f"/cases/{case_id}/history", params={"limit": 1000}).json()["events"] == history_before
    assert [t["id"] for t in client.get("/inbox").json()] == [task["id"]]


def test_decision_with_a_choice_that_is_no_option_is_422(client: TestClient, deployed: dict[str, Any]) -> None:
    _case_id, task = _to_review(client)
    response = client.post(f"/inbox/{task['id']}/decision",
                           json={"actor": "ann", "roles": [SENIOR], "choice": "maybe"})
    assert response.status_code == 422
    assert "approve" in response.json()["detail"]


def test_deciding_twice_is_a_conflict(client: TestClient, deployed: dict[str, Any]) -> None:
    _case_id, task = _to_review(client)
    decision = {"actor": "ann", "roles": [SENIOR], "choice": "reject"}
    assert client.post(f"/inbox/{task['id']}/decision", json=decision).status_code == 200
    again = client.post(f"/inbox/{task['id']}/decision", json=decision)
    assert again.status_code == 409
    assert "not open" in again.json()["detail"]


def test_chat_answers_with_the_case_status(client: TestClient, deployed: dict[str, Any]) -> None:
    case_id, task = _to_review(client)
    response = client.post(f"/cases/{case_id}/chat", json={"actor": "ann", "message": "What is the status?"})
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["case_id"] == case_id
    assert f"Case {case_id}" in reply["reply"]
    assert task["id"] in reply["reply"]  # names the open inbox item
    chat = [e for e in client.get(f"/cases/{case_id}/history", params={"limit": 1000}).json()["events"]
            if e["kind"] == "chat_message"]
    assert [e["actor"] for e in chat] == ["person:ann", "agent"]


def test_cases_are_listed_and_filtered(client: TestClient, deployed: dict[str, Any]) -> None:
    first = _start(client, SMALL, "CLM-A")
    second = _start(client, LETTERS["senior-review"], "CLM-B")
    listed = client.get("/cases").json()
    assert [c["id"] for c in listed] == [first["id"], second["id"]]
    assert set(listed[0]) == {"id", "definition_key", "definition_version", "business_key", "tenant", "version",
                              "created_at", "updated_at", "kind", "process"}  # no state: that is GET /cases/{id}
    assert (listed[0]["kind"], listed[0]["process"]) == ("case", None)
    assert [c["id"] for c in client.get("/cases", params={"business_key": "CLM-B"}).json()] == [second["id"]]
    assert client.get("/cases", params={"definition_key": "other"}).json() == []
    assert [c["id"] for c in client.get("/cases", params={"limit": 1}).json()] == [first["id"]]
    assert client.get("/cases", params={"limit": 0}).status_code == 422


def test_the_case_summary_shows_when_it_last_changed(client: TestClient, deployed: dict[str, Any]) -> None:
    case = _start(client, SMALL)
    client.post(f"/cases/{case['id']}/run")
    after = client.get(f"/cases/{case['id']}").json()
    assert after["state"] == "completed"
    assert after["updated_at"] > case["updated_at"] and after["version"] > case["version"]


def test_people_actions_need_the_role_the_model_names(client: TestClient, deployed: dict[str, Any]) -> None:
    case_id, _task = _to_review(client)
    actions = client.get(f"/cases/{case_id}/actions").json()
    withdraw = next(a for a in actions if a["label"] == "Customer withdraws")
    assert (withdraw["kind"], withdraw["roles"]) == ("occur", ["claims handler"])
    refused = client.post(f"/cases/{case_id}/actions/{withdraw['id']}", json={"actor": "ann", "roles": [SENIOR]})
    assert refused.status_code == 403 and refused.json()["error"] == "NotAuthorized"
    assert client.get(f"/cases/{case_id}").json()["state"] == "active"
    unknown = client.post(f"/cases/{case_id}/actions/occur:nope", json={"actor": "carol", "roles": ["claims handler"]})
    assert unknown.status_code == 404
    done = client.post(f"/cases/{case_id}/actions/{withdraw['id']}", json={"actor": "carol", "roles": ["claims handler"]})
    assert done.status_code == 200, done.text
    assert (done.json()["reason"], done.json()["case_state"]) == ("terminated", "terminated")
    assert client.get("/inbox").json() == []  # the review it waited for went away with the case
    assert client.get(f"/cases/{case_id}/actions").json() == []
    assert client.get("/cases/nope/actions").status_code == 404


def test_personal_data_is_shown_only_to_allowed_roles_and_every_look_is_recorded(
    client: TestClient, deployed: dict[str, Any],
) -> None:
    case_id, _task = _to_review(client)
    summary = client.get(f"/cases/{case_id}").json()
    assert "Mary Jones" not in str(summary["variables"])  # pseudonymised where it is stored
    refused = client.post(f"/cases/{case_id}/reveal", json={"actor": "bob", "roles": ["claims handler"]})
    assert refused.status_code == 403 and "senior analyst" in refused.json()["detail"]
    shown = client.post(f"/cases/{case_id}/reveal", json={"actor": "ann", "roles": [SENIOR]})
    assert shown.status_code == 200, shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert shown.json()["revealed_for"] == "ann"
    assert "Mary Jones" in shown.json()["variables"]["letter"]
    events = client.get(f"/cases/{case_id}/history", params={"limit": 1000}).json()["events"]
    looks = [(e["kind"], e["actor"]) for e in events if e["kind"] in ("pii_revealed", "error")]
    assert looks == [("error", "person:bob"), ("pii_revealed", "person:ann")]
    assert "Mary Jones" not in str(events)  # the history records that ann looked, not what she saw


class Gate:
    """Counts every tool call the orchestrator makes; a call of ``pay_claim`` waits until
    the test opens the gate, so the test decides what happens meanwhile. Sits in front of the
    registry's ``invoke`` (the bundle's own tools run behind it, unchanged)."""

    def __init__(self, registry: ToolRegistry) -> None:
        self.runs: Counter[str] = Counter()
        self.entered = threading.Event()
        self.open = threading.Event()
        self._invoke = registry.invoke

    def invoke(self, name: str, arguments: Any, *, timeout: float | None = None) -> Any:
        self.runs[name] += 1
        if name == "pay_claim":
            self.entered.set()
            assert self.open.wait(60), "the test never opened the gate"
        return self._invoke(name, arguments, timeout=timeout)


class LeaseWatch:
    """Sees the store refuse a case's lease (a second request found the case busy)."""

    def __init__(self, store: Store) -> None:
        self.refused = threading.Event()
        self._acquire = store.acquire_lease

    def acquire_lease(self, case_id: str, owner: str, ttl: float) -> bool:
        taken = self._acquire(case_id, owner, ttl)
        if not taken:
            self.refused.set()
        return taken


@pytest.fixture
def gated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Orchestrator, Gate, LeaseWatch]]:
    store = Store.from_url(f"sqlite:///{tmp_path / 'gated.db'}")
    watch = LeaseWatch(store)
    monkeypatch.setattr(store, "acquire_lease", watch.acquire_lease)
    registry = demo_registry()
    gate = Gate(registry)
    monkeypatch.setattr(registry, "invoke", gate.invoke)
    orchestrator = Orchestrator(store, registry, RulePlanner())
    yield orchestrator, gate, watch
    orchestrator.close()
    store.close()


def _run_in_thread(client: TestClient, case_id: str, answers: list[Any]) -> threading.Thread:
    thread = threading.Thread(target=lambda: answers.append(client.post(f"/cases/{case_id}/run")))
    thread.start()
    return thread


@pytest.mark.parametrize("lease_wait", [60.0, 0.0])
def test_a_second_run_while_the_first_is_in_a_tool_waits_or_is_refused(
        gated: tuple[Orchestrator, Gate, LeaseWatch], claim_files: dict[str, str], lease_wait: float) -> None:
    """Request A is inside ``pay_claim`` (the payment process's transfer) when request B asks to run the same case. B finds
    the case's lease taken (seen, not guessed at); A then finishes. With the default lease
    wait, B waits for A and then finds nothing left to do (200, completed, 0 steps); with no
    wait it is refused at once (409 ``CaseBusy``, documented for this route) and changed
    nothing. Either way every tool ran exactly once."""
    orch, gate, watch = gated
    orch.leases.wait = lease_wait
    with TestClient(create_app(orch)) as client:
        deployed = client.post("/definitions", json={"files": claim_files})
        assert deployed.status_code == 201, deployed.text
        case_id = _start(client, SMALL, "CLM-C1")["id"]
        first: list[Any] = []
        second: list[Any] = []

        a = _run_in_thread(client, case_id, first)
        assert gate.entered.wait(60), "request A never reached pay_claim"
        assert not watch.refused.is_set()
        b = _run_in_thread(client, case_id, second)
        assert watch.refused.wait(60), "request B never asked for the case's lease"
        if lease_wait:
            assert b.is_alive()  # B waits for the lease while A is in the tool
        else:
            b.join(60)
            (refused,) = second
            assert refused.status_code == 409, refused.text
            assert refused.json()["error"] == "CaseBusy" and "is being worked by" in refused.json()["detail"]
        events_before = len(orch.store.history(case_id))
        gate.open.set()
        a.join(60)
        b.join(60)

        (done,) = first
        assert (done.status_code, done.json()["reason"]) == (200, "completed")
        if lease_wait:
            (waited,) = second
            assert (waited.status_code, waited.json()["reason"], waited.json()["steps"]) == (200, "completed", 0)
        assert "409" in json.dumps(client.get("/openapi.json").json()["paths"]["/cases/{case_id}/run"]["post"]["responses"])
    paid = {"extract_claim": 1, "sentiment": 1, "validate_payment": 1, "pay_claim": 1, "send_payment_confirmation": 1}
    assert gate.runs == paid
    history = orch.store.history(case_id)
    assert len(history) > events_before  # A recorded the payment after B had come and gone (or waited)
    calls = Counter(e.payload["tool"] for e in history if e.kind == "tool_call_completed")
    assert calls == {**paid, "bpmn:payment": 1}  # and the process task completed once
    assert orch.store.verify(case_id).ok


def _events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Server-sent events as (event, data)."""
    out = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((fields["event"], json.loads(fields["data"])))
    return out


def test_a_streamed_run_reports_every_step_then_its_outcome(client: TestClient, deployed: dict[str, Any]) -> None:
    case = _start(client, LETTERS["senior-review"])
    response = client.post(f"/cases/{case['id']}/run/stream", json={"max_steps": 50})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    steps = [data for kind, data in events if kind == "step"]
    assert [s["node"] for s in steps[:5]] == ["observe", "plan", "govern", "act", "record"]
    assert "chose 'Extract claim details'" in [s["summary"] for s in steps]
    assert any(s["summary"].startswith("allow: ") for s in steps)
    assert any(s["summary"].startswith("tool done in ") for s in steps)
    assert events[-1][0] == "outcome" and events[-1][1]["reason"] == "waiting_for_people"
    assert events[-1][1]["pending"][0]["role"] == SENIOR
    assert "Mary Jones" not in response.text  # the loop's state holds pseudonyms only

    task = events[-1][1]["pending"][0]
    client.post(f"/inbox/{task['id']}/decision", json={"actor": "ann", "roles": [SENIOR], "choice": "approve"})
    resumed = _events(client.post(f"/cases/{case['id']}/run/stream").text)
    assert resumed[-1] == ("outcome", resumed[-1][1]) and resumed[-1][1]["reason"] == "completed"
    assert client.post("/cases/nope/run/stream").status_code == 404
