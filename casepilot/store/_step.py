"""The unit of work: one agent step = state change + events (+ inbox changes), atomically.

``Store.step`` opens a write transaction, locks the case row (``SELECT … FOR UPDATE``
on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already holds the database write lock),
checks the caller's expected version, lets the caller stage changes on a ``Step``,
then writes the events and compare-and-sets the case row in the same transaction.
Either the whole step lands or nothing does — also under SIGKILL, since the commit
is the database's.

Where the step starts — the case row's head, read and locked or handed over by the case's previous
step — is ``_step_head``'s; the statements it sends are ``_step_sql``'s.

A step records the new state either as a full snapshot (``save_state``) or as what it
changed (``save_changes``: a ``state_delta`` event) — see ``history`` for why. The store
writes a snapshot instead of a delta once the events since the last snapshot add up to
the snapshot's size (or after ``snapshot_every`` steps): a snapshot's cost grows with the
case, but so does the number of steps it pays for, so a step costs the same on average
at 100 or 10,000 plan items, and a load (which checks every event since the snapshot)
reads no more bytes of events than the snapshot holds. A step that records model
calls (``llm_call``) adds them to its definition's running total (``definition_spend``)
in the same transaction, so a total budget reads a handful of rows (the total is spread over
``SPEND_SHARDS`` rows, so that workers recording model calls for different cases of one
definition do not queue for one row lock).

Keep steps short: call models and tools *between* steps, then open a step to record
the outcome. A step holds the case's row lock on PostgreSQL and the database's write
lock on SQLite, where every other writer waits for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from . import _step_inbox as inbox
from ._canonical import as_utc, dumps_text, loads_text, utc_iso
from ._convert import case_record, event_body_text, trusted_event
from ._engine import bound_to_step, write_connection
from ._spend import add_spend, cost_nano
from ._state import SELECT_CASE, current_state
from ._step_head import StaleVersion, StepHead, lost_race, read_head
from ._step_sql import INSERT_EVENTS, UPDATE_HEAD_AND_STATE, UPDATE_HEAD_AND_TAIL
from ._step_txn import ConnectionTransaction, SqliteTransaction, StepTransaction
from ._tables import HumanTaskRow
from .models import Actor, CaseRecord, EventKind, HistoryEvent, HumanTask, JsonObject, NewEvent, StepResult

__all__ = ["StagedJob", "StaleVersion", "Step", "StepHead", "open_step"]


class StagedJob(Protocol):
    """Work a step makes due (e.g. a worker queue's job): written on the step's connection at commit."""

    def write(self, conn: Connection) -> None: ...


class Step:
    """Changes staged for one case inside one transaction; build it with ``Store.step``."""

    def __init__(
        self,
        txn: StepTransaction,
        head: tuple[str, int, int, str],
        clock: Callable[[], datetime],
        new_id: Callable[[], str],
        *,
        definition_key: str = "",
        snapshot_version: int = 0,
        snapshot_every: int = 1,
        snapshot_bytes: int = 0,
        tail_bytes: int = 0,
    ) -> None:
        self._txn = txn
        self._session: Session | None = None
        self._clock = clock
        self._new_id = new_id
        self._case_id, self._version, self._seq, self._head = head
        self._started_at_head = self._head
        self._definition_key = definition_key
        self._snapshot_version = snapshot_version
        self._snapshot_every = max(snapshot_every, 1)
        self._snapshot_bytes = snapshot_bytes
        self._tail_bytes = tail_bytes
        self._staged_bytes = 0
        self._ops: tuple[str, JsonObject] | None = None
        self._written: list[dict[str, Any]] = []
        self._case: CaseRecord | None = None
        self._pending: list[dict[str, Any]] = []
        self._events: list[HistoryEvent] = []
        self._new_state: JsonObject | None = None
        self._state_text = ""
        self._state_actor: Actor = "system"
        self._open = True
        self._jobs: list[StagedJob] = []
        self.result: StepResult | None = None
        """Set when the step has committed."""
        self.next_head: StepHead | None = None
        """Set when the step has committed: the case row as it left it (hand it to the next
        step of the case as ``head``)."""

    @property
    def case(self) -> CaseRecord:
        """The case as it was when the step began (its ``state`` is the state to apply the step to).

        Read on first use: most steps are opened by callers that hold the case already.
        """
        if self._case is None:
            self._check_open()
            conn = self._txn.connection()
            found = conn.execute(SELECT_CASE, {"case_id": self._case_id}).one()
            self._case = case_record(found).model_copy(update={"state": current_state(conn, found)})
        return self._case

    def _orm(self) -> Session:
        """An ORM session on the step's transaction, for inbox rows (opened when first needed)."""
        if self._session is None:
            self._session = Session(bind=self._txn.connection())
        return self._session

    def _close_session(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def _check_open(self) -> None:
        if not self._open:
            raise RuntimeError("this step has ended; open a new one with Store.step(case_id, version)")

    def save_state(self, state: JsonObject, *, actor: Actor = "system", owned: bool = False) -> None:
        """Stage the case's new state; at commit a ``state`` event records its snapshot and digest.

        ``owned``: the caller hands ``state`` over — plain JSON (text keys, lists, no tuples) made
        for this step, never changed after — so the staged event holds it as it is instead of a
        copy read back from its text (which a snapshot of every step of a small case would pay for).
        """
        self._check_open()
        # The canonical text is taken now: the snapshot event, its digest and the case row all use
        # it, so later changes to the caller's dict cannot slip into the snapshot. The event's
        # payload is a private copy of it too, unless the caller gave the dict away.
        self._state_text = dumps_text(state)
        self._new_state = state if owned else loads_text(self._state_text)
        self._state_actor = actor
        self._ops = None

    def snapshot_due(self, delta_bytes: int = 0) -> bool:
        """Whether this step writes a full snapshot rather than a delta of ``delta_bytes``: after
        ``snapshot_every`` steps, or once the events since the last snapshot outweigh it."""
        if self._version + 1 - self._snapshot_version >= self._snapshot_every:
            return True
        return self._tail_bytes + self._staged_bytes + delta_bytes >= self._snapshot_bytes

    def save_changes(self, ops: Sequence[Sequence[Any]], *, snapshot: Callable[[], JsonObject],
                     actor: Actor = "system", owned: bool = False) -> None:
        """Stage what the step changed in the state (``history.apply_ops`` operations).

        At commit a ``state_delta`` event records them — or, when a snapshot is due
        (``snapshot_due``), the full state from ``snapshot()`` is saved as by ``save_state``
        (``owned``: what ``snapshot()`` returns is handed over, see ``save_state``).
        """
        self._check_open()
        payload: JsonObject = {"ops": [list(op) for op in ops]}
        try:
            text = dumps_text(payload)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"the state changes are not JSON: {exc}") from exc
        if self.snapshot_due(len(text)):
            self.save_state(snapshot(), actor=actor, owned=owned)
            return
        self._ops = (text, loads_text(text))
        self._new_state = None
        self._state_actor = actor

    def append(
        self,
        kind: EventKind,
        *,
        actor: Actor = "system",
        payload: JsonObject | None = None,
        rule_ids: Sequence[str] = (),
        tokens: int | None = None,
        cost: Decimal | float | None = None,
        latency_ms: float | None = None,
        owned: bool = False,
    ) -> HistoryEvent:
        """Stage one history event; sequence, timestamp and hash are assigned here.

        ``owned``: the caller hands ``payload`` over — plain JSON (text keys, lists, no tuples)
        made for this event and never changed after — so the staged event holds it as it is
        instead of a copy read back from its canonical text (the agent's own events of every step).
        """
        return self.append_event(
            NewEvent(
                kind=kind,
                actor=actor,
                payload=payload or {},
                rule_ids=tuple(rule_ids),
                tokens=tokens,
                cost=cost,
                latency_ms=latency_ms,
            ),
            owned=owned,
        )

    def append_event(self, event: NewEvent, *, owned: bool = False) -> HistoryEvent:
        if event.kind in ("case_created", "state", "state_delta"):
            raise ValueError(f"{event.kind!r} events are written by the store itself (use save_state or save_changes)")
        return self._stage(event, owned=owned)

    def _stage(self, event: NewEvent, *, canonical: tuple[str, JsonObject] | None = None,
               at: datetime | None = None, owned: bool = False) -> HistoryEvent:
        """Stage ``event``; ``canonical`` is its payload's canonical text and parsed value when known;
        ``at`` its time when it records a row written with that time (an inbox item); ``owned``: see
        ``append``."""
        self._check_open()
        seq = self._seq + 1
        at = self._clock() if at is None else at
        if canonical is None:
            try:
                payload_text = dumps_text(event.payload)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"the payload of a {event.kind!r} event is not JSON: {exc}") from exc
            # Hash and return exactly what a reader will get back (tuples become lists, keys strings).
            payload = event.payload if owned else loads_text(payload_text)
        else:
            payload_text, payload = canonical
        rule_ids_text = dumps_text(list(event.rule_ids)) if event.rule_ids else "[]"
        # The hash covers the cost as a JSON number (as it always has); the exact amount goes
        # to ``cost_nano`` so that sums over many events stay exact.
        cost = float(event.cost) if event.cost is not None else None
        body_text = event_body_text(
            case_id=self._case_id,
            seq=seq,
            at=utc_iso(at),
            kind=event.kind,
            actor=event.actor,
            payload_text=payload_text,
            rule_ids_text=rule_ids_text,
            tokens=event.tokens,
            cost=cost,
            latency_ms=event.latency_ms,
        )
        new_hash = hashlib.sha256(self._head.encode("ascii") + body_text.encode("utf-8")).hexdigest()
        row: dict[str, Any] = {
            "case_id": self._case_id,
            "seq": seq,
            "at": as_utc(at),
            "kind": event.kind,
            "actor": event.actor,
            "payload_json": payload_text,
            "rule_ids_json": rule_ids_text,
            "tokens": event.tokens,
            "cost": cost,
            "cost_nano": cost_nano(event.cost),
            "latency_ms": event.latency_ms,
            "prev_hash": self._head,
            "hash": new_hash,
        }
        self._pending.append(row)
        self._staged_bytes += len(payload_text)
        # Every field is either computed here or comes from the validated ``NewEvent``:
        # constructing without validating again is safe and keeps the hot path cheap.
        staged = trusted_event(
            case_id=self._case_id,
            seq=seq,
            at=row["at"],
            kind=event.kind,
            actor=event.actor,
            payload=payload,
            rule_ids=event.rule_ids,
            tokens=event.tokens,
            cost=cost,
            latency_ms=event.latency_ms,
            prev_hash=self._head,
            hash=new_hash,
        )
        self._events.append(staged)
        self._seq = seq
        self._head = new_hash
        return staged

    def flush(self) -> None:
        """Write staged events now (still inside the transaction): surfaces database errors early."""
        if self._pending:
            self._txn.executemany(INSERT_EVENTS, self._pending)
            self._written += self._pending
            self._pending = []

    # -- the inbox (the rows: ``_step_inbox``) --------------------------------------------------

    def create_task(
        self,
        prompt: str,
        *,
        kind: Literal["human_task", "checkpoint"] = "human_task",
        plan_item: str | None = None,
        role: str | None = None,
        options: Sequence[str] = (),
        expires_at: datetime | None = None,
        action_digest: str | None = None,
        actor: Actor = "system",
        task_id: str | None = None,
    ) -> HumanTask:
        """Open an inbox item for this case and record ``human_task_created``."""
        self._check_open()
        created_at = self._clock()
        task = inbox.new_row(self._orm(), task_id=task_id or self._new_id(), case_id=self._case_id, prompt=prompt,
                             kind=kind, plan_item=plan_item, role=role, options=list(options),
                             created_at=created_at, expires_at=expires_at, action_digest=action_digest)
        self._stage(NewEvent(kind="human_task_created", actor=actor, payload=inbox.created_payload(task)),
                    at=created_at)
        return task

    def decide_task(self, task_id: str, *, decided_by: str, decision: str, comment: str | None = None) -> HumanTask:
        """Record a person's decision on an open, unexpired task of this case.

        The case's inbox rows are checked against the events that wrote them first: a decision
        on an item whose role or options were edited behind the store's back is refused
        (``StateTampered``), even by a worker holding the case in its cache.
        """
        self._check_open()
        inbox.refuse_tampered(self._txn.connection(), self._case_id)
        row = inbox.open_row(self._orm(), self._case_id, task_id)
        now = self._clock()
        inbox.check_decision(row, decision, now)
        return self._close(row, "decided", decided_by=decided_by, decision=decision, comment=comment, at=now)

    def close_task(self, task_id: str, status: Literal["expired", "cancelled"], *, actor: Actor = "system",
                   comment: str | None = None, decision: str | None = None) -> HumanTask:
        """Close an open task without a person's decision (expiry, or the plan item went away).

        ``decision`` is what the task resolves to by itself (an expired checkpoint's default),
        so one ``human_task_decided`` event records both that it expired and how it resolved.
        """
        self._check_open()
        row = inbox.open_row(self._orm(), self._case_id, task_id)
        return self._close(row, status, decided_by=actor, decision=decision, comment=comment, at=self._clock())

    def _close(self, row: HumanTaskRow, status: str, *, decided_by: str, decision: str | None,
               comment: str | None, at: datetime) -> HumanTask:
        task, payload = inbox.close_row(self._orm(), row, status, decided_by=decided_by, decision=decision,
                                        comment=comment, at=at)
        self._stage(NewEvent(kind="human_task_decided", actor=decided_by, payload=payload), at=at)
        return task

    # -- jobs -------------------------------------------------------------------------------------

    def enqueue(self, job: StagedJob) -> None:
        """Stage work this step makes due; it is written in the step's own transaction, at commit."""
        self._check_open()
        self._jobs.append(job)

    @property
    def staged_events(self) -> tuple[HistoryEvent, ...]:
        """The events staged so far (what a scheduler reads to know which jobs the step makes due)."""
        return tuple(self._events)

    def _write_jobs(self) -> None:
        for job in self._jobs:
            job.write(self._txn.connection())
        self._jobs = []

    # -- commit -----------------------------------------------------------------------------------

    def _commit(self, expected_version: int) -> StepResult:
        self._write_jobs()
        if self._new_state is not None:
            state_digest = hashlib.sha256(self._state_text.encode("utf-8")).hexdigest()
            payload = {"state": self._new_state, "state_digest": state_digest}
            # == dumps_text(payload): keys sorted ("state" < "state_digest"), no spaces.
            text = '{"state":' + self._state_text + ',"state_digest":"' + state_digest + '"}'
            self._stage(NewEvent(kind="state", actor=self._state_actor, payload=payload), canonical=(text, payload))
        elif self._ops is not None:
            self._stage(NewEvent(kind="state_delta", actor=self._state_actor, payload=self._ops[1]),
                        canonical=self._ops)
        if not self._events:
            self.result = StepResult(case_id=self._case_id, version=expected_version, events=())
            self.next_head = self._head_at(expected_version)
            return self.result
        # The last staged events go with the case row's compare-and-set (one statement on PostgreSQL).
        pending, self._pending = self._pending, []
        self._written += pending
        values: dict[str, Any] = {
            "case_id": self._case_id,
            "expected_version": expected_version,
            "expected_head_hash": self._started_at_head,
            "new_version": expected_version + 1,
            "new_last_seq": self._seq,
            "new_head_hash": self._head,
            "new_updated_at": self._clock(),
        }
        if self._new_state is not None:
            values["new_state_json"] = self._state_text
            values["new_snapshot_bytes"] = len(self._state_text)
            statement = UPDATE_HEAD_AND_STATE
        else:
            values["added_bytes"] = self._staged_bytes
            statement = UPDATE_HEAD_AND_TAIL
        if any(row["kind"] == "llm_call" for row in self._written):
            add_spend(self._txn.connection(), self._definition_key, self._case_id, self._written)
        if self._txn.insert_then_update(INSERT_EVENTS, pending, statement, values) != 1:
            raise StaleVersion(f"case {self._case_id} changed while this step ran; reload and retry")
        self.result = StepResult(case_id=self._case_id, version=expected_version + 1, events=tuple(self._events),
                                 updated_at=values["new_updated_at"])
        # The row's snapshot bookkeeping as the update just wrote it.
        if self._new_state is not None:
            self._snapshot_version, self._snapshot_bytes, self._tail_bytes = (
                expected_version + 1, len(self._state_text), 0)
        else:
            self._tail_bytes += self._staged_bytes
        self.next_head = self._head_at(expected_version + 1)
        return self.result

    def _head_at(self, version: int) -> StepHead:
        return StepHead(version, self._seq, self._head, self._definition_key, self._snapshot_version,
                        self._snapshot_bytes, self._tail_bytes)


@contextmanager
def open_step(
    engine: Engine, case_id: str, expected_version: int, clock: Callable[[], datetime], new_id: Callable[[], str],
    snapshot_every: int = 1, head: StepHead | None = None,
) -> Iterator[Step]:
    if engine.dialect.name == "sqlite":
        with SqliteTransaction(engine) as txn:
            yield from _run_step(engine, txn, case_id, expected_version, clock, new_id, snapshot_every, None)
        return
    with write_connection(engine) as conn, conn.begin():
        yield from _run_step(engine, ConnectionTransaction(conn), case_id, expected_version, clock, new_id,
                             snapshot_every, head)


def _run_step(
    engine: Engine, txn: StepTransaction, case_id: str, expected_version: int, clock: Callable[[], datetime],
    new_id: Callable[[], str], snapshot_every: int, head: StepHead | None,
) -> Iterator[Step]:
    """The step inside its open transaction: lock and check the case head (or take the ``head``
    the caller's previous step left, on PostgreSQL: see the module docstring), let the caller
    stage, write."""
    if head is None or head.version != expected_version:
        head = read_head(txn, case_id, expected_version)
    step = Step(txn, (case_id, head.version, head.last_seq, head.head_hash), clock, new_id,
                definition_key=head.definition_key, snapshot_version=head.snapshot_version,
                snapshot_every=snapshot_every, snapshot_bytes=head.snapshot_bytes, tail_bytes=head.tail_bytes)
    try:
        with bound_to_step(engine, txn.connection):
            yield step
        step._commit(expected_version)
    except DBAPIError as exc:
        if txn.dialect_name == "postgresql" and lost_race(exc):
            raise StaleVersion(f"case {case_id} changed while this step ran; reload and retry") from exc
        raise
    finally:
        step._open = False
        step._close_session()


