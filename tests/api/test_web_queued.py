"""The web page behind ``casepilot serve`` with workers (PostgreSQL, queue mode) works no case itself.

Starting a case, deciding an inbox item (a BPMN process's user task here: the payment's clerk),
and the Run button each commit their change with a queued run and say so; the process's
payment is made by the worker's run, never by the page's request. Without workers (SQLite)
the page works the case in the request, as before (``test_web_page``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.api import create_app
from casepilot.api.app import queued_orchestrator
from casepilot.store import Store
from casepilot.worker import JobScheduler
from tests._postgres import require_postgres, throwaway_database
from tests.agent._support import assert_sound, calls_of
from tests.bpmn._process_bundle import CLERK, process_registry, write_process_bundle

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("fresh_calls")]

CLERK_FORM = {"actor": "ann", "roles": CLERK}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, Orchestrator, Store]]:
    """(the page's client in queue mode, a worker's orchestrator, the store) on one fresh database."""
    server = require_postgres()  # a missing server fails the test, never skips it
    with (
        throwaway_database(server, "casepilot_web_queued") as name,
        Store.from_url(server.sqlalchemy_url(name)) as store,
    ):
        service = queued_orchestrator(Orchestrator(store, process_registry(), RulePlanner()))
        worker = Orchestrator(store, process_registry(), RulePlanner())
        worker.runtime.on_step = JobScheduler(run_on_change=False)
        service.deploy(write_process_bundle(tmp_path / "pay", "pay"))
        try:
            with TestClient(create_app(service, queue=True)) as client:
                yield client, worker, store
        finally:
            service.close()
            worker.close()


def _notice(response_location: str) -> str:
    return parse_qs(urlparse(response_location).query)["notice"][0]


def _queued_runs(store: Store, case_id: str) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM pgqueuer WHERE dedupe_key LIKE :key AND status = 'queued'"),
                {"key": f"run:{case_id}:%"},
            ).scalar_one()
        )


def test_the_page_starts_decides_and_runs_by_queueing_and_the_worker_pays(
    served: tuple[TestClient, Orchestrator, Store],
) -> None:
    client, worker, store = served
    started = client.post(
        "/ui/cases",
        data={
            "definition_key": "pay",
            "variables": '{"payee": "Ann Lee", "amount": 90}',
            "business_key": "W-1",
        },
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    assert _notice(started.headers["location"]) == "Case started; a worker works it."
    [case] = store.cases(business_key="W-1")
    assert _queued_runs(store, case.id) >= 1 and worker.runtime.load(case.id).facts.processes == {}

    assert worker.run(case.id).reason == "waiting_for_people"  # the worker starts the payment process
    [item] = store.tasks(case_id=case.id, status="open")
    decided = client.post(
        f"/ui/inbox/{item.id}",
        data={**CLERK_FORM, "choice": "complete", f"field.{item.id}.ok": "yes"},
        follow_redirects=False,
    )
    assert decided.status_code == 303, decided.text
    assert _notice(decided.headers["location"]) == "ann decided “complete”; a worker works the case on."
    assert store.task(item.id).status == "decided" and calls_of("pay_out") == []  # recorded, not paid
    [entry] = worker.runtime.load(case.id).facts.processes.values()
    assert entry["run_on"] is True

    ran = client.post(
        f"/ui/cases/{case.id}/run", data={"actor": "olga", "roles": "operator"}, follow_redirects=False
    )
    assert (
        ran.status_code == 303
        and _notice(ran.headers["location"]) == "The run is queued; a worker works the case."
    )
    assert calls_of("pay_out") == []

    assert worker.run(case.id).case_state == "completed"
    assert calls_of("pay_out") == [{"payee": "Ann Lee", "amount": 90.0}]
    assert_sound(store, case.id)
