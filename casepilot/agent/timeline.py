"""One line per history event or streamed update, for people: the demo's timeline and the web page's
(``describe_event`` lives with the store, ``casepilot.store.timeline``, and is re-exported here).

The history's payloads are already pseudonymised, so a timeline shows what the store
holds and nothing more; the line is text, escaped by whoever renders it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from casepilot.store.timeline import HIDDEN_KINDS, describe_event

__all__ = ["HIDDEN_KINDS", "describe_event", "describe_update"]


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
