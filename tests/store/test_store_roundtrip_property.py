"""Property: any JSON payload survives the database byte-exactly and keeps the chain verifiable."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casepilot.store import Store
from casepilot.store._canonical import dumps_text
from casepilot.store._convert import event_body, event_body_text
from tests.store._store_helpers import new_case

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.dictionaries(st.text(max_size=8), json_values, max_size=5), state=st.dictionaries(
    st.text(max_size=8), json_values, max_size=4))
def test_payloads_and_states_round_trip_and_verify(store: Store, payload: dict[str, Any], state: dict[str, Any]) -> None:
    case = new_case(store)
    with store.step(case.id, case.version) as step:
        staged = step.append("tool_call_completed", payload=payload, rule_ids=["R1"], cost=0.1 + 0.2)
        step.save_state(state)
    events = store.history(case.id)
    assert events[1] == staged
    assert events[1].payload == payload
    assert store.case(case.id).state == state
    assert store.rebuild_state(case.id) == state
    assert store.verify(case.id).ok


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=12),
    seq=st.integers(min_value=1, max_value=2**62),
    tokens=st.none() | st.integers(min_value=0, max_value=2**40),
    cost=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    latency=st.none() | st.floats(min_value=0, allow_nan=False, allow_infinity=False),
    payload=st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    rule_ids=st.lists(st.text(max_size=6), max_size=3),
)
def test_hand_written_event_body_is_the_canonical_encoding(
    text: str, seq: int, tokens: int | None, cost: float | None, latency: float | None,
    payload: dict[str, Any], rule_ids: list[str],
) -> None:
    """The step hashes a hand-assembled body text; the verifier re-encodes the body dict: they must agree."""
    fields: dict[str, Any] = {"case_id": f"c-{text}", "seq": seq, "at": "2026-11-25T14:00:00.000001Z",
                              "kind": "plan", "actor": text or "agent", "tokens": tokens, "cost": cost,
                              "latency_ms": latency}
    generic = dumps_text(event_body(**fields, payload=payload, rule_ids=rule_ids))
    by_hand = event_body_text(**fields, payload_text=dumps_text(payload), rule_ids_text=dumps_text(rule_ids))
    assert by_hand == generic
