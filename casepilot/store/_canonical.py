"""Canonical JSON and hashing: the one byte representation every hash is taken over.

Why one place: the history's hash chain, the definition content hash and the state
digest must produce the same bytes on every backend, Python version and machine.
Canonical form: keys sorted, no insignificant whitespace, UTF-8, NaN/Infinity refused.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

__all__ = ["GENESIS_HASH", "as_utc", "canonical_json", "chain_hash", "digest", "dumps_text", "loads_text", "utc_iso"]

GENESIS_HASH = "0" * 64
"""The "previous hash" of a case's first event."""


def canonical_json(value: Any) -> bytes:
    """Return the canonical UTF-8 JSON bytes of a JSON-compatible value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def dumps_text(value: Any) -> str:
    """Canonical JSON as text (what the store writes into JSON text columns)."""
    return canonical_json(value).decode("utf-8")


def loads_text(text: str) -> Any:
    """Parse a JSON text column."""
    return json.loads(text)


def digest(value: Any) -> str:
    """sha256 hex digest of the canonical JSON of ``value``."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def chain_hash(previous_hash: str, event_body: Any) -> str:
    """``sha256(previous hash + canonical JSON of the event)``, the link of the history chain."""
    h = hashlib.sha256(previous_hash.encode("ascii"))
    h.update(canonical_json(event_body))
    return h.hexdigest()


def as_utc(moment: datetime) -> datetime:
    """Normalise a timestamp to aware UTC; naive values (as SQLite returns them) are taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def utc_iso(moment: datetime) -> str:
    """Fixed-width ISO-8601 UTC text with microseconds, so a timestamp hashes the same after a round trip."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
