"""Alembic environment for the casepilot store.

The store runs migrations programmatically and hands its open connection in
``config.attributes["connection"]``; the ``sqlalchemy.url`` option is the fallback
for running the ``alembic`` command by hand against a database.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from casepilot.store._tables import metadata

VERSION_TABLE = "casepilot_alembic_version"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and no sqlalchemy.url configured")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


_main()
