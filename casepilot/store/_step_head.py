"""Where a step starts: the case row's head — read and locked, or handed over by the previous step.

A step opens on the case's version, chain head and snapshot bookkeeping (``StepHead``). It
reads them from the case row, locked for the step on PostgreSQL (``SELECT … FOR UPDATE``;
SQLite's ``BEGIN IMMEDIATE`` already holds the database write lock) — or, when the caller
wrote the case's previous step, takes that step's ``next_head`` (``head=``; the agent's
``StepWriter`` does) and does not read and lock the row first: a round trip and a row lock (a
WAL record) per step, about a tenth of a worker's statements. Nothing is weaker for it: the
compare-and-set of the row at commit still refuses a step on a version that is no longer
current, and should another writer have appended since, the step's first event collides with
that writer's in the history's unique ``(case_id, seq)`` — either way the step fails with
``StaleVersion`` (``lost_race`` tells the collision from other errors) and nothing of it lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy.exc import DBAPIError

from casepilot.errors import ConcurrencyConflict, NotFound

from ._step_sql import SELECT_HEAD, SELECT_HEAD_FOR_UPDATE
from ._step_txn import StepTransaction

__all__ = ["StaleVersion", "StepHead", "lost_race", "read_head"]


@dataclass(frozen=True, slots=True)
class StepHead:
    """The case row's columns a step reads before it starts: the version, the chain head and the
    snapshot bookkeeping. ``Step.next_head`` gives them as the step left them."""

    version: int
    last_seq: int
    head_hash: str
    definition_key: str
    snapshot_version: int
    snapshot_bytes: int
    tail_bytes: int


class StaleVersion(ConcurrencyConflict):
    """The case is not at the version the step was opened with (safe to reload and retry)."""


_LOST_RACE_SQLSTATES = frozenset({"40P01"})
"""A deadlock: the database rolled this step back for another writer (safe to reload and retry).
Two writers of one case do not deadlock each other — the first event of a step from a known head
takes the foreign key's share lock on the case row, which a locking writer waits for — but a
step's own statements on other rows (inbox, spend) might."""
_HISTORY_SEQ_UNIQUE = "uq_history_events_case_seq"


def lost_race(exc: DBAPIError) -> bool:
    """Whether a PostgreSQL error says another writer appended to the case while this step ran."""
    state = getattr(exc.orig, "sqlstate", None)
    if state in _LOST_RACE_SQLSTATES:
        return True
    diag = getattr(exc.orig, "diag", None)
    return state == "23505" and getattr(diag, "constraint_name", None) == _HISTORY_SEQ_UNIQUE


def read_head(txn: StepTransaction, case_id: str, expected_version: int) -> StepHead:
    """The case row's head, locked for the step on PostgreSQL; ``StaleVersion`` if not at ``expected_version``."""
    query = SELECT_HEAD_FOR_UPDATE if txn.dialect_name == "postgresql" else SELECT_HEAD
    found = txn.first(query, {"case_id": case_id})
    if found is None:
        raise NotFound(f"case {case_id} does not exist")
    head = StepHead(*cast("tuple[int, int, str, str, int, int, int]", found))
    if head.version != expected_version:
        raise StaleVersion(
            f"case {case_id} is at version {head.version}, not {expected_version}: another worker moved it; "
            "reload and retry"
        )
    return head
