"""64-bit sequence numbers: ``history_events.seq`` and the columns that hold one, on PostgreSQL.

Every event of a case takes the next ``seq``, and ``cases.last_seq`` / ``cases.snapshot_seq``
name one. They were ``integer`` — 32 bits on PostgreSQL, so a long-lived case (a timer
firing every second for 68 years, or a chatty one much sooner) would stop at 2,147,483,647
events, and the API had to bound ``after_seq`` to that. Now they are ``bigint``. SQLite's
INTEGER is 64 bits already, so nothing changes there.

PostgreSQL rewrites the tables for this (an ``ACCESS EXCLUSIVE`` lock while it runs): on a
large store, run ``casepilot db upgrade`` in a maintenance window.

Revision ID: 0006_bigint_seq
Revises: 0005_flat_steps
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_bigint_seq"
down_revision: str | None = "0005_flat_steps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (("history_events", "seq"), ("cases", "last_seq"), ("cases", "snapshot_seq"))


def _alter(to: sa.types.TypeEngine[int], was: sa.types.TypeEngine[int]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite: INTEGER holds 64 bits
    present = {(t, c["name"]) for t in {t for t, _ in _COLUMNS} for c in sa.inspect(bind).get_columns(t)}
    for table, column in _COLUMNS:
        if (table, column) in present:
            op.alter_column(table, column, type_=to, existing_type=was, existing_nullable=False)


def upgrade() -> None:
    _alter(sa.BigInteger(), sa.Integer())


def downgrade() -> None:
    _alter(sa.Integer(), sa.BigInteger())  # fails, saying so, if a value no longer fits 32 bits
