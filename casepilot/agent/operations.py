"""Operations people run on cases: terminate, suspend/resume, retry a failed task, correct a
case-file item, reassign an inbox item.

A case stuck after a guardrail block or a tool failure had no way out (issue 16). Each
operation here is what an operator does to a case besides deciding its inbox items, and each
goes the way every action goes:

- **role-checked**: the bundle's operator role (``governance.operator_role``) may run them
  all, a role ``governance.operations`` names for an operation may run that one; a bundle
  that names neither refuses (fail closed, ``NotAuthorized``);
- **governed**: a ``transition`` action named after the operation is reviewed by the
  bundle's governor as the person, with their roles; the verdict is recorded either way and
  anything but ``allow`` refuses (``GovernanceBlocked``);
- **recorded** in the case's hash-chained history with the person as actor: the verdict
  (with what the operation was asked to do) and the engine's transitions it caused;
- under the **case lease**, like every entry point that changes a case.

A suspended or terminated case refuses to be worked (``ensure_workable``) until it is resumed.
Terminate, suspend and resume reach the case's running child cases (CMMN 1.1 couples a case
task's lifecycle to its case; ``casepilot.agent._case_lifecycle`` says how they are recorded).
``Orchestrator`` exposes these as thin methods.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from casepilot.agent._case_lifecycle import authorise, case_state, end_case, follow, operation_roles, reached
from casepilot.agent._node_helpers import merge_paths
from casepilot.agent._process_tasks import owner_of
from casepilot.agent.context import LoadedCase
from casepilot.agent.manifest import OperationName
from casepilot.agent.nodes import Nodes
from casepilot.agent.privacy import jsonable
from casepilot.errors import (
    DecisionRejected,
    GovernanceBlocked,
    IllegalTransition,
    UnknownPlanItem,
)
from casepilot.governance.actions import ProposedAction
from casepilot.governance.guardrails import lookup_path
from casepilot.store import HistoryEvent, HumanTask, Step

if TYPE_CHECKING:
    from casepilot.agent.orchestrator import Orchestrator, Person

__all__ = [
    "OperationDone",
    "check_assignee",
    "correct",
    "ensure_workable",
    "failed_items",
    "operation_roles",
    "reassign",
    "resume",
    "retry",
    "suspend",
    "terminate",
]


@dataclass(frozen=True, slots=True)
class OperationDone:
    """What an operation did: the case's CMMN state after it, and the operation's own record."""

    operation: OperationName
    case_id: str
    case_state: str
    detail: Mapping[str, Any]


def _require_state(loaded: LoadedCase, operation: str, allowed: Iterable[str]) -> None:
    state = case_state(loaded)
    if state not in allowed:
        raise IllegalTransition(f"case {loaded.id}", state, operation, allowed=[])


def _operate(
    orch: Orchestrator,
    case_id: str,
    actor: Person,
    operation: OperationName,
    *,
    target: str,
    arguments: Mapping[str, Any],
    check: Callable[[LoadedCase], Mapping[str, Any]],
    apply: Callable[[Step, LoadedCase, str], None],
    plan_item: str | None = None,
) -> OperationDone:
    """Authorise, check, govern, record and apply one operation under the case's lease.

    ``check`` refuses an operation the case's state does not allow (before governance sees
    it) and returns what the record adds (e.g. a correction's old value); ``apply`` changes
    the case inside the step that records the verdict.
    """
    rt = orch.runtime
    with orch.leases.hold(case_id):
        loaded = rt.load(case_id)
        authorise(loaded, operation, actor)
        extra = dict(check(loaded))
        who = f"person:{actor.name}"
        proposed = ProposedAction(kind="transition", name=operation, case_id=case_id, plan_item=plan_item,
                                  arguments=dict(arguments))
        context = replace(Nodes(rt).context(loaded, confidence=None, action=proposed), actor=who, roles=actor.roles)
        verdict = rt.governor_for(loaded.bundle).review(proposed, context)
        record = {"action": f"{operation}:{target}", "operation": operation, "arguments": dict(arguments), **extra}
        with rt.step(case_id, loaded) as (step, loaded):
            step.append("verdict", actor=who, payload={**record, **verdict.to_json()}, rule_ids=verdict.rule_ids)
            if verdict.kind == "allow":
                apply(step, loaded, who)
        if verdict.kind != "allow":
            rules = f" (rules {', '.join(verdict.rule_ids)})" if verdict.rule_ids else ""
            raise GovernanceBlocked(f"{operation} of case {case_id} was not allowed: {verdict.reason}{rules}",
                                    rule_ids=list(verdict.rule_ids))
        return OperationDone(operation, case_id, case_state(loaded), record)


def _no_check(_loaded: LoadedCase) -> Mapping[str, Any]:
    return {}


# -- the case lifecycle ---------------------------------------------------------------------------


def terminate(orch: Orchestrator, case_id: str, actor: Person, reason: str) -> OperationDone:
    """Terminate an active or suspended case: its items end, its open inbox items are cancelled,
    and its running child cases are terminated with it (``casepilot.agent._case_lifecycle``)."""
    open_tasks = [t.id for t in orch.store.tasks(case_id=case_id, status="open")]
    family = reached(orch, case_id, "terminate", actor)

    def check(loaded: LoadedCase) -> Mapping[str, Any]:
        _require_state(loaded, "terminate", ("active", "suspended"))
        return {"child_cases": [child for child, _ in family]} if family else {}

    def apply(step: Step, loaded: LoadedCase, who: str) -> None:
        end_case(orch, step, loaded, who, reason, open_tasks, (child for child, _ in family))

    done = _operate(orch, case_id, actor, "terminate", target="case", arguments={"reason": reason},
                    check=check, apply=apply)
    follow(orch, family, actor, "terminate", reason)
    return done


def suspend(orch: Orchestrator, case_id: str, actor: Person, reason: str) -> OperationDone:
    """Suspend an active case: nothing runs, is decided or chatted into action until ``resume``.
    Its active child cases are suspended with it."""
    family = reached(orch, case_id, "suspend", actor)

    def check(loaded: LoadedCase) -> Mapping[str, Any]:
        _require_state(loaded, "suspend", ("active",))
        return {"child_cases": [child for child, _ in family]} if family else {}

    def apply(step: Step, loaded: LoadedCase, who: str) -> None:
        assert loaded.engine is not None
        orch.runtime.record_transitions(step, loaded.engine.lifecycle("suspend"), who)

    done = _operate(orch, case_id, actor, "suspend", target="case", arguments={"reason": reason},
                    check=check, apply=apply)
    follow(orch, family, actor, "suspend", reason)
    return done


def resume(orch: Orchestrator, case_id: str, actor: Person, reason: str) -> OperationDone:
    """Resume a suspended case; the next ``run`` works it on. The child cases suspended with it
    are resumed too (one suspended on its own stays suspended)."""
    family = reached(orch, case_id, "resume", actor)

    def check(loaded: LoadedCase) -> Mapping[str, Any]:
        _require_state(loaded, "resume", ("suspended",))
        return {"child_cases": [child for child, _ in family]} if family else {}

    def apply(step: Step, loaded: LoadedCase, who: str) -> None:
        assert loaded.engine is not None
        orch.runtime.record_transitions(step, loaded.engine.lifecycle("resume"), who)
        orch.runtime.sync_inbox(step, loaded)

    done = _operate(orch, case_id, actor, "resume", target="case", arguments={"reason": reason},
                    check=check, apply=apply)
    follow(orch, family, actor, "resume", reason)
    return done


def ensure_workable(orch: Orchestrator, case_id: str, doing: str, *, finished_ok: bool = False) -> None:
    """Refuse to ``doing`` (run, chat, act, decide) on a suspended or terminated case, saying what to do.

    ``finished_ok``: a terminated case is let through (``run`` of a finished case does nothing
    and reports how it ended, as for a completed one).
    """
    loaded = orch.runtime.load(case_id)
    state = case_state(loaded)
    if state == "suspended":
        raise IllegalTransition(f"case {case_id}", "suspended", doing,
                                allowed=["resume (casepilot resume, Orchestrator.resume) first"])
    if state == "terminated" and not finished_ok:
        raise IllegalTransition(f"case {case_id}", "terminated", doing,
                                allowed=["nothing: a terminated case is over; start a new case"])


# -- retry a failed task --------------------------------------------------------------------------


def _failed_options(events: Iterable[HistoryEvent]) -> set[str]:
    """Option ids whose tool call (or decision) failed, from the history."""
    failed: set[str] = set()
    last_action: str | None = None
    for event in events:
        if event.kind == "plan":
            last_action = event.payload.get("chose") or last_action
        elif event.kind == "verdict" and event.payload.get("action") and not event.payload.get("operation"):
            last_action = str(event.payload["action"])
        elif event.kind == "tool_call_failed" and last_action is not None and not event.payload.get("problem"):
            failed.add(last_action)
    return failed


def failed_items(orch: Orchestrator, loaded: LoadedCase) -> dict[str, tuple[str, list[str]]]:
    """Instance id -> (name, option ids to offer again) of every task a retry may run again: an
    item the CMMN engine holds as failed, or an active item whose tool call failed."""
    engine = loaded.engine
    if engine is None:
        return {}
    found: dict[str, tuple[str, list[str]]] = {}
    failed = _failed_options(orch.store.iter_history(loaded.id))
    for option_id in loaded.facts.rejected:
        kind, _, instance = option_id.partition(":")
        view = engine.item(instance) if kind in ("run", "decide") else None
        if view is not None and view.state == "active" and option_id in failed:
            found.setdefault(instance, (view.name, []))[1].append(option_id)
    for view in engine.items():
        if view.state == "failed":
            found.setdefault(view.instance_id, (view.name, []))
    return found


def retry(orch: Orchestrator, case_id: str, actor: Person, item: str, reason: str | None = None) -> OperationDone:
    """Offer a failed task again (by name or instance id): a failed CMMN item is reactivated, a
    failed tool call's option is offered to the planner again. The next ``run`` proposes it,
    governed like any action."""
    chosen: dict[str, Any] = {}

    def check(loaded: LoadedCase) -> Mapping[str, Any]:
        _require_state(loaded, "retry", ("active",))
        failed = failed_items(orch, loaded)
        matches = [i for i, (name, _) in failed.items() if item in (i, name)]
        if not matches:
            names = ", ".join(f"{name} ({i})" for i, (name, _) in failed.items()) or "none"
            raise UnknownPlanItem(f"{item!r} is not a failed task of case {case_id}; failed tasks: {names}")
        if len(matches) > 1:
            raise UnknownPlanItem(f"{item!r} names {len(matches)} failed tasks of case {case_id}; "
                                  f"give one instance id: {', '.join(matches)}")
        instance = matches[0]
        chosen.update(instance=instance, name=failed[instance][0], options=failed[instance][1])
        return {"instance": instance, "item": failed[instance][0]}

    def apply(step: Step, loaded: LoadedCase, who: str) -> None:
        engine = loaded.engine
        assert engine is not None
        view = engine.item(chosen["instance"])
        if view is not None and view.state == "failed":
            orch.runtime.record_transitions(step, engine.lifecycle("reactivate", chosen["instance"]), who)
        # A process task's failed process is over: the retried task starts its process anew.
        loaded.facts.processes_ended.pop(chosen["instance"], None)
        loaded.facts.rejected = [o for o in loaded.facts.rejected if o not in chosen["options"]]
        orch.runtime.sync_inbox(step, loaded)

    return _operate(orch, case_id, actor, "retry", target=item, arguments={"item": item, "reason": reason},
                    check=check, apply=apply, plan_item=item)


# -- correct a case-file item ---------------------------------------------------------------------


def correct(orch: Orchestrator, case_id: str, actor: Person, path: str, value: Any, reason: str) -> OperationDone:
    """Set case-file item ``path`` (``claim.amount``: a part of an item) to ``value`` as a governed edit.

    The new value is a person's: trusted, with ``person:<name>`` as its source. The record holds
    the old and the new value, pseudonymised like everything in the history.
    """
    rt = orch.runtime
    new = rt.privacy.redact_value(value, case_id)[0] if rt.privacy is not None else value

    def check(loaded: LoadedCase) -> Mapping[str, Any]:
        _require_state(loaded, "correct", ("active", "suspended"))
        assert loaded.engine is not None
        head = path.split(".")[0]
        variables = loaded.engine.variables()
        declared = {f.name or f.id for f in loaded.bundle.case.case_file_items_by_id.values()}
        if head not in variables and head not in declared:
            known = ", ".join(sorted(set(variables) | declared)) or "none"
            raise UnknownPlanItem(f"case {case_id} has no case-file item {head!r}; it has: {known}")
        old = jsonable(lookup_path(variables, path)) if head in variables else None  # a Decimal amount is not JSON
        return {"path": path, "old": old, "new": new}  # the person's reason is an argument (a verdict has its own)

    def apply(step: Step, loaded: LoadedCase, who: str) -> None:
        engine = loaded.engine
        assert engine is not None
        events = engine.set_variables(merge_paths(engine.variables(), {path: new}))
        loaded.facts.set_provenance(path, "trusted", who)
        rt.record_transitions(step, events, who)
        rt.sync_inbox(step, loaded)

    return _operate(orch, case_id, actor, "correct", target=path,
                    arguments={"path": path, "value": new, "reason": reason}, check=check, apply=apply)


# -- reassign an inbox item -----------------------------------------------------------------------


def reassign(orch: Orchestrator, task_id: str, actor: Person, *, role: str | None = None,
             person: str | None = None, reason: str | None = None) -> HumanTask:
    """Hand an open inbox item to another ``role``, or to a named ``person`` within its role.

    The item is closed as cancelled and a new one, the same in all else, opens for the new
    role (checkpoints keep their pending action). A named person is recorded, and from then
    on only they may decide the item (``check_assignee``). Returns the new item.
    """
    if role is None and person is None:
        raise ValueError("reassign needs a role, a person, or both")
    task = orch.store.task(task_id)
    created: list[HumanTask] = []
    new_id = uuid.uuid4().hex  # named in the verdict, so the record says which item the person now has

    def check(loaded: LoadedCase) -> Mapping[str, Any]:
        _require_state(loaded, "reassign", ("active", "suspended"))
        if task.status != "open":
            raise DecisionRejected(f"inbox item {task_id} is {task.status}; only open items can be reassigned")
        return {"task_id": task_id, "new_task_id": new_id, "from_role": task.role, "to_role": role or task.role,
                "person": person}

    def apply(step: Step, loaded: LoadedCase, who: str) -> None:
        target = ", ".join(x for x in (role, person) if x)
        step.close_task(task_id, "cancelled", actor=who, comment=f"reassigned to {target}" + (
            f": {reason}" if reason else ""))
        new = step.create_task(task.prompt, kind=task.kind, plan_item=task.plan_item, role=role or task.role,
                               options=task.options, expires_at=task.expires_at, action_digest=task.action_digest,
                               actor=who, task_id=new_id)
        created.append(new)
        for instance, open_id in list(loaded.facts.inbox.items()):
            if open_id == task_id:
                loaded.facts.inbox[instance] = new.id
        parked = loaded.facts.parked.pop(task_id, None)
        if parked is not None:
            loaded.facts.parked[new.id] = replace(parked, task_id=new.id)
        process_task = owner_of(loaded, task_id)
        if process_task is not None:  # a BPMN step: its runner hears of the new item as the same step
            from casepilot.bpmn.runner import alias_item

            entry = loaded.facts.processes[process_task]
            entry["runner"] = alias_item(entry["runner"], task_id, new.id)

    _operate(orch, task.case_id, actor, "reassign", target=task_id,
             arguments={"task_id": task_id, "role": role, "person": person, "reason": reason},
             check=check, apply=apply, plan_item=task.plan_item)
    return created[0]


def check_assignee(orch: Orchestrator, task: HumanTask, actor: Person) -> None:
    """Refuse a decision on an item reassigned to a named person by anyone else (``DecisionRejected``)."""
    assignee: str | None = None
    for event in orch.store.iter_history(task.case_id):
        if (event.kind == "verdict" and event.payload.get("operation") == "reassign"
                and event.payload.get("kind") == "allow" and event.payload.get("new_task_id") == task.id):
            assignee = event.payload.get("person")
    if assignee is not None and assignee != actor.name:
        raise DecisionRejected(f"inbox item {task.id} is assigned to {assignee}; {actor.name} cannot decide it "
                               "(reassign it first)")
