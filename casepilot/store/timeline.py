"""One line per history event, for people: the CLI's ``history``, the demo's timeline, the web page.

It reads nothing but the event (the store's payloads are already pseudonymised), so it sits
with the store and any face of it can use it without loading the agent.
"""

from __future__ import annotations

from typing import Any

from .models import HistoryEvent

__all__ = ["HIDDEN_KINDS", "describe_event"]

HIDDEN_KINDS = frozenset({"state", "state_delta", "case_created"})
"""Bookkeeping events a timeline leaves out (state snapshots and deltas; the creation record)."""


def describe_event(event: HistoryEvent, *, width: int = 100) -> str:
    """What happened, in one line of at most about ``width`` characters."""
    p = event.payload
    if p.get("engine") == "bpmn" and event.kind in ("transition", "verdict"):
        return _bpmn_step(event.kind, p)
    if event.kind == "transition":
        return f"{p.get('name')}: {p.get('from_state') or '∅'} → {p.get('to_state')} ({p.get('cause')})"
    if event.kind == "plan":
        return f"chose {p.get('label')!r} — {p.get('rationale')}"
    if event.kind == "verdict":
        rules = ", ".join(p.get("rule_ids", []))
        if p.get("operation"):
            return _operation(p) + (f" [rules: {rules}]" if rules else "")
        return f"{p.get('kind')}: {p.get('reason')}" + (f" [rules: {rules}]" if rules else "")
    if event.kind.startswith("tool_call"):
        detail = str(p.get("arguments") or p.get("result") or p.get("error") or "")
        return f"{p.get('tool')} {detail[: width - 10]}"
    if event.kind.startswith("human_task"):
        who = p.get("role") or p.get("decided_by") or ""
        return f"{p.get('plan_item')}: {p.get('decision') or p.get('prompt')} ({who})"
    if event.kind == "chat_message":
        return str(p.get("text", ""))[:width]
    if event.kind == "case_created":
        extra = "".join(f", {k} {p[k]}" for k in ("business_key", "tenant") if p.get(k))
        return f"definition {p.get('definition_key')} v{p.get('definition_version')}{extra}"
    if event.kind == "state":
        return f"state digest {str(p.get('state_digest', ''))[:16]}…"
    if event.kind == "state_delta":
        return f"state changes: {len(p.get('ops') or [])} operations"
    return str(p)[:width]


def _bpmn_step(kind: str, p: dict[str, Any]) -> str:
    """A BPMN process's step in a case (``casepilot.bpmn`` events carry the element, not a plan item):
    ``payment/validate (service task): complete``, or the verdict on a service task's call."""
    where = f"{p.get('process')}/{p.get('element')}"
    if kind == "transition":
        return f"{where} ({p.get('element_type')}): {p.get('transition')}"
    verdict = p.get("verdict") or {}
    rules = ", ".join(verdict.get("rule_ids") or [])
    return (f"{verdict.get('kind')}: {verdict.get('reason')} — {p.get('tool')} at {where}"
            + (f" [rules: {rules}]" if rules else ""))


_VERDICT_WORDS = {"allow": "allowed", "block": "refused", "require_human": "waits for a person"}


def _operation(p: dict[str, Any]) -> str:
    """A person's operation on the case and governance's answer: ``terminate the case (“duplicate”):
    allowed — <why>``; a child case says it followed its parent."""
    operation, args = str(p.get("operation")), p.get("arguments") or {}
    if operation in ("terminate", "suspend", "resume"):
        what = f"{operation} the case"
        if p.get("with_parent"):
            what += f" with its parent case {p['with_parent']}"
        elif p.get("child_cases"):
            count = len(p["child_cases"])
            what += f" and its {count} running child case{'s' if count != 1 else ''}"
    elif operation == "retry":
        what = f"retry {p.get('item') or args.get('item')!s}"
    elif operation == "correct":
        what = f"correct {p.get('path') or args.get('path')}: {_short(p.get('old'))} → {_short(p.get('new'))}"
    elif operation == "reassign":
        target = ", ".join(str(x) for x in (p.get("to_role"), p.get("person")) if x)
        what = f"reassign inbox item {p.get('task_id')} to {target}"
    else:
        what = operation
    given = args.get("reason")
    verdict = _VERDICT_WORDS.get(str(p.get("kind")), str(p.get("kind")))
    return f"{what}" + (f" (“{given}”)" if given else "") + f": {verdict} — {p.get('reason')}"


def _short(value: Any) -> str:
    text = "null" if value is None else str(value)
    return text if len(text) <= 40 else text[:39] + "…"
