"""``stop_reason`` on hand-written histories: only what is current is reported, and the exit
code follows the worst of it (a block 3, a failure 4, waiting 0)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from casepilot.agent.orchestrator import RunOutcome
from casepilot.agent.stop_reason import stop_reason
from casepilot.store import HistoryEvent

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _events(*specs: tuple[str, dict[str, Any]]) -> list[HistoryEvent]:
    return [HistoryEvent(case_id="c", seq=i, at=T0, kind=kind, actor="agent", payload=payload,  # type: ignore[arg-type]
                         rule_ids=(), tokens=None, cost=None, latency_ms=None, prev_hash="0", hash=str(i))
            for i, (kind, payload) in enumerate(specs, start=1)]


def _outcome(reason: str = "waiting_for_events", state: str = "active") -> RunOutcome:
    return RunOutcome("c", reason, 3, state, ())


BLOCK = ("verdict", {"action": "run:i1", "kind": "block", "reason": "too much", "rule_ids": ["r1"],
                     "findings": [{"policy": "limits", "kind": "block", "reason": "too much", "rule_ids": ["r1"]}]})
BUDGET = ("verdict", {"action": "llm_call", "kind": "block", "reason": "over budget", "rule_ids": [],
                      "findings": [{"policy": "budget", "kind": "block", "reason": "over budget", "rule_ids": []}]})


def test_a_block_is_current_until_the_action_is_allowed_or_its_item_is_over() -> None:
    blocked = stop_reason(_outcome(), _events(("plan", {"chose": "run:i1"}), BLOCK), {"limits": "Limits"})
    assert (blocked.kind, blocked.exit_code) == ("blocked", 3)
    assert blocked.lines == ("blocked by guardrail Limits (limits) rule r1: too much",)
    allowed = stop_reason(_outcome(), _events(BLOCK, ("verdict", {"action": "run:i1", "kind": "allow"})))
    assert (allowed.kind, allowed.exit_code) == ("waiting", 0)
    over = stop_reason(_outcome(), _events(BLOCK, ("transition", {"instance": "i1", "to_state": "Terminated"})))
    assert over.kind == "waiting" and over.lines == (
        "waiting for events (a timer, a case-file change or a person's action)",)


def test_a_budget_block_of_a_model_call_is_over_once_a_model_is_asked_again() -> None:
    assert stop_reason(_outcome("blocked_llm_call"), _events(BUDGET)).lines == ("blocked by guardrail budget: over budget",)
    later = stop_reason(_outcome(), _events(BUDGET, ("llm_call", {}), ("plan", {"chose": "run:i2"})))
    assert later.kind == "waiting"


def test_failures_outrank_blocks_and_a_completed_case_reports_neither() -> None:
    history = _events(("plan", {"chose": "run:i1"}), BLOCK, ("plan", {"chose": "run:i2"}),
                      ("verdict", {"action": "run:i2", "kind": "allow"}),
                      ("tool_call_failed", {"tool": "lookup", "error": "TimeoutError: 30 s"}))
    both = stop_reason(_outcome(), history)
    assert (both.kind, both.exit_code) == ("failed", 4)
    assert both.lines == ("blocked by guardrail limits rule r1: too much", "tool lookup failed: TimeoutError: 30 s")
    assert stop_reason(_outcome("completed", "completed"), history).lines == ("completed",)


def test_a_case_completed_over_a_failed_task_says_which_task_stayed_failed() -> None:
    # CMMN ch. 8 lets a stage complete while a child is Failed: the reason must not read as a clean success.
    # Which items stay failed is the outcome's (``RunOutcome.detail``, read off the engine when the run ended).
    failed = RunOutcome("c", "completed", 3, "completed", (), {"failed_items": [{"id": "case.3", "name": "Pay"}]})
    reason = stop_reason(failed, _events())
    assert (reason.kind, reason.exit_code) == ("completed", 0)
    assert reason.lines == ("completed", "though 1 item(s) failed and stay failed: Pay")
    # Reactivated (retry) and completed afterwards: the outcome names nothing failed any more.
    assert stop_reason(_outcome("completed", "completed"), _events()).lines == ("completed",)
