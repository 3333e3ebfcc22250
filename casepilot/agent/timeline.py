"""One line per history event or streamed update, for people: the demo's timeline and the web page's
(the store's ``casepilot.store.timeline`` says most events; inbox items in people's words here).

The history's payloads are already pseudonymised, so a timeline shows what the store
holds and nothing more; the line is text, escaped by whoever renders it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from casepilot.store import HistoryEvent
from casepilot.store.timeline import HIDDEN_KINDS
from casepilot.store.timeline import describe_event as _store_line

__all__ = ["HIDDEN_KINDS", "KIND_GROUPS", "TimelineEntry", "describe_event", "describe_update", "timeline"]

KIND_GROUPS: Mapping[str, frozenset[str]] = {
    "people": frozenset({"human_task_created", "human_task_decided", "chat_message", "pii_revealed"}),
    "governance": frozenset({"verdict"}),
    "tools": frozenset({"tool_call_started", "tool_call_completed", "tool_call_failed"}),
    "plan": frozenset({"plan", "transition"}),
    "model": frozenset({"llm_call"}),
    "problems": frozenset({"error", "tool_call_failed", "erasure"}),
}
"""What a person filters a timeline by (a group name -> the event kinds in it)."""


def describe_event(event: HistoryEvent, *, width: int = 100) -> str:
    """What happened, in one line for people: an inbox item closed without a decision (cancelled
    or expired) says so and why, instead of a decision of ``None``; otherwise the store's line."""
    p = event.payload
    if event.kind == "human_task_decided" and p.get("status") in ("cancelled", "expired"):
        item = p.get("plan_item") or "an inbox item"
        if p.get("status") == "expired":
            outcome = f"; it resolved to “{p['decision']}”" if p.get("decision") else ""
            return f"{item}: the inbox item expired{outcome}" + (f" ({p['comment']})" if p.get("comment") else "")
        return f"{item}: the inbox item was withdrawn" + (f" — {p['comment']}" if p.get("comment") else "")
    if event.kind == "human_task_decided":
        comment = f" — “{p['comment']}”" if p.get("comment") else ""
        return f"{p.get('plan_item') or 'inbox item'}: decided “{p.get('decision')}”{comment}"
    if event.kind == "human_task_created":
        who = p.get("role") or "the operator"
        return f"{p.get('plan_item') or 'checkpoint'}: waiting for a {who} — {p.get('prompt')}"
    return _store_line(event, width=width)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of a case's timeline for people: when, who, what kind, what, and the rules that decided."""

    seq: int
    at: datetime
    kind: str
    actor: str
    what: str
    rule_ids: tuple[str, ...]


def timeline(events: Iterable[HistoryEvent], group: str | None = None) -> list[TimelineEntry]:
    """The events a person reads (bookkeeping left out), optionally only those of ``group`` (``KIND_GROUPS``)."""
    kinds = KIND_GROUPS.get(group or "")
    return [TimelineEntry(e.seq, e.at, e.kind, e.actor, _without_rules(describe_event(e)), tuple(e.rule_ids))
            for e in events if e.kind not in HIDDEN_KINDS and (kinds is None or e.kind in kinds)]


def _without_rules(line: str) -> str:
    """The line without its trailing ``[rules: …]``: a timeline entry lists the rule ids itself."""
    return line[: line.rindex(" [rules: ")] if line.endswith("]") and " [rules: " in line else line


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
