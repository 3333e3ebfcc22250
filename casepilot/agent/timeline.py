"""One line per history event, for people: the demo's timeline and the web page's.

The history's payloads are already pseudonymised, so a timeline shows what the store
holds and nothing more; the line is text, escaped by whoever renders it.
"""

from __future__ import annotations

from casepilot.store import HistoryEvent

__all__ = ["HIDDEN_KINDS", "describe_event"]

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
