"""Initial schema: definitions, cases, hash-chained history, human tasks, pseudonym vault.

The history table is append-only at the database level too (triggers refuse UPDATE
and DELETE): the hash chain detects tampering, the triggers stop honest mistakes.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "definitions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("meta_json", sa.Text(), nullable=False),
        _ts("deployed_at"),
        sa.UniqueConstraint("key", "version", name="uq_definitions_key_version"),
    )
    op.create_index("ix_definitions_key", "definitions", ["key"])
    op.create_table(
        "definition_files",
        sa.Column("definition_id", sa.Integer(), sa.ForeignKey("definitions.id"), primary_key=True),
        sa.Column("name", sa.String(500), primary_key=True),
        sa.Column("is_text", sa.Boolean(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("definition_id", sa.Integer(), sa.ForeignKey("definitions.id"), nullable=False),
        sa.Column("definition_key", sa.String(200), nullable=False),
        sa.Column("definition_version", sa.Integer(), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("business_key", sa.String(200), nullable=True),
        sa.Column("tenant", sa.String(200), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_cases_definition_id", "cases", ["definition_id"])
    op.create_index("ix_cases_business_key", "cases", ["business_key"])
    op.create_index("ix_cases_tenant", "cases", ["tenant"])
    op.create_table(
        "history_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        _ts("at"),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("rule_ids_json", sa.Text(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("case_id", "seq", name="uq_history_events_case_seq"),
    )
    op.create_table(
        "human_tasks",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("plan_item", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("role", sa.String(200), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("options_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _ts("created_at"),
        _ts("expires_at", nullable=True),
        sa.Column("action_digest", sa.String(128), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        _ts("decided_at", nullable=True),
        sa.Column("decision", sa.String(200), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
    )
    op.create_index("ix_human_tasks_case_id", "human_tasks", ["case_id"])
    op.create_index("ix_human_tasks_status_role", "human_tasks", ["status", "role"])
    op.create_table(
        "vault_entries",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("token", sa.String(200), primary_key=True),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "vault_keys",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("key", sa.LargeBinary(), nullable=True),
        _ts("created_at"),
        _ts("shredded_at", nullable=True),
    )
    _append_only_triggers()


def _append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION casepilot_history_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'history_events is append-only (% refused)', TG_OP;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER history_events_append_only BEFORE UPDATE OR DELETE ON history_events "
            "FOR EACH ROW EXECUTE FUNCTION casepilot_history_append_only()"
        )
    else:
        for op_name in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER history_events_no_{op_name.lower()} BEFORE {op_name} ON history_events "
                f"BEGIN SELECT RAISE(ABORT, 'history_events is append-only ({op_name} refused)'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS history_events_append_only ON history_events")
        op.execute("DROP FUNCTION IF EXISTS casepilot_history_append_only()")
    for table in ("vault_keys", "vault_entries", "human_tasks", "history_events", "cases", "definition_files", "definitions"):
        op.drop_table(table)
