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


_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
"""``json.dumps`` with the canonical settings, without building an encoder per call (``dumps``
does, for any non-default setting): the store encodes several payloads of every agent step.
The encoder keeps no state between calls (``encode`` starts afresh), so threads share it."""
_decode = json.JSONDecoder().decode


def canonical_json(value: Any) -> bytes:
    """Return the canonical UTF-8 JSON bytes of a JSON-compatible value."""
    return _encode(value).encode("utf-8")


def dumps_text(value: Any) -> str:
    """Canonical JSON as text (what the store writes into JSON text columns).

    Text that is not valid UTF-8 (a lone surrogate) is refused with ``UnicodeEncodeError`` (a
    ``ValueError``), as the bytes of ``canonical_json`` are; ASCII text needs no such check.
    """
    text = _encode(value)
    if not text.isascii():
        text.encode("utf-8")
    return text


def loads_text(text: str) -> Any:
    """Parse a JSON text column."""
    if type(text) is str:
        return _decode(text)
    return json.loads(text)  # bytes, as some drivers may return: json.loads detects their encoding


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
    """Fixed-width ISO-8601 UTC text with microseconds, so a timestamp hashes the same after a round trip.

    Every history event is hashed over this text (and verified by recomputing it): for an aware
    UTC time of year 1000 or later, ``isoformat`` writes the same characters as the
    ``strftime`` pattern below at a third of its cost.
    """
    if moment.tzinfo is UTC and moment.year >= 1000:
        return moment.isoformat(timespec="microseconds")[:-6] + "Z"  # "+00:00" -> "Z"
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
