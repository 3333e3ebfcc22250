"""The case page's operations (issue 16): buttons only where the case's state allows them, each
form doing what the JSON API does — the operator role, governance, the person as actor."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from casepilot.agent.orchestrator import Orchestrator
from casepilot.demo.run import LETTERS

OPERATOR = {"actor": "otto", "roles": "claims operations"}


def _buttons(html: str) -> set[str]:
    return set(re.findall(r'name="operation" value="(\w+)"', html))


def test_the_page_offers_what_the_state_allows_and_records_the_person(client: TestClient, deployed: object,
                                                                      orch: Orchestrator) -> None:
    case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-1"})
    orch.run(case.id)
    page = client.get(f"/ui/cases/{case.id}").text
    assert _buttons(page) == {"suspend", "terminate", "correct", "reassign"}  # nothing failed: no retry

    refused = client.post(f"/ui/cases/{case.id}/operate", data={"actor": "ann", "roles": "senior analyst",
                                                                "operation": "suspend", "reason": "wait"})
    assert refused.status_code == 403 and 'role="alert"' in refused.text and "claims operations" in refused.text
    no_reason = client.post(f"/ui/cases/{case.id}/operate", data={**OPERATOR, "operation": "suspend"})
    assert no_reason.status_code == 422 and "say why" in no_reason.text

    done = client.post(f"/ui/cases/{case.id}/operate", data={**OPERATOR, "operation": "suspend",
                                                             "reason": "customer asked to wait"})
    assert done.status_code == 200 and "otto: suspend done; the case is suspended" in done.text  # after the redirect
    page = client.get(f"/ui/cases/{case.id}").text
    assert _buttons(page) == {"resume", "terminate", "correct", "reassign"}

    (task,) = orch.pending(case.id)
    moved = client.post(f"/ui/cases/{case.id}/operate", data={**OPERATOR, "operation": "reassign",
                                                              "task_id": task.id, "to_role": "team lead"})
    assert moved.status_code == 200 and "reassigned the item to team lead" in moved.text
    client.post(f"/ui/cases/{case.id}/operate", data={**OPERATOR, "operation": "resume", "reason": "back"})
    corrected = client.post(f"/ui/cases/{case.id}/operate", data={
        **OPERATOR, "operation": "correct", "path": "policy", "value": "POL-2", "reason": "typo"})
    assert corrected.status_code == 200 and "correct done" in corrected.text
    client.post(f"/ui/cases/{case.id}/operate", data={**OPERATOR, "operation": "terminate", "reason": "duplicate"})
    page = client.get(f"/ui/cases/{case.id}").text
    assert _buttons(page) == set() and "terminated" in page  # a terminated case offers no operation

    operations = [(e.payload["operation"], e.actor) for e in orch.store.history(case.id)
                  if e.kind == "verdict" and e.payload.get("operation") and e.payload.get("kind") == "allow"]
    assert operations == [("suspend", "person:otto"), ("reassign", "person:otto"),
                          ("resume", "person:otto"), ("correct", "person:otto"), ("terminate", "person:otto")]
