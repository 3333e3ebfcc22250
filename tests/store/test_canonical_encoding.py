"""The store's hot-path encoders write exactly what ``json.dumps`` with the canonical settings writes.

The store encodes and hashes every event of every step through shared encoders and a
hand-written scalar encoder (``_canonical``, ``_convert``); a hash taken over other bytes
would break every chain verified against the generic encoding.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casepilot.store._canonical import as_utc, canonical_json, dumps_text, loads_text, utc_iso
from casepilot.store._convert import _encode_scalar, trusted_event
from casepilot.store.models import HistoryEvent

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(moment=st.datetimes(timezones=st.sampled_from([UTC, None]) | st.timezones()))
def test_event_time_text_is_the_fixed_width_strftime_text(moment: datetime) -> None:
    # Every event is hashed over utc_iso(at) and verified by recomputing it from the stored time:
    # the fast path (aware UTC) must write what the strftime pattern writes, for any time.
    assert utc_iso(moment) == as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _reference(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_canonical_text_is_json_dumps_with_the_canonical_settings(value: Any) -> None:
    assert dumps_text(value) == _reference(value)
    assert canonical_json(value) == _reference(value).encode("utf-8")
    assert loads_text(dumps_text(value)) == json.loads(_reference(value))


@settings(max_examples=300, deadline=None)
@given(value=st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text())
def test_event_body_scalars_are_encoded_as_the_json_encoder_does(value: Any) -> None:
    reference = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        with pytest.raises(ValueError):
            _encode_scalar(value)
        return
    assert _encode_scalar(value) == reference.encode(value)


@pytest.mark.parametrize("value", [float("nan"), {"x": [float("inf")]}, {"text": "\ud800"}])
def test_what_is_not_json_text_is_refused(value: Any) -> None:
    with pytest.raises(ValueError):
        dumps_text(value)
    with pytest.raises(ValueError):
        canonical_json(value)


def test_loads_text_reads_bytes_too() -> None:
    assert loads_text(b'{"a":[1,"\xc3\xa9"]}') == {"a": [1, "é"]}


def test_a_trusted_event_is_the_model_construct_one() -> None:
    fields: dict[str, Any] = {
        "latency_ms": 1.5, "case_id": "c-1", "seq": 3, "at": datetime(2026, 1, 1, tzinfo=UTC), "kind": "plan",
        "actor": "agent", "payload": {"a": 1}, "rule_ids": ("R1",), "tokens": None, "cost": None,
        "prev_hash": "0" * 64, "hash": "1" * 64}
    built = trusted_event(**fields)
    reference = HistoryEvent.model_construct(**fields)
    assert built == reference
    assert list(built.__dict__) == list(reference.__dict__)  # field order, as repr and dumps show it
    assert built.model_fields_set == reference.model_fields_set
    assert built.model_dump_json() == reference.model_dump_json()
    assert built.model_copy(update={"seq": 4}).seq == 4
    with pytest.raises(Exception, match="frozen"):
        built.seq = 5  # type: ignore[misc]
