"""The chat's answer without a model: composed from the case's own records, deterministic.

Used when no model is configured, and when the model may not be asked or cannot answer (the
answer then says why). It never invents a fact: status from the engine and inbox, "why" from
the latest verdicts and errors (cited by ``#seq``), and an instruction becomes a proposal only
when it names one of the actions possible now by its label.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from casepilot.agent.chat_grounding import Grounding

if TYPE_CHECKING:
    from casepilot.agent.orchestrator import Orchestrator

__all__ = ["OfflineAnswer", "offline_answer"]

_INSTRUCTION = re.compile(
    r"^\s*(please\s+|can you\s+|could you\s+)?(start|plan|run|do|add|execute|request|ask|retry|approve|reject|"
    r"send|pay|disburse|complete|close|skip)\b", re.IGNORECASE)
_WHY = re.compile(r"\bwhy\b|\breason\b|\bblocked\b|\bstuck\b", re.IGNORECASE)


class OfflineAnswer:
    """An answer composed from the records: text, the history it cites, and the proposed action."""

    __slots__ = ("citations", "propose", "text")

    def __init__(self, text: str, citations: list[str], propose: str | None = None) -> None:
        self.text = text
        self.citations = citations
        self.propose = propose


def offline_answer(orch: Orchestrator, grounding: Grounding, message: str) -> OfflineAnswer:
    """The deterministic answer to ``message`` from ``grounding``."""
    if _INSTRUCTION.match(message):
        return _instruction(grounding, message)
    if _WHY.search(message):
        return _why(grounding)
    return _status(orch, grounding)


def _status(orch: Orchestrator, grounding: Grounding) -> OfflineAnswer:
    payload = grounding.payload
    plan = payload["plan"]
    active = [i["name"] for i in plan if i["state"] == "active"]
    done = [i["name"] for i in plan if i["state"] == "completed"]
    lines = [f"Case {grounding.case_id} ({grounding.definition}) is {grounding.state}."]
    if active:
        lines.append("Active: " + ", ".join(active) + ".")
    if done:
        lines.append("Done: " + ", ".join(done) + ".")
    for task in payload["waiting_for_people"]:
        who = f" for a {task['role']}" if task["role"] else ""
        lines.append(f"Waiting{who}: {task['question']} (options: {', '.join(task['options'])}; task {task['task']}).")
    cited: list[str] = []
    verdicts = [h for h in payload["history"] if h["kind"] == "verdict"]
    if verdicts:
        last = verdicts[-1]
        lines.append(f"Last verdict: {_plain(last['what'])} (history {last['cite']}).")
        cited.append(last["cite"])
    return OfflineAnswer(" ".join(lines), cited)


def _why(grounding: Grounding) -> OfflineAnswer:
    history = grounding.payload["history"]
    reasons = [h for h in history if h["kind"] in ("verdict", "error") and not str(h["what"]).startswith("allow")]
    if not reasons:
        answer = _status_text(grounding)
        return OfflineAnswer(f"Nothing was blocked or failed in the recent history. {answer}", [])
    shown = reasons[-3:]
    parts = [f"{_plain(h['what'])} (history {h['cite']})" for h in shown]
    return OfflineAnswer("Recorded reasons: " + "; ".join(parts) + ".", [h["cite"] for h in shown])


def _plain(what: str) -> str:
    """An event's line without square brackets (terminals that read markup would eat them)."""
    return re.sub(r"\s*\[rules: ([^\]]*)\]", r" (rules: \1)", str(what)).replace("[", "(").replace("]", ")")


def _status_text(grounding: Grounding) -> str:
    waiting = grounding.payload["waiting_for_people"]
    if waiting:
        return "It waits for: " + "; ".join(f"{t['question']} ({t['role'] or 'a person'})" for t in waiting) + "."
    return f"The case is {grounding.state}."


def _instruction(grounding: Grounding, message: str) -> OfflineAnswer:
    text = message.casefold()
    matches = [o for o in grounding.options if o.label.casefold() in text]
    if not matches:
        possible = ", ".join(sorted({o.label for o in grounding.options})) or "nothing right now"
        return OfflineAnswer(f"I cannot do that: it is not one of the possible actions. Possible now: {possible}.", [])
    option = max(matches, key=lambda o: len(o.label))
    return OfflineAnswer(f"{option.label} is possible now.", [], propose=option.id)
