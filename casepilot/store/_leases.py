"""Case leases in the database: one worker per case at a time, across threads, processes and machines.

Two workers on one case paid a claim twice (issue 15): each planned on its own copy. A lease
is a row ``(case_id, owner, expires_at)`` taken with one atomic upsert that succeeds only
when the row is free, expired, or already the caller's; the optimistic version check on the
case stays as the second line of defence. A lease expires so that a dead worker's cases move
on; a live worker renews it while it works. Lease writes do not wait for the disk
(``_engine.relax_durability``): after a database crash every worker reconnects, and a lease
lost then is one nobody holds any more.

On PostgreSQL a lease write is one round trip: a single statement in autocommit (its own
implicit transaction, exactly as atomic as ``BEGIN``; statement; ``COMMIT``) that turns off
``synchronous_commit`` for that transaction itself — ``set_config(…, true)`` in a subquery it
joins, the same setting ``SET LOCAL`` makes, read when the transaction commits. It was four
(``BEGIN``, ``SET LOCAL``, the statement, ``COMMIT``), and every run of a case takes and gives
back its lease: two to three lease writes per case.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

from sqlalchemy import Engine, String, bindparam, delete, func, literal_column, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Subquery

from casepilot.store._driver_sql import DriverStatement
from casepilot.store._step_txn import ConnectionTransaction, SqliteTransaction, StepTransaction
from casepilot.store._tables import CaseLeaseRow

__all__ = ["acquire", "holder", "release", "renew"]

_LEASES = CaseLeaseRow.__table__  # type: ignore[attr-defined]


def _relaxed() -> Subquery:
    """``(SELECT set_config('synchronous_commit', 'off', true))``: joined by a PostgreSQL lease
    write, it relaxes that write's own transaction (a volatile function in a subquery's select
    list is evaluated, never optimised away; it runs before the row it joins is written)."""
    off = func.set_config(literal_column("'synchronous_commit'"), literal_column("'off'"), true())
    return select(off.label("relaxed")).subquery("relaxed")


def _acquire_statement(dialect: ModuleType) -> DriverStatement:
    expires = _LEASES.c.expires_at
    row = {"case_id": bindparam("case_id", type_=String), "owner": bindparam("owner", type_=String),
           "expires_at": bindparam("expires_at", type_=expires.type)}
    if dialect is postgresql:
        insert = dialect.insert(_LEASES).from_select(list(row), select(*row.values()).select_from(_relaxed()))
    else:
        insert = dialect.insert(_LEASES).values(**row)
    return DriverStatement(insert.on_conflict_do_update(
        index_elements=["case_id"],
        set_={"owner": insert.excluded.owner, "expires_at": insert.excluded.expires_at},
        where=or_(expires < bindparam("now", type_=expires.type), _LEASES.c.owner == bindparam("owner")),
    ).returning(_LEASES.c.owner))


def _renew_statement(dialect: ModuleType) -> DriverStatement:
    mine = [_LEASES.c.case_id == bindparam("case_id"), _LEASES.c.owner == bindparam("owner")]
    if dialect is postgresql:
        mine.append(_relaxed().c.relaxed.is_not(None))  # UPDATE … FROM (SELECT set_config(…)) relaxed
    return DriverStatement(update(_LEASES).where(*mine)
                           .values(expires_at=bindparam("expires_at", type_=_LEASES.c.expires_at.type)))


def _release_statement(dialect: ModuleType) -> DriverStatement:
    mine = [_LEASES.c.case_id == bindparam("case_id"), _LEASES.c.owner == bindparam("owner")]
    if dialect is postgresql:
        mine.append(_relaxed().c.relaxed.is_not(None))  # DELETE … USING (SELECT set_config(…)) relaxed
    return DriverStatement(delete(_LEASES).where(*mine))


# Built once, compiled once per dialect (``_driver_sql``): every run of a case takes and gives back
# its lease, and the heartbeat renews it.
_ACQUIRE = {"sqlite": _acquire_statement(sqlite), "postgresql": _acquire_statement(postgresql)}
_RENEW = {"sqlite": _renew_statement(sqlite), "postgresql": _renew_statement(postgresql)}
_RELEASE = {"sqlite": _release_statement(sqlite), "postgresql": _release_statement(postgresql)}


@contextmanager
def _lease_write(engine: Engine) -> Iterator[StepTransaction]:
    """A one-statement write of a lease row: on SQLite a short write transaction on the pooled
    driver connection (``_step_txn``); on PostgreSQL the statement in autocommit, its transaction
    not waiting for the disk (the statements relax it themselves; see the module docstring)."""
    if engine.dialect.name == "sqlite":
        with SqliteTransaction(engine) as txn:
            yield txn
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # a lease lost in a database crash is no lease: every worker reconnects
        yield ConnectionTransaction(conn)


def acquire(engine: Engine, case_id: str, owner: str, *, now: datetime, ttl: timedelta) -> bool:
    """Take the lease of ``case_id`` for ``owner`` until ``now + ttl``; False while another holds it."""
    params: dict[str, Any] = {"case_id": case_id, "owner": owner, "expires_at": now + ttl, "now": now}
    with _lease_write(engine) as txn:
        row = txn.first(_ACQUIRE[engine.dialect.name], params)
    return row is not None and row[0] == owner


def renew(engine: Engine, case_id: str, owner: str, *, now: datetime, ttl: timedelta) -> bool:
    """Extend ``owner``'s lease; False when it is no longer theirs (it expired and another took it)."""
    with _lease_write(engine) as txn:
        return txn.rowcount(_RENEW[engine.dialect.name], {"case_id": case_id, "owner": owner, "expires_at": now + ttl}) == 1


def release(engine: Engine, case_id: str, owner: str) -> None:
    """Give the lease back (only ``owner``'s own)."""
    with _lease_write(engine) as txn:
        txn.rowcount(_RELEASE[engine.dialect.name], {"case_id": case_id, "owner": owner})


def holder(engine: Engine, case_id: str, *, now: datetime) -> str | None:
    """Who holds a live lease on ``case_id`` now, if anyone."""
    with engine.connect() as conn:
        row = conn.execute(
            _LEASES.select().where(_LEASES.c.case_id == case_id, _LEASES.c.expires_at >= now)
        ).first()
    return None if row is None else str(row.owner)
