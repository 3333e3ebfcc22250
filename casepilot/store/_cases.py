"""Cases and their history as reads and the creating write."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Connection, Engine, Select, bindparam, case, func, insert
from sqlalchemy import select as select_core
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from casepilot.errors import NotFound, StoreError

from ._canonical import GENESIS_HASH, as_utc, chain_hash, dumps_text, utc_iso
from ._convert import EventLike, case_record, event_body, history_event, human_task
from ._definitions import find_row
from ._driver_sql import DriverStatement
from ._engine import write_connection
from ._spend import NANO
from ._state import current_state, inbox_problem, load_checked, snapshot_problem, state_payload
from ._step_txn import read_first
from ._tables import CaseRow, DefinitionSpendRow, EventRow, HumanTaskRow
from .models import Actor, CaseRecord, HistoryEvent, HumanTask, JsonObject, TaskStatus

__all__ = ["create_case", "get_case", "get_task", "iter_event_rows", "iter_events", "list_cases", "list_tasks", "llm_spend", "llm_spend_from_events", "load_case", "max_seq", "rows_problem"]

_EVENTS = EventRow.__table__  # type: ignore[attr-defined]
_TASKS = HumanTaskRow.__table__  # type: ignore[attr-defined]
_CASES = CaseRow.__table__  # type: ignore[attr-defined]
_SPEND = DefinitionSpendRow.__table__  # type: ignore[attr-defined]


def create_case(
    engine: Engine,
    *,
    case_id: str,
    definition_key: str,
    definition_version: int | None,
    state: JsonObject,
    business_key: str | None,
    tenant: str | None,
    actor: Actor,
    now: datetime,
) -> CaseRecord:
    """Insert the case and its ``case_created`` event (seq 1, carrying the initial state)."""
    state_text = dumps_text(state)
    try:
        with write_connection(engine) as conn, conn.begin(), Session(bind=conn) as session:
            definition = find_row(session, definition_key, definition_version)
            assert definition.id is not None
            payload = {
                "definition_key": definition.key,
                "definition_version": definition.version,
                "business_key": business_key,
                "tenant": tenant,
                **state_payload(state),
            }
            body = event_body(case_id=case_id, seq=1, at=utc_iso(now), kind="case_created", actor=actor,
                              payload=payload, rule_ids=[], tokens=None, cost=None, latency_ms=None)
            head = chain_hash(GENESIS_HASH, body)
            row = CaseRow(
                id=case_id,
                definition_id=definition.id,
                definition_key=definition.key,
                definition_version=definition.version,
                state_json=state_text,
                business_key=business_key,
                tenant=tenant,
                created_at=now,
                updated_at=now,
                version=1,
                last_seq=1,
                head_hash=head,
                snapshot_bytes=len(state_text),
            )
            session.add(row)
            session.flush()
            conn.execute(
                insert(_EVENTS),
                [{"case_id": case_id, "seq": 1, "at": as_utc(now), "kind": "case_created", "actor": actor,
                  "payload_json": dumps_text(payload), "rule_ids_json": "[]", "tokens": None, "cost": None,
                  "latency_ms": None, "prev_hash": GENESIS_HASH, "hash": head}],
            )
            return case_record(row)
    except IntegrityError as exc:
        raise StoreError(f"case {case_id} already exists") from exc


def get_case(engine: Engine, case_id: str) -> CaseRecord:
    """The case with its current state (snapshot + deltas), read in one transaction."""
    with _consistent(engine) as conn, conn.begin():
        row = conn.execute(select_core(_CASES).where(_CASES.c.id == case_id)).first()
        if row is None:
            raise NotFound(f"case {case_id} does not exist")
        return case_record(row).model_copy(update={"state": current_state(conn, row)})


def _consistent(engine: Engine) -> Connection:
    """A connection whose transaction reads one snapshot of the database throughout.

    The load check compares rows with events read by separate statements; under PostgreSQL's
    default READ COMMITTED a step committing in between (a new inbox item: its row but not
    its event seen) would look like tampering. SQLite's read transactions are snapshots anyway.
    """
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


def load_case(engine: Engine, case_id: str) -> CaseRecord:
    """The case to work, checked against its hash chain (``StateTampered`` if it does not match)."""
    with _consistent(engine) as conn, conn.begin():
        found = load_checked(conn, case_id)
    if found is None:
        raise NotFound(f"case {case_id} does not exist")
    row, state = found
    return case_record(row).model_copy(update={"state": state})


def rows_problem(engine: Engine, case_id: str) -> tuple[int | None, str] | None:
    """Why the case row's state or its inbox rows differ from the (verified) chain; None if they match."""
    with _consistent(engine) as conn, conn.begin():
        row = conn.execute(select_core(_CASES).where(_CASES.c.id == case_id)).first()
        if row is None:
            raise NotFound(f"case {case_id} does not exist")
        snapshot = conn.execute(
            select_core(_EVENTS).where(_EVENTS.c.case_id == case_id, _EVENTS.c.seq == row.snapshot_seq)).first()
        found = snapshot_problem(row, snapshot)
        return found if found is not None else inbox_problem(conn, case_id)


def llm_spend(engine: Engine, definition_key: str) -> tuple[int, Decimal, int]:
    """Tokens, cost (exact) and number of ``llm_call`` events over every case of a definition.

    Read from the running total the steps keep (``definition_spend``, at most ``SPEND_SHARDS``
    rows), whatever the number of cases. Costs are summed as integer billionths, exactly on
    every backend; events without an exact amount count with their recorded float cost.
    """
    with engine.connect() as conn:
        rows = conn.execute(
            select_core(_SPEND.c.tokens, _SPEND.c.cost_nano, _SPEND.c.legacy_cost, _SPEND.c.calls)
            .where(_SPEND.c.definition_key == definition_key)
        ).all()
    tokens = sum(int(r.tokens) for r in rows)
    cost = Decimal(sum(int(r.cost_nano) for r in rows)) * NANO
    for row in rows:
        if row.legacy_cost is not None:
            cost += Decimal(str(row.legacy_cost))
    return tokens, cost, sum(int(r.calls) for r in rows)


def llm_spend_from_events(engine: Engine, definition_key: str) -> tuple[int, Decimal, int]:
    """``llm_spend`` summed from the events themselves (to check the running total against)."""
    query = (
        select_core(
            func.coalesce(func.sum(_EVENTS.c.tokens), 0),
            func.coalesce(func.sum(_EVENTS.c.cost_nano), 0),
            func.sum(case((_EVENTS.c.cost_nano.is_(None), _EVENTS.c.cost), else_=None)),
            func.count(),
        )
        .select_from(_EVENTS.join(_CASES, _EVENTS.c.case_id == _CASES.c.id))
        .where(_CASES.c.definition_key == definition_key, _EVENTS.c.kind == "llm_call")
    )
    with engine.connect() as conn:
        tokens, nano, legacy, calls = conn.execute(query).one()
    cost = Decimal(int(nano)) * NANO
    if legacy is not None:
        cost += Decimal(str(legacy))
    return int(tokens), cost, int(calls)


_VERSION = DriverStatement(select_core(_CASES.c.version).where(_CASES.c.id == bindparam("case_id")))
"""Read at the start of every run (is this thread's copy of the case current?): compiled once."""


def case_version(engine: Engine, case_id: str) -> int:
    found = read_first(engine, _VERSION, {"case_id": case_id})
    if found is None:
        raise NotFound(f"case {case_id} does not exist")
    return int(found[0])


def list_cases(
    engine: Engine,
    *,
    tenant: str | None = None,
    business_key: str | None = None,
    definition_key: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[CaseRecord]:
    query = select(CaseRow)
    if tenant is not None:
        query = query.where(CaseRow.tenant == tenant)
    if business_key is not None:
        query = query.where(CaseRow.business_key == business_key)
    if definition_key is not None:
        query = query.where(CaseRow.definition_key == definition_key)
    with Session(engine) as session:
        rows = session.exec(
            query.order_by(col(CaseRow.created_at), col(CaseRow.id)).offset(offset).limit(limit)).all()
        conn = session.connection()
        return [case_record(r) if r.version == r.snapshot_version
                else case_record(r).model_copy(update={"state": current_state(conn, cast(Any, r))}) for r in rows]


def iter_event_rows(
    engine: Engine, case_id: str, *, after_seq: int = 0, batch: int = 1000
) -> Iterator[EventLike]:
    """Rows in ``seq`` order, a page per short transaction (keyset pagination, never OFFSET)."""
    last = after_seq
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select_core(_EVENTS)
                .where(_EVENTS.c.case_id == case_id, _EVENTS.c.seq > last)
                .order_by(_EVENTS.c.seq)
                .limit(batch)
            ).all()
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1].seq


def max_seq(engine: Engine, case_id: str) -> int:
    """The highest event sequence number stored for the case (0 if none)."""
    with engine.connect() as conn:
        found = conn.execute(select_core(func.max(_EVENTS.c.seq)).where(_EVENTS.c.case_id == case_id)).scalar()
    return int(found or 0)


def iter_events(engine: Engine, case_id: str, *, after_seq: int = 0) -> Iterator[HistoryEvent]:
    for row in iter_event_rows(engine, case_id, after_seq=after_seq):
        yield history_event(row)


def get_task(engine: Engine, task_id: str) -> HumanTask:
    with Session(engine) as session:
        row = session.get(HumanTaskRow, task_id)
        if row is None:
            raise NotFound(f"task {task_id} does not exist")
        return human_task(row)


def list_tasks(
    engine: Engine,
    *,
    status: TaskStatus | None = "open",
    role: str | None = None,
    case_id: str | None = None,
    expired_before: datetime | None = None,
    limit: int = 100,
) -> list[HumanTask]:
    # Core, not the ORM: the inbox is read at the end of every run and by every inbox request, and
    # rows need no identity map (measured 0.12 ms against 0.53 ms for a case's open tasks on SQLite).
    params = {"expired_before": expired_before, "status": status, "role": role, "case_id": case_id, "limit": limit}
    query = _tasks_query(expired_before is not None, status is not None, role is not None, case_id is not None)
    with engine.connect() as conn:
        rows = conn.execute(query, params).all()
    return [human_task(r) for r in rows]


@functools.cache
def _tasks_query(expired: bool, status: bool, role: bool, for_case: bool) -> Select[Any]:
    """The inbox query for one combination of filters, built once (building the Core statement
    again on every call cost more than running it)."""
    tasks = _TASKS
    query = select_core(tasks)
    if expired:
        query = query.where(tasks.c.expires_at <= bindparam("expired_before"))
    if status:
        query = query.where(tasks.c.status == bindparam("status"))
    if role:
        query = query.where(tasks.c.role == bindparam("role"))
    if for_case:
        query = query.where(tasks.c.case_id == bindparam("case_id"))
    return query.order_by(tasks.c.created_at, tasks.c.id).limit(bindparam("limit"))



def anchors(
    engine: Engine, *, definition_key: str | None = None, batch: int = 1000
) -> Iterator[tuple[str, int, str]]:
    """(case id, last seq, head hash) of every case with events, in id order, a page at a time."""
    last = ""
    while True:
        query = select_core(_CASES.c.id, _CASES.c.last_seq, _CASES.c.head_hash).where(
            _CASES.c.id > last, _CASES.c.last_seq > 0
        )
        if definition_key is not None:
            query = query.where(_CASES.c.definition_key == definition_key)
        with engine.connect() as conn:
            rows = conn.execute(query.order_by(_CASES.c.id).limit(batch)).all()
        for case_id, seq, head in rows:
            yield str(case_id), int(seq), str(head)
        if len(rows) < batch:
            return
        last = str(rows[-1][0])


def event_hash(engine: Engine, case_id: str, seq: int) -> str | None:
    """The stored hash of event ``seq`` of the case, None when there is no such event."""
    with engine.connect() as conn:
        found = conn.execute(
            select_core(_EVENTS.c.hash).where(_EVENTS.c.case_id == case_id, _EVENTS.c.seq == seq)
        ).scalar()
    return None if found is None else str(found)
