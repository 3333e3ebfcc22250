"""SQLModel tables: private to the store, mirrored exactly by the Alembic migrations.

Why JSON lives in TEXT columns (not JSONB): the history hash is taken over canonical
JSON, and a text column gives back the very bytes written on both SQLite and
PostgreSQL, so verification never depends on a backend's JSON normalisation.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "SPEND_SHARDS",
    "CaseLeaseRow",
    "CaseRow",
    "DefinitionFileRow",
    "DefinitionRow",
    "DefinitionSpendRow",
    "EventRow",
    "HumanTaskRow",
    "VaultEntryRow",
    "VaultKeyRow",
    "metadata",
    "spend_shard",
]

metadata = SQLModel.metadata


def _ts(nullable: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable)


def _seq(**kwargs: Any) -> Column[int]:
    """A sequence number: 64-bit on PostgreSQL (migration 0006); SQLite's INTEGER is 64-bit already."""
    return Column(BigInteger().with_variant(Integer(), "sqlite"), nullable=False, **kwargs)


class DefinitionRow(SQLModel, table=True):
    __tablename__ = "definitions"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_definitions_key_version"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, index=True)
    version: int
    content_hash: str = Field(max_length=64)
    meta_json: str = Field(sa_column=Column(Text, nullable=False))
    deployed_at: datetime = Field(sa_column=_ts())


class DefinitionFileRow(SQLModel, table=True):
    __tablename__ = "definition_files"

    definition_id: int = Field(foreign_key="definitions.id", primary_key=True)
    name: str = Field(max_length=500, primary_key=True)
    is_text: bool
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CaseRow(SQLModel, table=True):
    __tablename__ = "cases"

    id: str = Field(max_length=64, primary_key=True)
    definition_id: int = Field(foreign_key="definitions.id", index=True)
    definition_key: str = Field(max_length=200, index=True)
    definition_version: int
    state_json: str = Field(sa_column=Column(Text, nullable=False))
    business_key: str | None = Field(default=None, max_length=200, index=True)
    tenant: str | None = Field(default=None, max_length=200, index=True)
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    version: int
    last_seq: int = Field(sa_column=_seq())
    head_hash: str = Field(max_length=64)
    snapshot_seq: int = Field(default=1, sa_column=_seq(server_default="1"))
    """The event whose hash chains ``state_json`` (a ``case_created`` or ``state`` snapshot)."""
    snapshot_version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    """The case version ``state_json`` was written at; ``state_delta`` events bring it up to ``version``."""
    snapshot_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    """The size of ``state_json``."""
    tail_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    """The size of the events since the snapshot (a snapshot is due when it reaches ``snapshot_bytes``)."""


class EventRow(SQLModel, table=True):
    __tablename__ = "history_events"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_history_events_case_seq"),
        Index("ix_history_events_case_kind", "case_id", "kind"),
    )

    # SQLite only auto-increments an INTEGER PRIMARY KEY, PostgreSQL gets a BIGINT identity.
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    )
    case_id: str = Field(max_length=64, foreign_key="cases.id")
    seq: int = Field(sa_column=_seq())
    at: datetime = Field(sa_column=_ts())
    kind: str = Field(max_length=40)
    actor: str = Field(max_length=200)
    payload_json: str = Field(sa_column=Column(Text, nullable=False))
    rule_ids_json: str = Field(sa_column=Column(Text, nullable=False))
    tokens: int | None = None
    cost: float | None = None
    """The cost as the hash covers it (a JSON number; for reading)."""
    cost_nano: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    """The exact cost in 10⁻⁹ currency units (rounded up), which sums exactly in SQL (``llm_spend``)."""
    latency_ms: float | None = None
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


SPEND_SHARDS = 16
"""Rows a definition's running total is spread over (``DefinitionSpendRow.shard``)."""


def spend_shard(case_id: str) -> int:
    """The ``definition_spend`` row a case's model calls add to (stable across processes)."""
    return zlib.crc32(case_id.encode("utf-8")) % SPEND_SHARDS


class DefinitionSpendRow(SQLModel, table=True):
    """What every case of a definition spent on models, kept by the steps that record ``llm_call``.

    Spread over ``SPEND_SHARDS`` rows, a case always adding to the same one (``spend_shard``):
    a step that records a model call holds its row's lock until it commits, so with one row per
    definition every worker recording a model call for any case of it would wait in line.
    Reading the total sums at most ``SPEND_SHARDS`` rows.
    """

    __tablename__ = "definition_spend"

    definition_key: str = Field(max_length=200, primary_key=True)
    shard: int = Field(default=0, primary_key=True)
    tokens: int = Field(sa_column=Column(BigInteger, nullable=False))
    cost_nano: int = Field(sa_column=Column(BigInteger, nullable=False))
    """Exact, in 10⁻⁹ currency units (``history_events.cost_nano`` summed)."""
    legacy_cost: float | None = None
    """Costs without an exact amount (events before 0003, or beyond a BIGINT), summed as floats."""
    calls: int = Field(sa_column=Column(BigInteger, nullable=False))


class HumanTaskRow(SQLModel, table=True):
    __tablename__ = "human_tasks"
    __table_args__ = (Index("ix_human_tasks_status_role", "status", "role"),)

    id: str = Field(max_length=64, primary_key=True)
    case_id: str = Field(max_length=64, foreign_key="cases.id", index=True)
    plan_item: str | None = Field(default=None, max_length=200)
    kind: str = Field(max_length=20)
    role: str | None = Field(default=None, max_length=200)
    prompt: str = Field(sa_column=Column(Text, nullable=False))
    options_json: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=20)
    created_at: datetime = Field(sa_column=_ts())
    expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    action_digest: str | None = Field(default=None, max_length=128)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    decision: str | None = Field(default=None, max_length=200)
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class VaultEntryRow(SQLModel, table=True):
    """An encrypted pseudonym value; useless without the case's key (kept apart)."""

    __tablename__ = "vault_entries"

    case_id: str = Field(max_length=64, primary_key=True)
    token: str = Field(max_length=200, primary_key=True)
    nonce: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=_ts())


class VaultKeyRow(SQLModel, table=True):
    """A case's data key; ``key`` is NULL once shredded, ``shredded_at`` keeps the audit fact."""

    __tablename__ = "vault_keys"

    case_id: str = Field(max_length=64, primary_key=True)
    key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(sa_column=_ts())
    shredded_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class CaseLeaseRow(SQLModel, table=True):
    """Who works a case right now, until when (one worker per case; see ``_leases``)."""

    __tablename__ = "case_leases"

    case_id: str = Field(max_length=64, primary_key=True)
    owner: str = Field(max_length=200)
    expires_at: datetime = Field(sa_column=_ts())
