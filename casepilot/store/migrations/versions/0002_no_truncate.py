"""History tables refuse TRUNCATE too.

Row-level triggers do not fire on ``TRUNCATE``, so on PostgreSQL ``TRUNCATE history_events``
passed the append-only triggers of 0001. A statement-level trigger refuses it. (SQLite has
no TRUNCATE; its ``DELETE`` without ``WHERE`` still fires the row trigger.) The store's own
database role needs no UPDATE, DELETE or TRUNCATE right on ``history_events`` at all: see
the README's GRANTs.

Revision ID: 0002_no_truncate
Revises: 0001_initial
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002_no_truncate"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER history_events_no_truncate BEFORE TRUNCATE ON history_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION casepilot_history_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS history_events_no_truncate ON history_events")
