"""One line per history event, for people: the demo's timeline and the web page's.

The history's payloads are already pseudonymised, so a timeline shows what the store
holds and nothing more; the line is text, escaped by whoever renders it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from casepilot.store import HistoryEvent

__all__ = ["HIDDEN_KINDS", "describe_event", "describe_update"]

HIDDEN_KINDS = frozenset({"state", "case_created"})
"""Bookkeeping events a timeline leaves out (state snapshots; the creation record)."""


def describe_event(event: HistoryEvent, *, width: int = 100) -> str:
    """What happened, in one line of at most about ``width`` characters."""
    p = event.payload
    if event.kind == "transition":
        return f"{p.get('name')}: {p.get('from_state') or '∅'} → {p.get('to_state')} ({p.get('cause')})"
    if event.kind == "plan":
        return f"chose {p.get('label')!r} — {p.get('rationale')}"
    if event.kind == "verdict":
        rules = ", ".join(p.get("rule_ids", []))
        return f"{p.get('kind')}: {p.get('reason')}" + (f" [rules: {rules}]" if rules else "")
    if event.kind.startswith("tool_call"):
        detail = str(p.get("arguments") or p.get("result") or p.get("error") or "")
        return f"{p.get('tool')} {detail[: width - 10]}"
    if event.kind.startswith("human_task"):
        who = p.get("role") or p.get("decided_by") or ""
        return f"{p.get('plan_item')}: {p.get('decision') or p.get('prompt')} ({who})"
    if event.kind == "chat_message":
        return str(p.get("text", ""))[:width]
    return str(p)[:width]


def describe_update(node: str, update: Mapping[str, Any] | Any) -> str:
    """One line for a node's update while a run streams (``Orchestrator.stream``).

    Built from the loop's own state, which holds pseudonymised values only.
    """
    u: Mapping[str, Any] = update if isinstance(update, Mapping) else {}
    if node == "__interrupt__":
        return "paused: waiting for people"
    if u.get("stop"):
        return f"stopped: {str(u['stop']).replace('_', ' ')}"
    if node == "observe":
        observation = u.get("observation") or {}
        if u.get("approved"):
            return "a person's approval is ready to act on"
        options = [o.get("label") for o in observation.get("options", []) if o.get("kind") != "wait"]
        if not options:
            return "nothing to do now"
        return f"{len(options)} possible action{'s' if len(options) != 1 else ''}: {', '.join(map(str, options))}"
    if node == "plan":
        plan = u.get("plan") or {}
        option = plan.get("option") or {}
        if option.get("kind") == "wait":
            return "chose to wait for people"
        return f"chose {option.get('label')!r}" if option else "no plan"
    if node == "govern":
        verdict = u.get("verdict")
        return f"{verdict.get('kind')}: {verdict.get('reason')}" if isinstance(verdict, Mapping) else "nothing to review"
    if node == "act":
        outcome = u.get("outcome")
        if not isinstance(outcome, Mapping):
            return "no tool to run"
        took = f" in {outcome.get('latency_ms', 0):.0f} ms"
        return ("tool done" + took) if outcome.get("ok") else f"tool failed{took}: {outcome.get('error')}"
    if node == "record":
        return "recorded"
    if node == "wait":
        return "resumed by a person's decision"
    return node
