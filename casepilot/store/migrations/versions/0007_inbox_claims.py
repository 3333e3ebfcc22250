"""Claims on inbox items: who took an open item and since when (``casepilot.store._claims``).

Revision ID: 0007_inbox_claims
Revises: 0006_bigint_seq
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_inbox_claims"
down_revision: str | None = "0006_bigint_seq"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox_claims",
        sa.Column("task_id", sa.String(length=64), sa.ForeignKey("human_tasks.id"), primary_key=True),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_inbox_claims_case_id", "inbox_claims", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_inbox_claims_case_id", table_name="inbox_claims")
    op.drop_table("inbox_claims")
