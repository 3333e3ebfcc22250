"""Case leases in the database: one worker per case at a time, across threads, processes and machines.

Two workers on one case paid a claim twice (issue 15): each planned on its own copy. A lease
is a row ``(case_id, owner, expires_at)`` taken with one atomic upsert that succeeds only
when the row is free, expired, or already the caller's; the optimistic version check on the
case stays as the second line of defence. A lease expires so that a dead worker's cases move
on; a live worker renews it while it works. Lease writes do not wait for the disk
(``_engine.relax_durability``): after a database crash every worker reconnects, and a lease
lost then is one nobody holds any more.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite

from casepilot.store._engine import relax_durability, write_connection
from casepilot.store._tables import CaseLeaseRow

__all__ = ["acquire", "holder", "release", "renew"]

_LEASES = CaseLeaseRow.__table__  # type: ignore[attr-defined]


def acquire(engine: Engine, case_id: str, owner: str, *, now: datetime, ttl: timedelta) -> bool:
    """Take the lease of ``case_id`` for ``owner`` until ``now + ttl``; False while another holds it."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(_LEASES).values(case_id=case_id, owner=owner, expires_at=now + ttl)
    statement = insert.on_conflict_do_update(
        index_elements=["case_id"],
        set_={"owner": insert.excluded.owner, "expires_at": insert.excluded.expires_at},
        where=or_(_LEASES.c.expires_at < now, _LEASES.c.owner == owner),
    ).returning(_LEASES.c.owner)
    with write_connection(engine) as conn, conn.begin():
        relax_durability(conn)  # a lease lost in a database crash is no lease: every worker reconnects
        row = conn.execute(statement).first()
    return row is not None and row[0] == owner


def renew(engine: Engine, case_id: str, owner: str, *, now: datetime, ttl: timedelta) -> bool:
    """Extend ``owner``'s lease; False when it is no longer theirs (it expired and another took it)."""
    statement = (update(_LEASES).where(_LEASES.c.case_id == case_id, _LEASES.c.owner == owner)
                 .values(expires_at=now + ttl))
    with write_connection(engine) as conn, conn.begin():
        relax_durability(conn)
        return conn.execute(statement).rowcount == 1


def release(engine: Engine, case_id: str, owner: str) -> None:
    """Give the lease back (only ``owner``'s own)."""
    with write_connection(engine) as conn, conn.begin():
        relax_durability(conn)  # lost in a crash: the lease expires
        conn.execute(delete(_LEASES).where(_LEASES.c.case_id == case_id, _LEASES.c.owner == owner))


def holder(engine: Engine, case_id: str, *, now: datetime) -> str | None:
    """Who holds a live lease on ``case_id`` now, if anyone."""
    with engine.connect() as conn:
        row = conn.execute(
            _LEASES.select().where(_LEASES.c.case_id == case_id, _LEASES.c.expires_at >= now)
        ).first()
    return None if row is None else str(row.owner)
