"""A step's write transaction: SQLAlchemy's ``Connection``, or — on SQLite — the pooled DBAPI connection.

Why two: every agent step opens one write transaction and runs the same three statements in
it (read the case head, insert the events, compare-and-set the case row). On SQLite,
SQLAlchemy's ``Connection`` costs more than the statements themselves — its begin and commit
events, its per-statement execution context, its cursor wrapper: measured 124–138 µs for a
transaction with one statement against 24–30 µs on the same pooled DBAPI connection, a few
percent of an agent step. So on SQLite the step runs its hot statements on the DBAPI cursor
directly (``BEGIN IMMEDIATE`` as ever, the same compiled SQL and bind processors —
``DriverStatement``), and builds a ``Connection`` over the *same* DBAPI connection, inside the
same transaction, only when the step needs one (inbox rows through the ORM, jobs, spend
totals, a vault write joining the step): nothing changes for those paths. Errors surface as
SQLAlchemy's exception classes either way.

PostgreSQL keeps ``Connection`` throughout: its statements are round trips to a server, where
SQLAlchemy's share is small, and its row locks (``FOR UPDATE``) and durability settings go
through the same code as everywhere else. There a step writes its events with multi-row
``INSERT``s (``MultiRowInsert``, three rows each) instead of one per event, and its last events
in the same statement as the compare-and-set of the case row (``WITH new_rows AS (INSERT …)
UPDATE cases …``, ``insert_then_update``): psycopg's ``executemany`` sent the events in one round
trip, but the server still bound each and started an executor for it, and the update was a
round trip of its own. Those statements go to the server together, in psycopg's pipeline mode,
with the transaction's ``BEGIN`` when the step ran nothing before (a step that starts from a
known head: ``_step_head``): one round trip where there were two to four, and a wait for the server
— with the thread's GIL handed to another — each time. A statement fails as a whole, and any
failure fails the step's transaction, as before. SQLite stays with ``executemany`` on the
driver's cursor, where a statement costs no round trip and sqlite3 reuses its compiled
statement for every row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, insert
from sqlalchemy.engine import RootTransaction
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection

from ._driver_sql import DriverStatement
from ._engine import JOINED

__all__ = ["ConnectionTransaction", "MultiRowInsert", "SqliteTransaction", "StepTransaction", "read_first"]


_Names = tuple[tuple[tuple[str, str], ...], ...]
"""Per row of a multi-row statement, its columns' parameter names: ``(("case_id", "case_id_0"), …)``."""


class MultiRowInsert(DriverStatement):
    """An ``INSERT`` of some columns of a table: one row per execution as a ``DriverStatement``
    (SQLite's ``executemany``), or up to ``BATCH_ROWS`` rows per statement on PostgreSQL
    (``insert_rows``, ``insert_then``).

    Why three rows: psycopg converts a statement's ``%(name)s`` placeholders once and caches the
    result, but only for statements of at most 50 parameters; above that it converts them again
    at every execution, and that cost the worker more (0.2–0.5 ms a step) than the server saved.
    Three rows of 13 columns, with the compare-and-set of the case row (11 parameters at most),
    stay under it. (One statement of arrays, ``INSERT … SELECT * FROM unnest(…)``, keeps 13
    parameters whatever the rows, but psycopg escapes every quote of the JSON payloads in an
    array's text, at more cost still.) So a step of 7 events writes them and the case row with 3
    statements instead of 8, and a connection prepares 9 shapes: 1–3 rows, alone or with one of
    the step's two updates.
    """

    BATCH_ROWS = 3

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        super().__init__(insert(table), column_keys=columns)
        self._table = table
        self._columns = tuple(columns)
        self._batches: dict[int, tuple[DriverStatement, _Names]] = {}
        self._combined: dict[tuple[int, DriverStatement], tuple[DriverStatement, _Names]] = {}

    def _batch(self, n: int) -> tuple[DriverStatement, _Names]:
        found = self._batches.get(n)
        if found is None:
            names = tuple(tuple((column, f"{column}_{i}") for column in self._columns) for i in range(n))
            values = [{column: bindparam(name, type_=self._table.c[column].type) for column, name in row}
                      for row in names]
            # (A race between two threads compiles the same statement twice: harmless.)
            found = self._batches[n] = (DriverStatement(insert(self._table).values(values)), names)
        return found

    def _then(self, n: int, statement: DriverStatement) -> tuple[DriverStatement, _Names]:
        """``WITH new_rows AS (INSERT … n rows) <statement>``: one statement, one round trip."""
        key = (n, statement)  # (the key holds the statement: no other can take its place)
        found = self._combined.get(key)
        if found is None:
            batch, names = self._batch(n)
            combined = statement._statement.add_cte(batch._statement.cte("new_rows"))  # type: ignore[attr-defined]
            found = self._combined[key] = (DriverStatement(combined), names)
        return found

    @staticmethod
    def _params(rows: Sequence[Mapping[str, Any]], names: _Names, params: dict[str, Any]) -> dict[str, Any]:
        for row, row_names in zip(rows, names, strict=True):
            for column, name in row_names:
                params[name] = row[column]
        return params

    def _inserts(self, rows: Sequence[Mapping[str, Any]]) -> Iterator[tuple[DriverStatement, dict[str, Any]]]:
        """The statements inserting ``rows``, ``BATCH_ROWS`` rows each, in their order, with their parameters."""
        for start in range(0, len(rows), self.BATCH_ROWS):
            chunk = rows[start:start + self.BATCH_ROWS]
            statement, names = self._batch(len(chunk))
            yield statement, self._params(chunk, names, {})

    def insert_rows(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` with one statement per ``BATCH_ROWS`` rows, in their order."""
        for statement, params in self._inserts(rows):
            statement.execute(conn, params)

    def insert_then(self, rows: Sequence[Mapping[str, Any]], statement: DriverStatement,
                    params: Mapping[str, Any]) -> list[tuple[DriverStatement, dict[str, Any]]]:
        """The statements that insert ``rows`` and run ``statement`` (an ``UPDATE`` or ``DELETE``),
        the last rows and the statement as one (``_then``), each with its parameters."""
        last = len(rows) % self.BATCH_ROWS or self.BATCH_ROWS
        statements = list(self._inserts(rows[:-last]))
        combined, names = self._then(len(rows[-last:]), statement)
        statements.append((combined, self._params(rows[-last:], names, dict(params))))
        return statements


class StepTransaction:
    """What a ``Step`` writes through (see the module docstring)."""

    dialect_name: str

    def connection(self) -> Connection:
        """A SQLAlchemy connection inside this transaction (made on first use where that costs)."""
        raise NotImplementedError

    def first(self, statement: DriverStatement, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row of a query, or None."""
        raise NotImplementedError

    def rowcount(self, statement: DriverStatement, params: Mapping[str, Any]) -> int:
        """Run a statement; the number of rows it changed."""
        raise NotImplementedError

    def executemany(self, statement: DriverStatement, rows: Sequence[Mapping[str, Any]]) -> None:
        raise NotImplementedError

    def insert_then_update(self, events: DriverStatement, rows: Sequence[Mapping[str, Any]],
                           statement: DriverStatement, params: Mapping[str, Any]) -> int:
        """Insert ``rows`` (``events``), then run ``statement``: the number of rows it changed.
        (A step's last events and its compare-and-set of the case row, at commit.)"""
        if rows:
            self.executemany(events, rows)
        return self.rowcount(statement, params)


class ConnectionTransaction(StepTransaction):
    """A transaction already begun on a SQLAlchemy ``Connection`` (PostgreSQL)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect_name = conn.dialect.name

    def connection(self) -> Connection:
        return self._conn

    def first(self, statement: DriverStatement, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        row = statement.execute(self._conn, params).first()
        return None if row is None else tuple(row)

    def rowcount(self, statement: DriverStatement, params: Mapping[str, Any]) -> int:
        return int(statement.execute(self._conn, params).rowcount)

    def executemany(self, statement: DriverStatement, rows: Sequence[Mapping[str, Any]]) -> None:
        if isinstance(statement, MultiRowInsert) and self.dialect_name == "postgresql":
            statement.insert_rows(self._conn, rows)  # one statement, not one per row (module docstring)
            return
        statement.executemany(self._conn, rows)

    def insert_then_update(self, events: DriverStatement, rows: Sequence[Mapping[str, Any]],
                           statement: DriverStatement, params: Mapping[str, Any]) -> int:
        if rows and isinstance(events, MultiRowInsert) and self.dialect_name == "postgresql":
            return self._pipelined(events.insert_then(rows, statement, params))
        return super().insert_then_update(events, rows, statement, params)

    def _pipelined(self, statements: Sequence[tuple[DriverStatement, Mapping[str, Any]]]) -> int:
        """Run ``statements`` in one round trip (psycopg's pipeline mode; the transaction's
        ``BEGIN`` with them if nothing ran before): the number of rows the last one changed."""
        import psycopg

        driver = self._conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        prepared = [statement.prepared(self._conn.dialect, params) for statement, params in statements]
        sql, values = prepared[-1]
        cursor = driver.cursor()
        try:
            with driver.pipeline():
                for sql, values in prepared:
                    cursor.execute(sql, values)
            return int(cursor.rowcount)
        except psycopg.Error as exc:  # as SQLAlchemy would raise it (the step tells a lost race by it)
            raise DBAPIError.instance(sql, values, exc, psycopg.Error) from exc
        finally:
            cursor.close()


class SqliteTransaction(StepTransaction):
    """A ``BEGIN IMMEDIATE`` transaction on a pooled SQLite DBAPI connection.

    Use as a context manager: it begins on entry, commits when the block ends normally and rolls
    back when it raises; the connection goes back to the pool either way.
    """

    dialect_name = "sqlite"

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dbapi: PoolProxiedConnection = engine.raw_connection()
        self._cursor: Any = self._dbapi.cursor()
        self._conn: Connection | None = None
        self._sa_transaction: RootTransaction | None = None

    def __enter__(self) -> SqliteTransaction:
        try:
            self._run("BEGIN IMMEDIATE", ())
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _tb: object) -> None:
        try:
            if kind is None:
                self._end(commit=True)
            else:
                self._end(commit=False)
        finally:
            self._release()

    def connection(self) -> Connection:
        if self._conn is None:
            conn = Connection(self._engine, connection=self._dbapi)
            conn.execution_options(**{JOINED: True})
            self._sa_transaction = conn.begin()  # bookkeeping only: the transaction is already open
            self._conn = conn
        return self._conn

    def first(self, statement: DriverStatement, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        sql, values = statement.prepared(self._engine.dialect, params)
        row = self._run(sql, values).fetchone()
        return None if row is None else tuple(row)

    def rowcount(self, statement: DriverStatement, params: Mapping[str, Any]) -> int:
        sql, values = statement.prepared(self._engine.dialect, params)
        return int(self._run(sql, values).rowcount)

    def executemany(self, statement: DriverStatement, rows: Sequence[Mapping[str, Any]]) -> None:
        sql, many = statement.prepared_many(self._engine.dialect, rows)
        try:
            self._cursor.executemany(sql, many)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(sql, many, exc, sqlite3.Error) from exc

    def _run(self, sql: str, values: Any) -> Any:
        try:
            return self._cursor.execute(sql, values)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(sql, values, exc, sqlite3.Error) from exc

    def _end(self, *, commit: bool) -> None:
        if self._sa_transaction is not None:
            # The Connection's transaction ends the DBAPI transaction (sqlite3 commits or rolls
            # back the open transaction), so that SQLAlchemy's state agrees with the database's.
            if commit:
                self._sa_transaction.commit()
            else:
                self._sa_transaction.rollback()
            return
        if commit:
            self._run("COMMIT", ())
        elif self._dbapi.driver_connection is not None and self._dbapi.driver_connection.in_transaction:
            self._run("ROLLBACK", ())

    def _release(self) -> None:
        try:
            self._cursor.close()
        finally:
            if self._conn is not None:
                self._conn.close()  # gives the DBAPI connection back to the pool
            else:
                self._dbapi.close()


def read_first(engine: Engine, statement: DriverStatement, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The first row of a one-statement read, outside any transaction (a single statement reads
    one snapshot): on SQLite on a pooled DBAPI connection, for the reads every run makes."""
    if engine.dialect.name != "sqlite":
        with engine.connect() as conn:
            row = statement.execute(conn, params).first()
        return None if row is None else tuple(row)
    dbapi = engine.raw_connection()
    try:
        cursor = dbapi.cursor()
        sql, values = statement.prepared(engine.dialect, params)
        try:
            found = cursor.execute(sql, values).fetchone()
        except sqlite3.Error as exc:
            raise DBAPIError.instance(sql, values, exc, sqlite3.Error) from exc
        finally:
            cursor.close()
    finally:
        dbapi.close()
    return None if found is None else tuple(found)
