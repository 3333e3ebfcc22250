"""Who may run an operation on a case, ending a case, and child cases following their parent.

CMMN 1.1 couples a case task's lifecycle to the case it started (§5.4.10.4: the case task's
transitions and the child case's): when the parent case ends, its case task ends by
parentTerminate and the child case is terminated; parentSuspend suspends the child case and
parentResume resumes it. So ``terminate``, ``suspend`` and ``resume`` (``casepilot.agent.operations``)
reach the running child cases, and theirs, parents first:

- the person's authority is checked on every case reached before anything changes (fail closed:
  ``NotAuthorized`` and no trace anywhere when they lack the role on one of them);
- the parent's guardrails decide; each child records that decision as its own operation verdict,
  with the person as actor and the parent named (``with_parent``), then its transitions;
- resume reaches only the children suspended *with* the parent: a child case a person suspended
  on its own stays suspended until resumed on its own;
- each case changes in its own step under its own lease (parent first). A crash between the
  parent's step and a child's leaves that child running; terminating or suspending it by hand
  finishes the work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from casepilot.agent.context import LoadedCase
from casepilot.agent.manifest import OperationName
from casepilot.errors import NotAuthorized
from casepilot.store import Step

if TYPE_CHECKING:
    from casepilot.agent.orchestrator import Orchestrator, Person

__all__ = ["authorise", "case_state", "end_case", "follow", "operation_roles", "reached"]


def operation_roles(loaded: LoadedCase, operation: OperationName) -> tuple[str, ...]:
    """Who may run ``operation`` on cases of this bundle: the operator role, then the roles named for it."""
    governance = loaded.bundle.manifest.governance
    roles = ([governance.operator_role] if governance.operator_role else []) + list(
        governance.operations.get(operation, ()))
    return tuple(dict.fromkeys(roles))


def authorise(loaded: LoadedCase, operation: OperationName, actor: Person) -> None:
    allowed = operation_roles(loaded, operation)
    held = {r.casefold() for r in actor.roles}
    if not allowed:
        raise NotAuthorized(f"nobody may {operation} cases of {loaded.bundle.key}: its casepilot.yaml names no "
                            f"governance.operator_role and no governance.operations.{operation} roles")
    if not any(r.casefold() in held for r in allowed):
        raise NotAuthorized(f"{actor.name} cannot {operation} case {loaded.id}: it needs the role "
                            f"{' or '.join(repr(r) for r in allowed)}, and {actor.name} has "
                            f"{', '.join(sorted(actor.roles)) or 'no roles'}")


def case_state(loaded: LoadedCase) -> str:
    return loaded.engine.state if loaded.engine is not None else "active"


def end_case(orch: Orchestrator, step: Step, loaded: LoadedCase, who: str, reason: str, open_tasks: Iterable[str],
         ended_children: Iterable[str] = ()) -> None:
    """Terminate the loaded case inside ``step``: its items end, its open inbox items are cancelled."""
    assert loaded.engine is not None
    orch.runtime.record_transitions(step, loaded.engine.lifecycle("terminate"), who)
    orch.runtime.sync_inbox(step, loaded)
    closed = set(loaded.facts.inbox.values())
    for task_id in open_tasks:
        if task_id not in closed and task_id in loaded.facts.parked:
            step.close_task(task_id, "cancelled", actor=who, comment=f"the case was terminated: {reason}")
    loaded.facts.parked.clear()
    ended = set(ended_children)
    for instance, child_id in list(loaded.facts.children.items()):
        if child_id in ended:  # ended with this case: nothing comes back from them
            del loaded.facts.children[instance]



_FOLLOWS: Mapping[str, tuple[str, ...]] = {"terminate": ("active", "suspended"), "suspend": ("active",),
                                           "resume": ("suspended",)}
_DONE = {"terminate": "terminated", "suspend": "suspended", "resume": "resumed"}


def _suspended_with(orch: Orchestrator, child_id: str, parent_id: str) -> bool:
    """Whether the child case's last suspend or resume was its suspension with ``parent_id``."""
    last: Mapping[str, Any] = {}
    for event in orch.store.iter_history(child_id):
        p = event.payload
        if event.kind == "verdict" and p.get("operation") in ("suspend", "resume") and p.get("kind") == "allow":
            last = p
    return last.get("operation") == "suspend" and last.get("with_parent") == parent_id


def reached(orch: Orchestrator, case_id: str, operation: OperationName, actor: Person) -> list[tuple[str, str]]:
    """(child case, its parent) for every running case ``operation`` on ``case_id`` reaches, parents
    first; ``NotAuthorized`` (leaving no trace) unless ``actor`` may ``operation`` each of them."""
    found: list[tuple[str, str]] = []
    parents = [orch.runtime.load(case_id)]
    while parents:
        parent = parents.pop(0)
        for child_id in parent.facts.children.values():
            child = orch.runtime.load(child_id)
            if case_state(child) not in _FOLLOWS[operation] or (
                    operation == "resume" and not _suspended_with(orch, child_id, parent.id)):
                continue
            authorise(child, operation, actor)
            found.append((child_id, parent.id))
            parents.append(child)
    return found


def follow(orch: Orchestrator, reached: Iterable[tuple[str, str]], actor: Person, operation: OperationName,
            reason: str) -> None:
    """Apply ``operation`` to each reached child case, each in its own step under its own lease."""
    who = f"person:{actor.name}"
    for child_id, parent_id in reached:
        with orch.leases.hold(child_id):
            loaded = orch.runtime.load(child_id)
            if case_state(loaded) not in _FOLLOWS[operation]:
                continue  # it finished (or was moved by a person) since
            open_tasks = [t.id for t in orch.store.tasks(case_id=child_id, status="open")]
            grandchildren = [c for c, p in reached if p == child_id]
            with orch.runtime.step(child_id, loaded) as (step, loaded):
                step.append("verdict", actor=who, payload={
                    "action": f"{operation}:case", "operation": operation, "arguments": {"reason": reason},
                    "with_parent": parent_id, "kind": "allow", "rule_ids": [],
                    "reason": f"its parent case {parent_id} was {_DONE[operation]} by {actor.name}"})
                assert loaded.engine is not None
                if operation == "terminate":
                    end_case(orch, step, loaded, who, reason, open_tasks, grandchildren)
                else:
                    orch.runtime.record_transitions(step, loaded.engine.lifecycle(operation), who)
                    if operation == "resume":
                        orch.runtime.sync_inbox(step, loaded)
