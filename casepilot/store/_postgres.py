"""What a PostgreSQL engine does to spend less of the database's CPU per case step.

Several workers share their cores with PostgreSQL, so every millisecond the database spends on
a step is one the workers cannot have (``bench/load.py`` measures both). Two things cost the
server most for what they did (measured with ``perf`` on the backends of a drain):

* **Planning statements again and again.** psycopg prepares a statement once a connection has
  run it five times, and the server then reuses its plan. But psycopg forgets every prepared
  statement at each ``ROLLBACK`` (and sends ``DEALLOCATE ALL``), and SQLAlchemy ends every read
  with one: the store's reads, its pooled connections' most common use, left the cache empty,
  and the same statements were parsed and planned at every step. A transaction that did not fail
  loses nothing the server prepared by rolling back (prepared statements belong to the session,
  not to the transaction), so ``_rollback_keeping_prepared`` ends such a transaction without
  telling psycopg to forget; a failed transaction is rolled back as before.
* **Compressing the case state.** A snapshot of the case state is written twice per step that
  takes one (the case row and its ``state`` event), and PostgreSQL compresses both with pglz.
  lz4 (PostgreSQL 14 and later, when the server is built with it, as Debian's and the official
  images are) compresses such JSON about as well for a fraction of the CPU; values written
  before stay readable, whichever method wrote them.

And one thing costs a round trip per use of a pooled connection: the pre-ping (``SELECT 1`` —
psycopg sends ``;``) that makes sure the connection still works. ``_ping_when_in_doubt`` pings
only a connection that may be broken: one whose socket has something to read (a server that
shuts down or terminates the session says so and closes it; a healthy idle connection receives
nothing) or one that sat unused long enough for a firewall to have dropped it silently. A
connection that fails that ping is replaced, as with SQLAlchemy's own pre-ping.
"""

from __future__ import annotations

import select
import time
from typing import Any

from sqlalchemy import Engine, event, exc

__all__ = ["IDLE_PING_SECONDS", "tune_postgres"]

IDLE_PING_SECONDS = 30.0
"""A pooled connection unused for this long is pinged before it is used again."""


def _rollback_keeping_prepared(dbapi_connection: Any) -> None:
    """Roll back; a transaction without an error keeps psycopg's prepared statements."""
    from psycopg import pq

    pgconn = dbapi_connection.pgconn
    if pgconn.transaction_status == pq.TransactionStatus.INTRANS:
        # Every statement of the transaction succeeded, so every statement psycopg counts as
        # prepared exists on the server, and a rollback does not remove it.
        result = pgconn.exec_(b"ROLLBACK")
        if result.status == pq.ExecStatus.COMMAND_OK:
            return
    dbapi_connection.rollback()  # an error, or a broken connection: psycopg's own (forgets, reports)


def _lz4_compression(dbapi_connection: Any, _record: object) -> None:
    """New values in this session's rows are compressed with lz4 where the server can."""
    import psycopg

    if dbapi_connection.info.server_version < 140000:
        return
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        dbapi_connection.execute("SET default_toast_compression TO lz4")
    except psycopg.Error:  # a server built without lz4: pglz, as before
        pass
    finally:
        dbapi_connection.autocommit = autocommit


def _in_doubt(dbapi_connection: Any, idle_since: float | None) -> bool:
    """Whether a pooled connection may be broken (see the module's docstring)."""
    if idle_since is not None and time.monotonic() - idle_since > IDLE_PING_SECONDS:
        return True
    try:
        readable, _, _ = select.select([dbapi_connection.pgconn.socket], [], [], 0)
    except Exception:  # no socket any more (closed, broken): certainly worth the ping
        return True
    return bool(readable)


def _ping_when_in_doubt(engine: Engine) -> None:
    """SQLAlchemy's pre-ping, for the connections ``_in_doubt`` finds may be broken only."""

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["casepilot_idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if not _in_doubt(dbapi_connection, record.info.get("casepilot_idle_since")):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as err:  # the pool replaces the connection and tries again
            raise exc.DisconnectionError(f"a pooled PostgreSQL connection no longer works: {err}") from err

    event.listen(engine.pool, "checkin", checkin)
    event.listen(engine.pool, "checkout", checkout)


def tune_postgres(engine: Engine) -> Engine:
    """Apply this module's savings to a PostgreSQL ``engine`` (psycopg 3) created without
    ``pool_pre_ping`` (it pings itself, when in doubt); returns it."""
    engine.dialect.do_rollback = _rollback_keeping_prepared  # type: ignore[method-assign]
    event.listen(engine, "connect", _lz4_compression)
    _ping_when_in_doubt(engine)
    return engine
