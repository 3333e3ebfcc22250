"""The runner's steps that are not the loop itself: observing the engine, governing a call,
opening and closing inbox items, and the crash rule (see :mod:`casepilot.bpmn.runner`)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.util.task import TaskState

from casepilot.governance import Verdict
from casepilot.tools._errors import ToolCallError

from ._element_types import element_type
from ._provenance import argument_provenance, dump_provenance
from .events import InboxClose, InboxOpen

if TYPE_CHECKING:
    from .instance import ServiceCall
    from .runner import ProcessRunner

__all__ = ["RECOVERY", "USER_TASK_OPTIONS", "all_tasks", "ask_operator", "close_item", "coordinates", "error_code", "govern",
           "is_recovery", "observe", "recover"]

USER_TASK_OPTIONS = ("complete",)
"""The one choice a user task's inbox item offers (its form carries what the person decided), so
an inbox or page shows a button for it and a typo in the choice is refused."""

_INTERNAL = (".BoundaryEventParent",)


def all_tasks(workflow: Any, state: int) -> list[Any]:
    """Tasks in ``state`` of the workflow and of every sub-process it ran."""
    found = [t for t in workflow.tasks.values() if t.has_state(state)]
    for sub in workflow.subprocesses.values():
        found += [t for t in sub.tasks.values() if t.has_state(state)]
    return found


def coordinates(runner: ProcessRunner, element: str | None, token: str | None) -> dict[str, Any]:
    """The BPMN coordinates every event payload starts with."""
    payload: dict[str, Any] = {"engine": "bpmn", "process": runner.instance.definition.id,
                               "instance": runner.instance_id, "element": element, "token": token}
    if token is not None:
        from uuid import UUID

        try:
            task = runner.instance.workflow.get_task_from_id(UUID(token.split(":")[0]))
        except Exception:  # a task id of another process, or gone: the coordinates stay as given
            task = None
        if task is not None:
            payload["element_type"] = element_type(task.task_spec)
    return payload


def observe(runner: ProcessRunner) -> None:
    """Record newly completed elements, open inbox items for new user tasks, close vanished ones."""
    done = [t for t in all_tasks(runner.instance.workflow, TaskState.COMPLETED)
            if getattr(t.task_spec, "bpmn_id", None) and str(t.id) not in runner.reported
            and not t.task_spec.name.endswith(_INTERNAL)]
    done.sort(key=lambda t: (t.last_state_change, t.depth))
    for task in done:
        runner.reported.add(str(task.id))
        runner.emit("transition", task.task_spec.bpmn_id, str(task.id), transition="complete")
    open_tasks = {t.task_id: t for t in runner.instance.user_tasks()}
    for task_id, item in open_tasks.items():
        if runner.item_id(task_id) not in runner.inbox:
            runner.inbox[task_id] = item.element_id
            form = tuple({"name": f.name, "type": f.type, "label": f.label, "required": f.required} for f in item.form)
            runner.emit("human_task_created", item.element_id, task_id, role=item.role, opens=InboxOpen(
                task_id, "human_task", item.name, item.role, item.element_id, options=USER_TASK_OPTIONS, form=form))
    pending = {c.call_id for c in runner.instance.service_calls()}
    for token in [t for t in runner.calls if t not in pending]:  # the task was cancelled (a boundary event…)
        record = runner.calls.pop(token)
        if record.get("checkpoint") and runner.item_id(record["checkpoint"]) in runner.inbox:
            close_item(runner, runner.item_id(record["checkpoint"]), record["element"], "system", None,
                       "the service task was cancelled before the checkpoint was decided")
    for item_id, element in list(runner.inbox.items()):
        own = runner.own_id(item_id)
        if ":" not in own and own not in open_tasks:  # a user task's item (a checkpoint's id has a colon)
            close_item(runner, item_id, element, "system", None, "the process moved on without this user task")


def close_item(runner: ProcessRunner, item_id: str, element: str, actor: str, decision: str | None,
               comment: str | None, **fields: Any) -> None:
    """Close an inbox item this runner opened (decided, or cancelled when ``decision`` is None)."""
    runner.inbox.pop(item_id, None)
    runner.aliases.pop(item_id, None)
    runner.emit("human_task_decided", element, item_id, actor=actor, decision=decision, comment=comment,
                closes=InboxClose(item_id, actor, decision, comment), **fields)


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def govern(runner: ProcessRunner, call: ServiceCall) -> dict[str, Any]:
    """Review a new service call; record the verdict; return the call's record (also kept in ``runner.calls``)."""
    from .runner import ServiceRequest

    provenance = argument_provenance(call.inputs, runner.provenance, call.element_id)
    record: dict[str, Any] = {"tool": call.tool, "element": call.element_id, "arguments": dict(call.arguments),
                              "provenance": dump_provenance(provenance)}
    digest = _digest({"tool": call.tool, "arguments": dict(call.arguments), "token": call.call_id})
    try:
        tool = runner.tools.get(call.tool)
    except ToolCallError as exc:  # fail closed: an unknown tool is never called
        verdict = Verdict("block", f"unknown tool: {exc}", digest, ("runner",), ())
        record["side_effect"] = "non_idempotent"
    else:
        record["side_effect"] = tool.side_effect
        request = ServiceRequest(runner.instance_id, runner.instance.definition.id, call.element_id, call.call_id,
                                 call.tool, tool.side_effect, dict(call.arguments), provenance, tool.tags, tool.targets)
        try:
            verdict = runner.govern(request)
        except Exception as exc:  # governance that cannot decide blocks
            verdict = Verdict("block", f"governance failed: {type(exc).__name__}: {exc}", digest, ("runner",), ())
    verdict = _fail_closed(verdict, runner.operator_role)
    if verdict.transformed is not None:
        record["arguments"] = dict(verdict.transformed)
    runner.emit("verdict", call.element_id, call.call_id, tool=call.tool, verdict=verdict.to_json(),
                untrusted_arguments=sorted(k for k, p in provenance.items() if not p.is_trusted),
                provenance=record["provenance"], rule_ids=verdict.rule_ids)
    record["digest"] = verdict.action_digest
    if verdict.kind == "allow":
        record["status"] = "approved"
    elif verdict.kind == "require_human":
        record.update(status="checkpoint", checkpoint=f"{call.call_id}:approval", role=verdict.role)
        runner.inbox[record["checkpoint"]] = call.element_id
        runner.emit("human_task_created", call.element_id, record["checkpoint"], role=verdict.role, opens=InboxOpen(
            record["checkpoint"], "checkpoint", verdict.question or verdict.reason, verdict.role, call.element_id,
            options=verdict.options or ("approve", "reject"), action_digest=verdict.action_digest))
    else:
        rules = ", ".join(verdict.rule_ids)  # the history's failure names the rule, not only the verdict event
        record.update(status="refused", code="blocked", message=verdict.reason + (f" [rules: {rules}]" if rules else ""))
    runner.calls[call.call_id] = record
    return record


def _fail_closed(verdict: Any, operator_role: str | None) -> Verdict:
    if not isinstance(verdict, Verdict) or verdict.kind not in ("allow", "block", "require_human"):
        return Verdict("block", f"governance returned {verdict!r}, which is not a verdict",
                       getattr(verdict, "action_digest", ""), ("runner",), ())
    if verdict.kind == "require_human" and not verdict.role:
        if operator_role is None:
            return Verdict("block", f"{verdict.reason} — the checkpoint names no role and there is no operator role",
                           verdict.action_digest, verdict.policies, verdict.rule_ids, verdict.findings)
        from dataclasses import replace

        return replace(verdict, role=operator_role)
    return verdict


def error_code(exc: ToolCallError) -> tuple[str, str]:
    """The BPMN error code and message a failed call throws."""
    from .runner import ServiceError

    if isinstance(exc.cause, ServiceError):
        return exc.cause.code, str(exc.cause)
    return exc.kind, exc.message


RECOVERY = ":recovery"
"""What the id of a "run it again?" checkpoint has after the call's token (``is_recovery``)."""


def is_recovery(checkpoint_id: str) -> bool:
    """Whether the runner's checkpoint ``checkpoint_id`` asks "run it again?" about a call that may have run."""
    return RECOVERY in checkpoint_id


def _recovery_id(token: str, record: dict[str, Any]) -> str:
    """A new inbox item id for each time the same call is asked about: an approved call may be
    interrupted again, or fail with its effect unknown, and the item of the first question (decided,
    kept in the store) must not be opened a second time — the step writing it would fail for ever."""
    asked = int(record.get("recoveries") or 0) + 1
    record["recoveries"] = asked
    return f"{token}{RECOVERY}" if asked == 1 else f"{token}{RECOVERY}-{asked}"


def ask_operator(runner: ProcessRunner, token: str, record: dict[str, Any], why: str) -> None:
    """Park a call that may have run behind a checkpoint for the operator role (none: parked, said why)."""
    role = runner.operator_role
    record.update(status="checkpoint", role=role, checkpoint=_recovery_id(token, record) if role else None)
    if role is None:
        runner.emit("error", record["element"], token, call_id=token, tool=record["tool"], problem=(
            f"{why}; it may have run, and no operator role is configured to ask whether to run it again: "
            "it stays parked until one is (the runner's operator_role)"))
        return
    runner.inbox[record["checkpoint"]] = record["element"]
    runner.emit("error", record["element"], token, call_id=token, tool=record["tool"],
                problem=f"{why}; handed to a person instead of running again")
    runner.emit("human_task_created", record["element"], record["checkpoint"], role=role, opens=InboxOpen(
        record["checkpoint"], "checkpoint",
        f"Tool {record['tool']!r} of step {record['element']!r} was started but its completion was never recorded "
        "(the worker stopped). It may have run. Run it again?", role, record["element"],
        options=("approve", "reject"), action_digest=record.get("digest")))


def recover(runner: ProcessRunner) -> None:
    """The crash rule, on resume: calls recorded as started ran again when idempotent, else go to a person."""
    for token, record in runner.calls.items():
        if record["status"] == "checkpoint" and record.get("checkpoint") is None and runner.operator_role:
            ask_operator(runner, token, record, "a call parked after a crash")  # an operator role exists now
            continue
        if record["status"] != "started":
            continue
        try:
            retryable = runner.tools.get(record["tool"]).retryable
        except ToolCallError:
            retryable = False  # unknown now: fail closed
        if retryable:
            record["status"] = "approved"
            runner.emit("error", record["element"], token, call_id=token, tool=record["tool"],
                        problem=f"started but not completed; the {record['side_effect']} call will run again")
        else:
            ask_operator(runner, token, record, "started but not completed")
