"""Recovering a case at the start of a step: expired checkpoints and interrupted tool calls.

An open checkpoint past its expiry resolves by its policy's default (silence never
approves unless the policy says so); one whose action changed since it was asked about
(the case file now gives the call other arguments) is withdrawn, so that the changed action
is governed — and asked about — afresh. A tool call recorded as started but never as
finished means a worker stopped mid-call: a non-idempotent call may have had its effect,
so it goes to a person as a checkpoint; a read-only or idempotent call is simply offered
again.

That person is the operator role (``governance.operator_role``; deploy refuses a bundle
that binds a non-idempotent tool without one), never "anyone": with no operator role at
all the call stays parked with nobody able to approve it, and the case records why.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from casepilot.agent.context import AgentRuntime, LoadedCase
from casepilot.agent.facts import ParkedAction
from casepilot.store._step import Step

__all__ = ["expire_and_recover"]


RECOVERY = "recovery:"
"""Key prefix of an interrupted call parked without an inbox item (no operator role to ask)."""


def operator_role(rt: AgentRuntime, loaded: LoadedCase) -> str | None:
    """Who answers "this call may have run — run it again?": the bundle's operator role, else
    the operator role of the Governor in use (one built in Python), else nobody."""
    return loaded.bundle.manifest.governance.operator_role or rt.governor_for(loaded.bundle).operator_role


def expire_and_recover(rt: AgentRuntime, loaded: LoadedCase) -> bool:
    """Resolve expired checkpoints and tool calls left started by a stopped worker; True if any."""
    now = rt.clock()
    has_deadlines = any(True for _ in loaded.facts.parked) or bool(loaded.facts.inbox)
    open_tasks = rt.store.tasks(case_id=loaded.id, status="open") if has_deadlines else []
    expired = [t for t in open_tasks if t.expires_at is not None and t.expires_at <= now]
    expired_ids = {t.id for t in expired}
    changed = [
        p for p in loaded.facts.parked.values()
        if p.task_id not in expired_ids and p.option.get("kind") != "llm_call" and not p.option.get("approved_by")
        and not p.task_id.startswith(RECOVERY) and rt.current_digest(loaded, p) != p.digest
    ]
    role = operator_role(rt, loaded)
    unasked = [p for p in loaded.facts.parked.values() if p.task_id.startswith(RECOVERY)] if role else []
    if not expired and not changed and not loaded.facts.started and not unasked:
        return False
    with rt.step(loaded.id, loaded) as (step, fresh):
        for stale in changed:
            # The action a person was asked about no longer exists as asked: withdraw the
            # question; the planner proposes the action as it is now and governance asks again.
            del fresh.facts.parked[stale.task_id]
            step.close_task(stale.task_id, "cancelled", actor="system",
                            comment="the action changed since it was asked about; a new checkpoint follows")
        for task in expired:
            parked = fresh.facts.parked.pop(task.id, None)
            default = "reject"
            if parked is not None:
                default = parked.option.get("default_choice") or "reject"
                if parked.option.get("kind") == "llm_call":
                    fresh.facts.llm_overrides += 1 if default == "approve" else 0
                elif default == "approve":
                    fresh.facts.parked[task.id] = replace(parked, verdict_reason="approved by expiry default")
                    fresh.facts.parked[task.id].option["approved_by"] = "system:expiry"
                else:
                    fresh.facts.rejected.append(parked.option_id)
            # One event says it all: expired, and resolved by the policy's default.
            step.close_task(task.id, "expired", actor="system", decision=default,
                            comment=f"expired; resolved by the policy's default: {default}")
        for waiting in unasked:
            # An operator role exists now (a Governor that names one): ask the question at last.
            del fresh.facts.parked[waiting.task_id]
            _ask_operator(step, fresh, waiting.option, waiting.arguments, role)
        for call in list(fresh.facts.started.values()):
            del fresh.facts.started[call.call_id]
            if call.side_effect == "non_idempotent":
                _ask_operator(step, fresh, call.option, call.arguments, role, call_id=call.call_id)
                step.append("error", actor="system", payload={
                    "call_id": call.call_id, "tool": call.tool,
                    "problem": ("started but not completed; handed to a person instead of running again" if role
                                else "started but not completed; it may have run, and the case names no "
                                     "operator_role to ask whether to run it again: it stays parked until one "
                                     "is configured (governance.operator_role)"),
                })
            else:
                step.append("error", actor="system", payload={
                    "call_id": call.call_id, "tool": call.tool,
                    "problem": f"started but not completed; the {call.side_effect} call will run again",
                })
    return True


def _ask_operator(step: Step, facts_of: LoadedCase, option: dict[str, Any], arguments: dict[str, Any],
                  role: str | None, *, call_id: str | None = None) -> None:
    """Park an interrupted non-idempotent call behind a checkpoint for the operator role.

    Fail closed: with no operator role the call is parked without an inbox item — never
    offered to the planner again, and nobody can approve it by accident.
    """
    reason = "crash recovery: a non-idempotent call may have run"
    if role is None:
        key = f"{RECOVERY}{call_id or option.get('digest', '')}"
        facts_of.facts.parked[key] = ParkedAction(key, option["id"], option, arguments, option.get("digest", ""),
                                                  reason)
        return
    task = step.create_task(
        f"Tool {option.get('tool')!r} was started but its completion was never recorded (the worker stopped). "
        "It may have run. Run it again?",
        kind="checkpoint",
        plan_item=option.get("label"),
        role=role,
        options=("approve", "reject"),
        action_digest=option.get("digest"),
        actor="system",
    )
    facts_of.facts.parked[task.id] = ParkedAction(task.id, option["id"], option, arguments,
                                                  option.get("digest", ""), reason)
