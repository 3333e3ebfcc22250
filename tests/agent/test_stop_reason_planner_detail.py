"""``casepilot run``'s stop reason shows a planner failure's detail on one readable line: the
endpoint's status, message, endpoint and model, the route — not Python dict reprs."""

from __future__ import annotations

from casepilot.agent.orchestrator import RunOutcome
from casepilot.agent.stop_reason import stop_reason

FAILURE = {"attempts": 3, "endpoint": "cloud", "kind": "server_error", "message": "overloaded",
           "model": "gpt-4o", "status": 503}
DETAIL = {
    "problem": "the planner failed: the model endpoint failed: server_error from endpoint 'cloud' (model "
               "'gpt-4o') after 3 attempt(s): HTTP 503 overloaded; no fallback route is left",
    "seq": 12,
    "failure": FAILURE,
    "failures": [{**FAILURE, "attempts": n} for n in (1, 2, 3)],
    "route": {"decision": "Model routing", "endpoint": "cloud", "max_tokens": None, "model": "gpt-4o",
              "rule_ids": ["otherwise_cloud"], "temperature": None},
}


def test_the_planner_failure_line_names_status_endpoint_model_and_route() -> None:
    reason = stop_reason(RunOutcome("c", "planner_error", 1, "active", (), DETAIL), [])
    assert reason.kind == "failed" and reason.exit_code == 4
    (line,) = reason.lines
    assert line.startswith("planner failed: the model endpoint failed: server_error from endpoint 'cloud'")
    assert ("failure attempts=3 endpoint=cloud kind=server_error message=overloaded model=gpt-4o status=503"
            in line)
    assert "route decision=Model routing endpoint=cloud model=gpt-4o rule_ids=otherwise_cloud" in line
    assert "{" not in line and "None" not in line and "failures" not in line
