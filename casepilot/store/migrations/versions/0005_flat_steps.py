"""Flat persisted steps, a running total of model spend, the indexes the hot reads need.

* ``cases.snapshot_seq`` / ``snapshot_version`` / ``snapshot_bytes`` / ``tail_bytes``:
  ``state_json`` is now the case's last *snapshot*, the event ``snapshot_seq`` records its
  digest in the hash chain, and the steps since add ``state_delta`` events (see
  ``store.history``); a new snapshot is due once the events since outweigh the last one.
  Existing cases: their ``state_json`` is the state of their last ``state`` (or
  ``case_created``) event, so that event is their snapshot.
* ``definition_spend``: what the cases of each definition spent on models (tokens, exact
  cost in billionths, calls), kept up to date in the step that records an ``llm_call``;
  the total-budget check reads one row instead of summing every event of every case.
  Filled here from the existing events (their float costs, where ``cost_nano`` is NULL,
  in ``legacy_cost``, exactly as ``llm_spend`` summed them).
* Indexes: ``cases.definition_key`` and ``history_events (case_id, kind)``.

Revision ID: 0005_flat_steps
Revises: 0004_case_leases
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_flat_steps"
down_revision: str | None = "0004_case_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD/DROP COLUMN on both backends (SQLite >= 3.35): recreating ``cases`` would trip the
    # foreign keys of its events.
    op.add_column("cases", sa.Column("snapshot_seq", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("cases", sa.Column("snapshot_version", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("cases", sa.Column("snapshot_bytes", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("cases", sa.Column("tail_bytes", sa.BigInteger(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE cases SET snapshot_version = version, snapshot_bytes = LENGTH(state_json), snapshot_seq = COALESCE(("
        "SELECT MAX(e.seq) FROM history_events e WHERE e.case_id = cases.id "
        "AND e.kind IN ('case_created', 'state')), 1)"
    )
    op.create_index("ix_cases_definition_key", "cases", ["definition_key"])
    op.create_index("ix_history_events_case_kind", "history_events", ["case_id", "kind"])
    op.create_table(
        "definition_spend",
        sa.Column("definition_key", sa.String(200), primary_key=True),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_nano", sa.BigInteger(), nullable=False),
        sa.Column("legacy_cost", sa.Float(), nullable=True),
        sa.Column("calls", sa.BigInteger(), nullable=False),
    )
    op.execute(
        "INSERT INTO definition_spend (definition_key, tokens, cost_nano, legacy_cost, calls) "
        "SELECT c.definition_key, COALESCE(SUM(e.tokens), 0), COALESCE(SUM(e.cost_nano), 0), "
        "SUM(CASE WHEN e.cost_nano IS NULL THEN e.cost END), COUNT(*) "
        "FROM history_events e JOIN cases c ON c.id = e.case_id WHERE e.kind = 'llm_call' "
        "GROUP BY c.definition_key"
    )


def downgrade() -> None:
    op.drop_table("definition_spend")
    op.drop_index("ix_history_events_case_kind", table_name="history_events")
    op.drop_index("ix_cases_definition_key", table_name="cases")
    op.drop_column("cases", "tail_bytes")
    op.drop_column("cases", "snapshot_bytes")
    op.drop_column("cases", "snapshot_version")
    op.drop_column("cases", "snapshot_seq")
