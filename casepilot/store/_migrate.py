"""Schema migrations (Alembic), run programmatically.

``upgrade`` serialises concurrent first starts: on PostgreSQL with a transaction-level
advisory lock, on SQLite with the write lock of ``BEGIN IMMEDIATE``. ``ensure_schema``
migrates an empty database on first use and refuses to touch an outdated one (that
is an operator's decision: ``casepilot db upgrade``).
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from casepilot.errors import StoreError

from ._engine import write_connection
from ._tables import metadata

__all__ = ["current_revision", "ensure_schema", "head_revision", "upgrade"]

VERSION_TABLE = "casepilot_alembic_version"
_MIGRATIONS = Path(__file__).parent / "migrations"
_ADVISORY_LOCK_KEY = 0x6361_7365_7069  # "casepi"


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise StoreError("the store has no migrations")
    return head


def current_revision(connection: Connection) -> str | None:
    ctx = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return ctx.get_current_revision()


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate to ``revision``; returns (revision before, revision after)."""
    with write_connection(engine) as conn, conn.begin():
        _lock(conn)
        before = current_revision(conn)
        command.upgrade(_config(conn), revision)
        after = current_revision(conn)
    return before, after


def ensure_schema(engine: Engine) -> None:
    """Migrate an empty database; fail clearly on one that is behind or not ours."""
    head = head_revision()
    with engine.connect() as conn:
        current = current_revision(conn)
        if current == head:
            return
        ours = set(metadata.tables) & set(inspect(conn).get_table_names())
    if current is None and not ours:
        upgrade(engine)
        return
    if current is None:
        raise StoreError(
            f"the database has casepilot tables ({', '.join(sorted(ours))}) but no migration record; "
            "it was not created by casepilot's migrations — use a fresh database"
        )
    raise StoreError(
        f"the database schema is at revision {current}, this casepilot needs {head}: run `casepilot db upgrade`"
    )
