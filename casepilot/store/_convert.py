"""Rows to boundary models and the event hash body: the only place that knows both."""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring
from typing import Any, cast

from sqlalchemy import Row

from ._canonical import as_utc, loads_text, utc_iso
from ._tables import CaseRow, DefinitionFileRow, DefinitionRow, EventRow, HumanTaskRow
from .models import CaseRecord, DefinitionSummary, DefinitionVersion, EventKind, HistoryEvent, HumanTask

__all__ = [
    "EventLike",
    "case_record",
    "definition_summary",
    "definition_version",
    "event_body",
    "event_body_text",
    "history_event",
    "human_task",
    "row_body",
    "trusted_event",
]


def definition_summary(row: DefinitionRow) -> DefinitionSummary:
    return DefinitionSummary(
        key=row.key,
        version=row.version,
        content_hash=row.content_hash,
        deployed_at=as_utc(row.deployed_at),
        metadata=loads_text(row.meta_json),
    )


def definition_version(row: DefinitionRow, files: list[DefinitionFileRow]) -> DefinitionVersion:
    contents: dict[str, str | bytes] = {
        f.name: (bytes(f.content).decode("utf-8") if f.is_text else bytes(f.content)) for f in files
    }
    summary = definition_summary(row)
    return DefinitionVersion(**summary.model_dump(), files=contents)


def case_record(row: CaseRow | Row[Any]) -> CaseRecord:
    """From an ORM row or a Core row of ``cases`` (the hot path reads Core rows: no ORM overhead)."""
    return CaseRecord(
        id=row.id,
        definition_key=row.definition_key,
        definition_version=row.definition_version,
        state=loads_text(row.state_json),
        business_key=row.business_key,
        tenant=row.tenant,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        version=row.version,
        last_seq=row.last_seq,
        head_hash=row.head_hash,
        state_bytes=len(row.state_json),
    )


def event_body(
    *,
    case_id: str,
    seq: int,
    at: str,
    kind: str,
    actor: str,
    payload: Any,
    rule_ids: list[str],
    tokens: int | None,
    cost: float | None,
    latency_ms: float | None,
) -> dict[str, Any]:
    """The part of an event the hash covers: everything but the hashes themselves."""
    return {
        "case_id": case_id,
        "seq": seq,
        "at": at,
        "kind": kind,
        "actor": actor,
        "payload": payload,
        "rule_ids": rule_ids,
        "tokens": tokens,
        "cost": cost,
        "latency_ms": latency_ms,
    }


_encode_any = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
_encode_str = encode_basestring  # the C encoder ``JSONEncoder.encode`` uses for ``str`` with ensure_ascii=False
_int_repr = int.__repr__
_float_repr = float.__repr__


def _encode_scalar(value: Any) -> str:
    """``_encode_any(value)`` for the scalars of an event body, without the encoder's set-up for
    numbers and null (``JSONEncoder.encode`` builds a C encoder for each of them): a body has
    ten scalars and every history event is hashed over one. ``JSONEncoder`` writes ints and
    finite floats with their type's ``repr`` and refuses NaN and infinities; anything else
    (a bool, a subclass) takes the encoder's own path."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return _encode_str(value)
    if kind is int:
        return _int_repr(value)
    if kind is float and math.isfinite(value):
        return _float_repr(value)
    return _encode_any(value)


def event_body_text(
    *,
    case_id: str,
    seq: int,
    at: str,
    kind: str,
    actor: str,
    payload_text: str,
    rule_ids_text: str,
    tokens: int | None,
    cost: float | None,
    latency_ms: float | None,
) -> str:
    """``dumps_text(event_body(...))`` for a payload and rule ids already in canonical text.

    Why by hand: every history event is hashed over this text, and writing it directly —
    keys in canonical (sorted) order, the already-encoded payload spliced in — costs a
    fraction of encoding the body dict again. ``tests/store`` checks it against the
    generic encoding the verifier uses.
    """
    enc = _encode_scalar
    return (
        f'{{"actor":{enc(actor)},"at":{enc(at)},"case_id":{enc(case_id)},"cost":{enc(cost)},'
        f'"kind":{enc(kind)},"latency_ms":{enc(latency_ms)},"payload":{payload_text},'
        f'"rule_ids":{rule_ids_text},"seq":{enc(seq)},"tokens":{enc(tokens)}}}'
    )


EventLike = EventRow | Row[Any]
"""An ORM event row or a Core row of ``history_events`` (reads use Core rows: no ORM overhead)."""


def row_body(row: EventLike, *, seq: int | None = None) -> dict[str, Any]:
    """The hash body as reconstructed from a stored row (``seq`` overridable for diagnosis)."""
    return event_body(
        case_id=row.case_id,
        seq=row.seq if seq is None else seq,
        at=utc_iso(row.at),
        kind=row.kind,
        actor=row.actor,
        payload=loads_text(row.payload_json),
        rule_ids=list(loads_text(row.rule_ids_json)),
        tokens=row.tokens,
        cost=row.cost,
        latency_ms=row.latency_ms,
    )


def history_event(row: EventLike) -> HistoryEvent:
    return HistoryEvent(
        case_id=row.case_id,
        seq=row.seq,
        at=as_utc(row.at),
        kind=cast(EventKind, row.kind),
        actor=row.actor,
        payload=loads_text(row.payload_json),
        rule_ids=tuple(loads_text(row.rule_ids_json)),
        tokens=row.tokens,
        cost=row.cost,
        latency_ms=row.latency_ms,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


_EVENT_ORDER = tuple(HistoryEvent.model_fields)
_EVENT_FIELDS = frozenset(_EVENT_ORDER)
_PLAIN_EVENT = (
    all(f.alias is None and f.validation_alias is None for f in HistoryEvent.model_fields.values())
    and HistoryEvent.model_config.get("extra") != "allow"
    and not HistoryEvent.__pydantic_post_init__
)
_set_attr = object.__setattr__


def trusted_event(**fields: Any) -> HistoryEvent:
    """``HistoryEvent.model_construct(**fields)`` for all of its fields, already validated.

    What ``model_construct`` does for a model without aliases, extra fields or a post-init hook
    when every field is given — set ``__dict__`` and the pydantic bookkeeping — without its
    per-field walk over aliases and defaults: every history event a step stages is built here.
    Should the model ever gain an alias or a hook, ``model_construct`` is used as before.
    """
    if not _PLAIN_EVENT or fields.keys() != _EVENT_FIELDS:
        return HistoryEvent.model_construct(**fields)
    event = HistoryEvent.__new__(HistoryEvent)
    _set_attr(event, "__dict__", {name: fields[name] for name in _EVENT_ORDER})  # in declaration order, as pydantic
    _set_attr(event, "__pydantic_fields_set__", set(_EVENT_FIELDS))
    _set_attr(event, "__pydantic_extra__", None)
    _set_attr(event, "__pydantic_private__", None)
    return event


def human_task(row: HumanTaskRow | Row[Any]) -> HumanTask:
    """An inbox item from its ORM row or a Core row of ``human_tasks``."""
    return HumanTask(
        id=row.id,
        case_id=row.case_id,
        plan_item=row.plan_item,
        kind=cast(Any, row.kind),
        role=row.role,
        prompt=row.prompt,
        options=tuple(loads_text(row.options_json)),
        status=cast(Any, row.status),
        created_at=as_utc(row.created_at),
        expires_at=None if row.expires_at is None else as_utc(row.expires_at),
        action_digest=row.action_digest,
        decided_by=row.decided_by,
        decided_at=None if row.decided_at is None else as_utc(row.decided_at),
        decision=row.decision,
        comment=row.comment,
    )
