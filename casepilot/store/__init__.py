"""casepilot.store — the durable case store and its tamper-evident history.

SQLite (WAL) for a laptop or notebook, PostgreSQL (psycopg 3) for production with
several workers, chosen by URL::

    store = Store.from_url("sqlite:///.casepilot/casepilot.db")
    store.deploy("claims", DefinitionBundle(files={"claims.cmmn": xml}))
    case = store.create_case("claims", state=instance_json)
    with store.step(case.id, case.version) as step:
        step.append("plan", actor="agent", payload={...})
        step.save_state(new_instance_json)

Only this package imports SQLModel/SQLAlchemy; everything crossing its boundary is
an immutable pydantic model from ``casepilot.store.models``.
"""

from __future__ import annotations

from ._canonical import GENESIS_HASH, canonical_json, digest
from ._definitions import bundle_hash
from ._step import Step
from ._step_head import StepHead
from .history import StateTampered, replay_state
from .models import (
    Actor,
    Anchor,
    CaseRecord,
    DefinitionBundle,
    DefinitionSummary,
    DefinitionVersion,
    EventKind,
    HistoryEvent,
    HumanTask,
    JsonObject,
    NewEvent,
    StepResult,
    TaskStatus,
    VerifyReport,
)
from .store import DEFAULT_URL, Store
from .vault import KeyStore, SqlKeyStore, Vault

__all__ = [
    "DEFAULT_URL",
    "GENESIS_HASH",
    "Actor",
    "Anchor",
    "CaseRecord",
    "DefinitionBundle",
    "DefinitionSummary",
    "DefinitionVersion",
    "EventKind",
    "HistoryEvent",
    "HumanTask",
    "JsonObject",
    "KeyStore",
    "NewEvent",
    "SqlKeyStore",
    "StateTampered",
    "Step",
    "StepHead",
    "StepResult",
    "Store",
    "TaskStatus",
    "Vault",
    "VerifyReport",
    "bundle_hash",
    "canonical_json",
    "digest",
    "replay_state",
]
