"""A BPMN process started on its own over HTTP, and a CMMN case's process, shown like cases.

``POST /cases`` with ``process`` starts it (404 naming the bundle's processes when there is
no such one); ``GET /cases`` lists it with ``kind: process``; ``GET /cases/{id}`` shows its
tokens and variables (pseudonymised), ``/history`` and ``/verify`` its hash-chained steps,
``/inbox`` its user task with the role, and ``/processes/{instance}/diagram`` its drawing
with the tokens marked; a decision with the form's values lets it complete.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.api import create_app
from casepilot.store import Store
from tests.agent._support import calls_of
from tests.bpmn._process_bundle import CLERK, process_registry, write_process_bundle


@pytest.fixture
def client(tmp_path: Path, fresh_calls: None) -> Iterator[TestClient]:
    store = Store.from_url(f"sqlite:///{tmp_path / 'api.db'}")
    orch = Orchestrator(store, process_registry(), RulePlanner())
    orch.deploy(write_process_bundle(tmp_path / "pay", "pay", diagram=True))
    with TestClient(create_app(orch)) as test_client:
        yield test_client
    orch.close()
    store.close()


def test_a_process_is_started_listed_shown_decided_and_verified_over_http(client: TestClient) -> None:
    started = client.post("/cases", json={"definition_key": "pay", "process": "pay_small", "business_key": "P-1",
                                          "variables": {"payee": "Ann Lee", "amount": 250}})
    assert started.status_code == 201, started.text
    case = started.json()
    assert (case["kind"], case["process"], case["state"]) == ("process", "pay_small", "active")
    [process] = case["processes"]
    assert (process["status"], process["active_elements"]) == ("waiting", ["confirm"])
    assert process["variables"]["approval"] == "auto" and "Ann" not in str(process["variables"])
    [task] = case["open_tasks"]
    assert (task["role"], task["plan_item"]) == (CLERK, "confirm")

    listed = {c["id"]: c for c in client.get("/cases").json()}
    assert (listed[case["id"]]["kind"], listed[case["id"]]["process"]) == ("process", "pay_small")
    assert [t["id"] for t in client.get("/inbox", params={"case_id": case["id"]}).json()] == [task["id"]]

    drawn = client.get(process["diagram"])
    assert drawn.status_code == 200 and drawn.headers["content-type"].startswith("image/svg+xml")
    assert drawn.headers["content-security-policy"].startswith("default-src 'none'")
    assert 'data-element="confirm" data-kind="userTask" class="active"' in drawn.text
    assert 'data-element="level" data-kind="businessRuleTask" class="completed"' in drawn.text

    decided = client.post(f"/inbox/{task['id']}/decision",
                          json={"actor": "ann", "roles": [CLERK], "choice": "complete", "values": {"ok": True}})
    assert decided.status_code == 200, decided.text
    assert calls_of("pay_out") == [{"payee": "Ann Lee", "amount": 250.0}]
    done = client.get(f"/cases/{case['id']}").json()
    assert done["state"] == "completed" and done["open_tasks"] == []
    [ended] = done["processes"]
    assert ended["status"] == "completed" and ended["active_elements"] == [] and "pay" in ended["completed_elements"]
    assert "receipt" in done["variables"]

    history = client.get(f"/cases/{case['id']}/history", params={"limit": 1000}).json()["events"]
    steps = [(e["kind"], e["payload"].get("element")) for e in history if e["payload"].get("engine") == "bpmn"]
    assert ("tool_call_started", "pay") in steps and ("tool_call_completed", "pay") in steps
    assert client.get(f"/cases/{case['id']}/verify").json()["ok"] is True


def test_an_unknown_process_is_a_404_naming_the_bundles_processes(client: TestClient) -> None:
    refused = client.post("/cases", json={"definition_key": "pay", "process": "pay_big", "variables": {}})
    assert refused.status_code == 404
    assert refused.json()["detail"] == "definition 'pay' has no BPMN process 'pay_big'; its processes: pay_small"


def test_a_cmmn_case_shows_the_process_its_task_runs(client: TestClient) -> None:
    case = client.post("/cases", json={"definition_key": "pay", "variables": {"payee": "Ann Lee", "amount": 5}}).json()
    assert case["kind"] == "case" and case["processes"] == []
    client.post(f"/cases/{case['id']}/run")
    shown = client.get(f"/cases/{case['id']}").json()
    [process] = shown["processes"]
    assert (process["process_id"], process["active_elements"]) == ("pay_small", ["confirm"])
    assert 'class="active"' in client.get(process["diagram"]).text
    missing = client.get(f"/cases/{case['id']}/processes/nope/diagram")
    assert missing.status_code == 404 and process["instance_id"] in missing.json()["detail"]


def test_the_case_list_page_names_the_process(client: TestClient) -> None:
    case = client.post("/cases", json={"definition_key": "pay", "process": "pay_small", "business_key": "P-2",
                                       "variables": {"payee": "Ann Lee", "amount": 1}}).json()
    page = client.get("/ui/cases").text
    assert f'href="/ui/cases/{case["id"]}"' in page and "pay v1 · process pay_small" in page


def test_the_start_form_starts_a_process_on_its_own(client: TestClient) -> None:
    form = client.get("/ui/cases").text
    assert '<option value="pay_small" data-definition="pay">' in form
    started = client.post("/ui/cases", data={"definition_key": "pay", "process": "pay_small", "business_key": "P-4",
                                             "variables": '{"payee": "Ann Lee", "amount": 3}',
                                             "form_key": "k-process-start"}, follow_redirects=True)
    assert started.status_code == 200, started.text
    assert 'figure class="diagram process-diagram" data-process="pay_small"' in started.text
    [case] = [c for c in client.get("/cases").json() if c["business_key"] == "P-4"]
    assert case["kind"] == "process"
    refused = client.post("/ui/cases", data={"definition_key": "pay", "process": "pay_big", "variables": "{}",
                                             "form_key": "k-process-refused"})
    assert refused.status_code == 404 and "its processes: pay_small" in refused.text


def test_a_process_without_bpmn_di_says_so(client: TestClient, tmp_path: Path) -> None:
    folder = write_process_bundle(tmp_path / "undrawn", "undrawn")  # no BPMN DI in its file
    files = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}
    assert client.post("/definitions", json={"files": files}).status_code == 201
    case = client.post("/cases", json={"definition_key": "undrawn", "process": "pay_small",
                                       "variables": {"payee": "Ann Lee", "amount": 1}}).json()
    [process] = case["processes"]
    assert process["diagram"] is None and process["active_elements"] == ["confirm"]
    refused = client.get(f"/cases/{case['id']}/processes/{process['instance_id']}/diagram")
    assert refused.status_code == 404 and "carries no BPMN DI" in refused.json()["detail"]
