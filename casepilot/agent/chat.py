"""Chat with a case: questions are answered from its state and history; an instruction
that names a possible action becomes a proposed action that goes through governance like
any other (it is never executed on the chat's say-so alone).

Offline and deterministic: the answer is composed from the case's own records, so it
works without a model and never invents facts. Every message and answer is recorded in
the history (pseudonymised).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from casepilot.agent.orchestrator import Orchestrator

__all__ = ["answer"]

_INSTRUCTION = re.compile(r"^\s*(please\s+)?(start|plan|run|do|add|execute|request)\b", re.IGNORECASE)


def answer(orch: Orchestrator, case_id: str, actor: str, message: str,
           roles: frozenset[str] = frozenset()) -> str:
    """Record ``message``, answer it, record the answer; returns the answer.

    An instruction is governed as ``actor`` with ``roles`` — the person who wrote it — not as
    the agent: a person's chat can do no more than that person could.
    """
    rt = orch.runtime
    loaded = rt.load(case_id)
    engine = loaded.engine
    said = rt.redact(case_id, {"role": "user", "text": message})
    with rt.step(case_id) as (step, _fresh):
        step.append("chat_message", actor=actor, payload=said)
    if engine is None:
        reply = "The case has not started yet."
    elif _INSTRUCTION.match(message):
        reply = _instruction(orch, case_id, message, actor, roles)
    else:
        reply = _status(orch, case_id)
    replied = rt.redact(case_id, {"role": "assistant", "text": reply})
    with rt.step(case_id) as (step, _fresh):
        step.append("chat_message", actor="agent", payload=replied)
    return reply


def _status(orch: Orchestrator, case_id: str) -> str:
    loaded = orch.runtime.load(case_id)
    engine = loaded.engine
    assert engine is not None
    items = engine.items()
    active = [v.name for v in items if v.state == "active"]
    done = [v.name for v in items if v.state == "completed"]
    pending = orch.store.tasks(case_id=case_id, status="open")
    lines = [f"Case {case_id} ({loaded.bundle.key}) is {engine.state}."]
    if active:
        lines.append("Active: " + ", ".join(active) + ".")
    if done:
        lines.append("Done: " + ", ".join(done) + ".")
    for task in pending:
        who = f" for a {task.role}" if task.role else ""
        lines.append(f"Waiting{who}: {task.prompt} (options: {', '.join(task.options)}; task {task.id}).")
    last = orch.store.history(case_id, after_seq=max(0, loaded.record.last_seq - 5))
    verdicts = [e for e in last if e.kind == "verdict"]
    if verdicts:
        v = verdicts[-1].payload
        rules = f" (rules: {', '.join(v.get('rule_ids', []))})" if v.get("rule_ids") else ""
        lines.append(f"Last verdict: {v.get('kind')} — {v.get('reason')}{rules}.")
    return " ".join(lines)


def _instruction(orch: Orchestrator, case_id: str, message: str, actor: str, roles: frozenset[str]) -> str:
    """Match the instruction to a possible action; the loop's governance decides whether it happens."""
    loaded = orch.runtime.load(case_id)
    engine = loaded.engine
    assert engine is not None
    options, _ = orch.runtime.options(loaded)
    text = message.casefold()
    matches = [o for o in options if o.kind != "wait" and o.label.casefold() in text]
    if not matches:
        possible = ", ".join(sorted({o.label for o in options if o.kind != "wait"})) or "nothing right now"
        return f"I cannot do that: it is not one of the possible actions. Possible now: {possible}."
    option = max(matches, key=lambda o: len(o.label))
    return orch.run_option(case_id, option.id, actor=actor, roles=roles)
