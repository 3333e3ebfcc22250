"""Case leases: one worker per case at a time.

A lease row says who works a case and until when; a worker takes it before it plans or
acts, renews it while it works and gives it back after. A lease whose worker died expires,
so the case moves on to another worker.

Revision ID: 0004_case_leases
Revises: 0003_exact_cost
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_case_leases"
down_revision: str | None = "0003_exact_cost"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_leases",
        sa.Column("case_id", sa.String(length=64), primary_key=True),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("case_leases")
