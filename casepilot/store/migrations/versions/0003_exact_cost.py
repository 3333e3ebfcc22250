"""Exact money: ``history_events.cost_nano``, the cost in integer billionths.

Costs used to be summed as floats (``llm_spend``), so a budget compared a rounded sum.
The new column holds each event's cost exactly (rounded up to a billionth) and sums
exactly in SQL on SQLite and PostgreSQL alike. Existing events keep NULL there — the
history is append-only, so they are not rewritten — and are summed from their float
``cost`` as before. The ``cost`` column stays: the hash chain covers it.

Revision ID: 0003_exact_cost
Revises: 0002_no_truncate
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_exact_cost"
down_revision: str | None = "0002_no_truncate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("history_events", sa.Column("cost_nano", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("history_events", "cost_nano")
