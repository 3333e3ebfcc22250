"""A case's state as stored (last snapshot + deltas), and the checks a case passes on load.

``cases.state_json`` is the last snapshot; the ``state_delta`` events after it bring it up
to date (see ``history`` for the design and why). ``current_state`` reads it for display;
``load_checked`` is what a worker reads before it works a case: it refuses a case whose
``state_json``, recent events or inbox rows no longer match the hash chain
(``StateTampered``), at a cost that does not grow with the history — the events since the
last snapshot and the case's inbox events.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select

from ._canonical import as_utc, chain_hash, digest, loads_text, utc_iso
from ._convert import event_body_text, row_body
from ._tables import CaseRow, EventRow, HumanTaskRow
from .history import StateTampered, apply_ops
from .models import STATE_EVENT_KINDS, JsonObject

__all__ = ["SELECT_CASE", "current_state", "inbox_problem", "load_checked", "snapshot_problem", "state_payload"]

_CASES = CaseRow.__table__  # type: ignore[attr-defined]
_EVENTS = EventRow.__table__  # type: ignore[attr-defined]
_TASKS = HumanTaskRow.__table__  # type: ignore[attr-defined]

SELECT_CASE = select(_CASES).where(_CASES.c.id == bindparam("case_id"))
"""The case row, whole (a step reading the case it works on, a load checking it)."""
_DELTAS = (
    select(_EVENTS.c.payload_json)
    .where(_EVENTS.c.case_id == bindparam("case_id"), _EVENTS.c.seq > bindparam("after"),
           _EVENTS.c.seq <= bindparam("upto"), _EVENTS.c.kind == "state_delta")
    .order_by(_EVENTS.c.seq)
)
_TAIL = (
    select(_EVENTS)
    .where(_EVENTS.c.case_id == bindparam("case_id"), _EVENTS.c.seq >= bindparam("after"),
           _EVENTS.c.seq <= bindparam("upto"))
    .order_by(_EVENTS.c.seq)
)
_TASK_EVENTS = (
    select(_EVENTS.c.seq, _EVENTS.c.at, _EVENTS.c.kind, _EVENTS.c.actor, _EVENTS.c.payload_json)
    .where(_EVENTS.c.case_id == bindparam("case_id"),
           _EVENTS.c.kind.in_(("human_task_created", "human_task_decided")))
    .order_by(_EVENTS.c.seq)
)
_CASE_TASKS = select(_TASKS).where(_TASKS.c.case_id == bindparam("case_id"))

_DIGEST_TAIL = len(',"state_digest":""}') + 64
_CLOCK_SLACK = timedelta(seconds=2)
"""Inbox rows written before their events shared one clock reading may differ by this much."""

_FIX = ("The case is not worked. Find out who changed the database, then restore the rows from a "
        "backup (or the state from the history: Store.rebuild_state); `casepilot history verify "
        "CASE_ID` names the first bad event.")


def state_payload(state: JsonObject) -> JsonObject:
    """The payload of a ``state`` event (or of ``case_created``'s state): the snapshot and its digest,
    which ``snapshot_problem`` checks ``state_json`` against."""
    return {"state": state, "state_digest": digest(state)}


def current_state(conn: Connection, row: Row[Any]) -> JsonObject:
    """The case's state now: its snapshot with the deltas since applied (no checks)."""
    state: JsonObject = loads_text(row.state_json)
    if row.version == row.snapshot_version:
        return state
    index: dict[tuple[str, ...], dict[Any, int]] = {}
    for (payload_json,) in conn.execute(_DELTAS, {"case_id": row.id, "after": row.snapshot_seq,
                                                  "upto": row.last_seq}):
        apply_ops(state, loads_text(payload_json).get("ops") or [], index)
    return state


def load_checked(conn: Connection, case_id: str) -> tuple[Row[Any], JsonObject] | None:
    """The case row and its current state, checked against the chain; None if there is no such case."""
    row = conn.execute(SELECT_CASE, {"case_id": case_id}).first()
    if row is None:
        return None
    tail = list(conn.execute(_TAIL, {"case_id": case_id, "after": row.snapshot_seq, "upto": row.last_seq}))
    problem = _tail_problem(row, tail) or inbox_problem(conn, case_id)
    if problem is not None:
        seq, why = problem
        raise StateTampered(f"case {case_id}: {why}. {_FIX}", case_id=case_id, sequence=seq)
    state: JsonObject = loads_text(row.state_json)
    index: dict[tuple[str, ...], dict[Any, int]] = {}
    for event in tail[1:]:
        if event.kind == "state_delta":
            apply_ops(state, loads_text(event.payload_json).get("ops") or [], index)
    return row, state


def snapshot_problem(row: Row[Any], snapshot: Row[Any] | None) -> tuple[int, str] | None:
    """Why ``state_json`` does not match the snapshot event that chains it (None: it does)."""
    seq = int(row.snapshot_seq)
    if snapshot is None or snapshot.seq != seq or snapshot.kind not in STATE_EVENT_KINDS:
        return seq, (f"the event that records its state snapshot (event {seq}) is missing or is not a "
                     "snapshot: cases.snapshot_seq was changed or the event removed")
    recorded = _recorded_digest(snapshot)
    stored = hashlib.sha256(row.state_json.encode("utf-8")).hexdigest()
    if recorded != stored:
        return seq, (f"its stored state (cases.state_json) differs from the snapshot recorded in event {seq} "
                     "(the digests differ): the row was edited outside casepilot")
    return None


def _recorded_digest(snapshot: Row[Any]) -> str | None:
    text: str = snapshot.payload_json
    if snapshot.kind == "state" and text.endswith('"}') and text[-_DIGEST_TAIL:].startswith(',"state_digest":"'):
        return text[-66:-2]
    found = loads_text(text).get("state_digest")
    return found if isinstance(found, str) else None


def _own_hash(event: Row[Any]) -> str:
    """The event's hash recomputed from its stored texts (canonical as the store writes them)."""
    body = event_body_text(case_id=event.case_id, seq=event.seq, at=utc_iso(event.at), kind=event.kind,
                           actor=event.actor, payload_text=event.payload_json, rule_ids_text=event.rule_ids_json,
                           tokens=event.tokens, cost=event.cost, latency_ms=event.latency_ms)
    return hashlib.sha256(event.prev_hash.encode("ascii") + body.encode("utf-8")).hexdigest()


def _intact(event: Row[Any]) -> bool:
    stored: str = event.hash
    return _own_hash(event) == stored or chain_hash(event.prev_hash, row_body(event)) == stored


def _tail_problem(row: Row[Any], tail: list[Row[Any]]) -> tuple[int, str] | None:
    """Why the snapshot and the events after it do not match the chain up to the case's head."""
    found = snapshot_problem(row, tail[0] if tail else None)
    if found is not None:
        return found
    previous = None
    for event in tail:
        if previous is not None and (event.seq != previous.seq + 1 or event.prev_hash != previous.hash):
            return event.seq, f"event {event.seq} does not follow event {previous.seq} in the chain"
        if not _intact(event):
            return event.seq, f"event {event.seq} was changed (its content no longer matches its hash)"
        previous = event
    assert previous is not None
    if previous.seq != row.last_seq or previous.hash != row.head_hash:
        return previous.seq, "its history does not end at the chain head recorded on the case"
    return None


# -- the inbox ------------------------------------------------------------------------------------

_CREATED_FIELDS = ("kind", "plan_item", "role", "prompt", "options", "expires_at", "action_digest")


def _row_fields(task: Row[Any]) -> dict[str, Any]:
    return {
        "kind": task.kind, "plan_item": task.plan_item, "role": task.role, "prompt": task.prompt,
        "options": list(loads_text(task.options_json)),
        "expires_at": None if task.expires_at is None else utc_iso(task.expires_at),
        "action_digest": task.action_digest, "status": task.status, "decision": task.decision,
        "comment": task.comment, "decided_by": task.decided_by,
    }


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(as_utc(a) - as_utc(b)) <= _CLOCK_SLACK


def inbox_problem(conn: Connection, case_id: str) -> tuple[int | None, str] | None:
    """Why the case's inbox rows differ from the events that created and closed them (None: they match).

    Every column of a ``human_tasks`` row is recorded by its ``human_task_created`` and
    ``human_task_decided`` events (times by the events' own timestamps), so an edited role,
    decision or status, an inserted row and a deleted one are all found.
    """
    expected: dict[str, dict[str, Any]] = {}
    for event in conn.execute(_TASK_EVENTS, {"case_id": case_id}):
        seq, at, kind, actor, payload_json = event.seq, event.at, event.kind, event.actor, event.payload_json
        payload = loads_text(payload_json)
        task_id = payload.get("task_id")
        if kind == "human_task_created":
            fields = {k: payload.get(k) for k in _CREATED_FIELDS}
            fields.update(status="open", decision=None, comment=None, decided_by=None)
            expected[task_id] = {"fields": fields, "seq": seq, "created_at": at, "decided_at": None}
            continue
        known = expected.get(task_id)
        if known is None:
            return seq, f"event {seq} closes inbox item {task_id}, which no event created"
        known["fields"].update(status=payload.get("status", known["fields"]["status"]),
                               decision=payload.get("decision"), comment=payload.get("comment"), decided_by=actor)
        known["seq"], known["decided_at"] = seq, at
    for task in conn.execute(_CASE_TASKS, {"case_id": case_id}):
        known = expected.pop(task.id, None)
        if known is None:
            return None, f"inbox item {task.id} was written outside casepilot (no event of the case records it)"
        actual = _row_fields(task)
        differs = sorted(k for k, v in known["fields"].items() if actual.get(k) != v)
        if not _close(task.created_at, known["created_at"]):
            differs.append("created_at")
        if not _close(task.decided_at, known["decided_at"]):
            differs.append("decided_at")
        if differs:
            return known["seq"], (f"inbox item {task.id} differs from what event {known['seq']} recorded "
                                  f"({', '.join(differs)}): the human_tasks row was edited outside casepilot")
    if expected:
        task_id, known = next(iter(expected.items()))
        return known["seq"], f"inbox item {task_id} recorded by event {known['seq']} was deleted from human_tasks"
    return None
