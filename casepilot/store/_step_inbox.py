"""The inbox rows a step changes: open an item, close it with a decision or by itself.

``Step.create_task``/``decide_task``/``close_task`` stage the history event; the rows and
the checks before a decision are here: a decision is refused on an item of another case, on
one already closed (``ConcurrencyConflict``: another person or worker was first), on an
expired one, with a choice outside its options, and — before any of that — on a case whose
inbox rows no longer match the events that wrote them (``StateTampered``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import Connection
from sqlmodel import Session

from casepilot.errors import ConcurrencyConflict, NotFound, StoreError

from ._canonical import as_utc, dumps_text, loads_text, utc_iso
from ._convert import human_task
from ._state import inbox_problem
from ._tables import HumanTaskRow
from .history import StateTampered
from .models import HumanTask, JsonObject

__all__ = ["check_decision", "close_row", "created_payload", "new_row", "open_row", "refuse_tampered"]


def new_row(session: Session, *, task_id: str, case_id: str, prompt: str,
            kind: Literal["human_task", "checkpoint"], plan_item: str | None, role: str | None,
            options: list[str], created_at: datetime, expires_at: datetime | None,
            action_digest: str | None) -> HumanTask:
    """Insert an open inbox item (``created_at`` is also its event's time)."""
    row = HumanTaskRow(id=task_id, case_id=case_id, plan_item=plan_item, kind=kind, role=role, prompt=prompt,
                       options_json=dumps_text(options), status="open", created_at=created_at,
                       expires_at=expires_at, action_digest=action_digest)
    session.add(row)
    session.flush()
    return human_task(row)


def created_payload(task: HumanTask) -> JsonObject:
    """The payload of the item's ``human_task_created`` event (what ``inbox_problem`` checks the row against)."""
    return {
        "task_id": task.id,
        "kind": task.kind,
        "plan_item": task.plan_item,
        "role": task.role,
        "prompt": task.prompt,
        "options": list(task.options),
        "expires_at": None if task.expires_at is None else utc_iso(task.expires_at),
        "action_digest": task.action_digest,
    }


def open_row(session: Session, case_id: str, task_id: str) -> HumanTaskRow:
    """The case's open item ``task_id``, locked until the step ends."""
    row = session.get(HumanTaskRow, task_id, with_for_update=True)
    if row is None or row.case_id != case_id:
        raise NotFound(f"task {task_id} does not exist in case {case_id}")
    if row.status != "open":
        raise ConcurrencyConflict(f"task {task_id} is already {row.status} (by {row.decided_by})")
    return row


def refuse_tampered(conn: Connection, case_id: str) -> None:
    """``StateTampered`` if the case's inbox rows no longer match the events that wrote them."""
    problem = inbox_problem(conn, case_id)
    if problem is not None:
        raise StateTampered(f"case {case_id}: {problem[1]}. The decision is not recorded; restore "
                            "the human_tasks rows from a backup after finding out who changed them.",
                            case_id=case_id, sequence=problem[0])


def check_decision(row: HumanTaskRow, decision: str, now: datetime) -> None:
    """Refuse a person's ``decision`` on ``row`` unless the item is unexpired and offers that choice."""
    if row.expires_at is not None and as_utc(row.expires_at) <= as_utc(now):
        raise StoreError(f"task {row.id} expired at {utc_iso(row.expires_at)}; it can no longer be decided")
    options = list(loads_text(row.options_json))
    if options and decision not in options:
        raise ValueError(f"decision {decision!r} is not one of the task's options: {', '.join(options)}")


def close_row(session: Session, row: HumanTaskRow, status: str, *, decided_by: str, decision: str | None,
              comment: str | None, at: datetime) -> tuple[HumanTask, JsonObject]:
    """Close ``row``; the item as closed and the payload of its ``human_task_decided`` event."""
    row.status = status
    row.decided_by = decided_by
    row.decided_at = at
    row.decision = decision
    row.comment = comment
    session.add(row)
    session.flush()
    task = human_task(row)
    return task, {"task_id": task.id, "status": status, "decision": decision, "comment": comment,
                  "action_digest": task.action_digest, "plan_item": task.plan_item}
