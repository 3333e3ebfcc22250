"""The statements of a step's hot path, built once and compiled once per dialect (``_driver_sql``).

Every agent step runs some of them: read (and on PostgreSQL lock) the case row's head, insert
the step's events, and compare-and-set the case row — with the new snapshot, or with the bytes
the step added to the events since the last one. Apart from ``Step`` so that the SQL a step
sends can be read in one place, and tested (``tests/store/test_step_transaction.py``) without
the step's staging logic.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, literal_column, select, update

from ._driver_sql import DriverStatement
from ._step_txn import MultiRowInsert
from ._tables import CaseRow, EventRow

__all__ = ["EVENT_COLUMNS", "INSERT_EVENTS", "SELECT_HEAD", "SELECT_HEAD_FOR_UPDATE",
           "UPDATE_HEAD_AND_STATE", "UPDATE_HEAD_AND_TAIL"]

_CASES = CaseRow.__table__  # type: ignore[attr-defined]
_EVENTS = EventRow.__table__  # type: ignore[attr-defined]

_HEAD = select(_CASES.c.version, _CASES.c.last_seq, _CASES.c.head_hash, _CASES.c.definition_key,
               _CASES.c.snapshot_version, _CASES.c.snapshot_bytes, _CASES.c.tail_bytes).where(
    _CASES.c.id == bindparam("case_id"))
SELECT_HEAD = DriverStatement(_HEAD)
"""The case row's head (``StepHead``'s columns, in its order)."""
SELECT_HEAD_FOR_UPDATE = DriverStatement(_HEAD.with_for_update())

EVENT_COLUMNS = ("case_id", "seq", "at", "kind", "actor", "payload_json", "rule_ids_json", "tokens", "cost",
                 "cost_nano", "latency_ms", "prev_hash", "hash")
INSERT_EVENTS = MultiRowInsert(_EVENTS, EVENT_COLUMNS)
"""A step's events (PostgreSQL: a few rows per statement, the last with the compare-and-set)."""

_ADVANCE: dict[str, Any] = {"version": bindparam("new_version"), "last_seq": bindparam("new_last_seq"),
                            "head_hash": bindparam("new_head_hash"), "updated_at": bindparam("new_updated_at")}
# The compare-and-set: the row is still at the version *and* the chain head this step's events
# were chained to (a head handed in by the caller is checked here, not trusted).
_ADVANCE_CASE = update(_CASES).where(
    _CASES.c.id == bindparam("case_id"), _CASES.c.version == bindparam("expected_version"),
    _CASES.c.head_hash == bindparam("expected_head_hash"),
)
# (The snapshot's sequence number is the new last one and its tail empty: no parameters of their
# own, which keeps three event rows and this update within psycopg's 50 cached parameters.)
UPDATE_HEAD_AND_STATE = DriverStatement(_ADVANCE_CASE.values(
    **_ADVANCE, state_json=bindparam("new_state_json"), snapshot_seq=bindparam("new_last_seq"),
    snapshot_version=bindparam("new_version"), snapshot_bytes=bindparam("new_snapshot_bytes"),
    tail_bytes=literal_column("0")))
"""The compare-and-set of a step that saved a snapshot: the new head and ``state_json``."""
UPDATE_HEAD_AND_TAIL = DriverStatement(_ADVANCE_CASE.values(
    **_ADVANCE, tail_bytes=_CASES.c.tail_bytes + bindparam("added_bytes")))
"""The compare-and-set of a step that saved a delta (or no state): the new head and tail size."""
