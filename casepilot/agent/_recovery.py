"""Recovering a case at the start of a step: expired checkpoints and interrupted tool calls.

An open checkpoint past its expiry resolves by its policy's default (silence never
approves unless the policy says so); one whose action changed since it was asked about
(the case file now gives the call other arguments) is withdrawn, so that the changed action
is governed — and asked about — afresh. A tool call recorded as started but never as
finished means a worker stopped mid-call: a non-idempotent call may have had its effect,
so it goes to a person as a checkpoint; a read-only or idempotent call is simply offered
again.
"""

from __future__ import annotations

from dataclasses import replace

from casepilot.agent.context import AgentRuntime, LoadedCase
from casepilot.agent.facts import ParkedAction

__all__ = ["expire_and_recover"]


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
        and rt.current_digest(loaded, p) != p.digest
    ]
    if not expired and not changed and not loaded.facts.started:
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
            step.close_task(task.id, "expired", actor="system", comment="expired; resolved by the policy's default")
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
            step.append("human_task_decided", actor="system",
                        payload={"task_id": task.id, "decision": default, "by": "expiry"})
        for call in list(fresh.facts.started.values()):
            del fresh.facts.started[call.call_id]
            if call.side_effect == "non_idempotent":
                task = step.create_task(
                    f"Tool {call.tool!r} was started but its completion was never recorded (the worker stopped). "
                    "It may have run. Run it again?",
                    kind="checkpoint",
                    plan_item=call.option.get("label"),
                    role=fresh.bundle.manifest.governance.provenance_role or None,
                    options=("approve", "reject"),
                    action_digest=call.option.get("digest"),
                    actor="system",
                )
                fresh.facts.parked[task.id] = ParkedAction(
                    task_id=task.id,
                    option_id=call.option["id"],
                    option=call.option,
                    arguments=call.arguments,
                    digest=call.option.get("digest", ""),
                    verdict_reason="crash recovery: a non-idempotent call may have run",
                )
                step.append("error", actor="system", payload={
                    "call_id": call.call_id, "tool": call.tool,
                    "problem": "started but not completed; handed to a person instead of running again",
                })
            else:
                step.append("error", actor="system", payload={
                    "call_id": call.call_id, "tool": call.tool,
                    "problem": f"started but not completed; the {call.side_effect} call will run again",
                })
    return True
