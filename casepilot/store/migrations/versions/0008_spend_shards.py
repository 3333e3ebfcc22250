"""``definition_spend`` spread over shards: (definition_key, shard) is the key.

A step that records a model call upserts its definition's running total and holds that
row's lock until it commits; with one row per definition, workers recording model calls
for different cases of one definition queued for it. Each case now adds to one of
``SPEND_SHARDS`` rows (``casepilot.store._tables.spend_shard``); the existing totals become
shard 0. The table is rebuilt (a new primary key), the same way on both backends.

Revision ID: 0008_spend_shards
Revises: 0007_inbox_claims
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_spend_shards"
down_revision: str | None = "0007_inbox_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = "tokens, cost_nano, legacy_cost, calls"


def _create(name: str, *, sharded: bool) -> None:
    key: list[sa.Column[object]] = [sa.Column("definition_key", sa.String(200), primary_key=True)]
    if sharded:
        key.append(sa.Column("shard", sa.Integer(), primary_key=True))
    op.create_table(
        name,
        *key,
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_nano", sa.BigInteger(), nullable=False),
        sa.Column("legacy_cost", sa.Float(), nullable=True),
        sa.Column("calls", sa.BigInteger(), nullable=False),
    )


def upgrade() -> None:
    _create("definition_spend_sharded", sharded=True)
    op.execute(f"INSERT INTO definition_spend_sharded (definition_key, shard, {_COLUMNS}) "
               f"SELECT definition_key, 0, {_COLUMNS} FROM definition_spend")
    op.drop_table("definition_spend")
    op.rename_table("definition_spend_sharded", "definition_spend")


def downgrade() -> None:
    _create("definition_spend_single", sharded=False)
    op.execute(f"INSERT INTO definition_spend_single (definition_key, {_COLUMNS}) "
               "SELECT definition_key, SUM(tokens), SUM(cost_nano), SUM(legacy_cost), SUM(calls) "
               "FROM definition_spend GROUP BY definition_key")
    op.drop_table("definition_spend")
    op.rename_table("definition_spend_single", "definition_spend")
