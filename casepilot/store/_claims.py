"""Claims on inbox items: "I am working on this one" — who took an open item and since when.

A claim coordinates people of one role so that two of them do not work the same item: the inbox
shows it, "my items" lists it, a colleague sees it taken. It is bookkeeping beside the item, like
a worker's lease on a case, not a decision: it is not in the case's hash-chained history and it
does not change who may decide (the item's role does; an item reassigned to a named person is
that person's alone, see ``casepilot.agent.operations.reassign``). Only an open item can be
claimed; a claim by someone else must be released first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from casepilot.errors import ConcurrencyConflict, NotFound

from ._canonical import as_utc
from ._engine import write_connection
from ._tables import HumanTaskRow

__all__ = ["InboxClaimRow", "claim", "claims", "release"]


class InboxClaimRow(SQLModel, table=True):
    """Who claimed an open inbox item (one claim per item; migration 0007)."""

    __tablename__ = "inbox_claims"

    task_id: str = Field(max_length=64, foreign_key="human_tasks.id", primary_key=True)
    case_id: str = Field(max_length=64, index=True)
    person: str = Field(max_length=200)
    claimed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


_CLAIMS = InboxClaimRow.__table__  # type: ignore[attr-defined]
_TASKS = HumanTaskRow.__table__  # type: ignore[attr-defined]


def claim(engine: Engine, task_id: str, person: str, now: datetime) -> tuple[str, datetime]:
    """Claim ``task_id`` for ``person`` (again is fine); (person, since). ``ConcurrencyConflict``
    when someone else holds it or the item is no longer open, ``NotFound`` when there is no such item."""
    with write_connection(engine) as conn, conn.begin():
        task = conn.execute(select(_TASKS.c.case_id, _TASKS.c.status).where(_TASKS.c.id == task_id)).first()
        if task is None:
            raise NotFound(f"inbox item {task_id} does not exist")
        if task.status != "open":
            raise ConcurrencyConflict(f"inbox item {task_id} is {task.status}; only open items can be claimed")
        held = conn.execute(select(_CLAIMS.c.person, _CLAIMS.c.claimed_at).where(_CLAIMS.c.task_id == task_id)).first()
        if held is not None:
            if held.person != person:
                raise ConcurrencyConflict(f"inbox item {task_id} is claimed by {held.person}; they or a colleague "
                                          "must release it first")
            return held.person, as_utc(held.claimed_at)
        try:
            conn.execute(insert(_CLAIMS).values(task_id=task_id, case_id=task.case_id, person=person, claimed_at=now))
        except IntegrityError as exc:  # claimed by another request in the meantime
            raise ConcurrencyConflict(f"inbox item {task_id} was claimed by someone else just now") from exc
        return person, now


def release(engine: Engine, task_id: str) -> str | None:
    """Drop the claim on ``task_id``; who held it (None when nobody did)."""
    with write_connection(engine) as conn, conn.begin():
        held = conn.execute(select(_CLAIMS.c.person).where(_CLAIMS.c.task_id == task_id)).scalar_one_or_none()
        conn.execute(delete(_CLAIMS).where(_CLAIMS.c.task_id == task_id))
        return held


def claims(engine: Engine, task_ids: list[str]) -> dict[str, tuple[str, datetime]]:
    """Claims on ``task_ids`` that are still open: task id -> (person, since). A claim on an item
    decided, expired or cancelled since is over and not returned."""
    if not task_ids:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(
            select(_CLAIMS.c.task_id, _CLAIMS.c.person, _CLAIMS.c.claimed_at)
            .join(_TASKS, _TASKS.c.id == _CLAIMS.c.task_id)
            .where(_CLAIMS.c.task_id.in_(task_ids), _TASKS.c.status == "open"))
        return {row.task_id: (row.person, as_utc(row.claimed_at)) for row in rows}
