"""The hash chain: verification, tamper detection (changed, removed, reordered), replay."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from casepilot.errors import HistoryTampered
from casepilot.store import Store, replay_state
from casepilot.store._canonical import dumps_text
from tests.store._store_helpers import advance, new_case


def _sql(store: Store, statement: str, **params: object) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(statement), params)


def _allow_edits(store: Store) -> None:
    """What an attacker with database access does first: switch off the append-only guard."""
    if store.backend == "postgresql":
        _sql(store, "ALTER TABLE history_events DISABLE TRIGGER history_events_append_only")
    else:
        _sql(store, "DROP TRIGGER history_events_no_update")
        _sql(store, "DROP TRIGGER history_events_no_delete")


@pytest.fixture
def chain(store: Store, tampering: None) -> tuple[Store, str]:
    case = new_case(store)
    advance(store, case.id, 3)  # 1 + 3*3 = 10 events
    _allow_edits(store)
    return store, case.id


def test_an_untouched_history_verifies(store: Store) -> None:
    case = new_case(store)
    advance(store, case.id, 3)
    report = store.verify(case.id)
    assert report.ok and report.events_checked == 10 and report.first_bad_seq is None
    assert store.verify_or_raise(case.id) == report


def test_the_database_refuses_updates_and_deletes_of_events(store: Store) -> None:
    case = new_case(store)
    with pytest.raises(DBAPIError, match="append-only"):
        _sql(store, "UPDATE history_events SET actor = 'mallory' WHERE case_id = :c", c=case.id)
    with pytest.raises(DBAPIError, match="append-only"):
        _sql(store, "DELETE FROM history_events WHERE case_id = :c", c=case.id)
    assert store.verify(case.id).ok


def test_a_changed_payload_is_named(chain: tuple[Store, str]) -> None:
    store, case_id = chain
    _sql(store, "UPDATE history_events SET payload_json = :p WHERE case_id = :c AND seq = 5", p='{"next":999}', c=case_id)
    report = store.verify(case_id)
    assert (report.ok, report.first_bad_seq) == (False, 5)
    assert "event 5 was changed" in (report.problem or "")
    with pytest.raises(HistoryTampered) as raised:
        store.verify_or_raise(case_id)
    assert raised.value.sequence == 5 and raised.value.case_id == case_id


@pytest.mark.parametrize(
    "column, value",
    [("actor", "person:mallory"), ("kind", "verdict"), ("cost", 1.5), ("rule_ids_json", '["R9"]'), ("tokens", 7)],
)
def test_every_covered_field_is_protected(chain: tuple[Store, str], column: str, value: object) -> None:
    store, case_id = chain
    _sql(store, f"UPDATE history_events SET {column} = :v WHERE case_id = :c AND seq = 3", v=value, c=case_id)
    assert store.verify(case_id).first_bad_seq == 3


def test_a_recomputed_hash_still_breaks_the_link(chain: tuple[Store, str]) -> None:
    store, case_id = chain
    # The forger changes event 4 and rewrites its own hash consistently; event 5 no longer follows.
    from casepilot.store._canonical import chain_hash
    from casepilot.store._convert import event_body

    ev = store.history(case_id)[3]
    body = event_body(case_id=case_id, seq=4, at=ev.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), kind=ev.kind,
                      actor="person:mallory", payload=ev.payload, rule_ids=list(ev.rule_ids), tokens=ev.tokens,
                      cost=ev.cost, latency_ms=ev.latency_ms)
    forged = chain_hash(ev.prev_hash, body)
    _sql(store, "UPDATE history_events SET actor = 'person:mallory', hash = :h WHERE case_id = :c AND seq = 4",
         h=forged, c=case_id)
    report = store.verify(case_id)
    assert report.first_bad_seq == 5
    assert "does not follow event 4" in (report.problem or "")


def test_a_removed_event_in_the_middle_is_named(chain: tuple[Store, str]) -> None:
    store, case_id = chain
    _sql(store, "DELETE FROM history_events WHERE case_id = :c AND seq = 6", c=case_id)
    report = store.verify(case_id)
    assert report.first_bad_seq == 6 and "event 6 was removed" in (report.problem or "")


def test_a_removed_last_event_is_named(chain: tuple[Store, str]) -> None:
    store, case_id = chain
    _sql(store, "DELETE FROM history_events WHERE case_id = :c AND seq = 10", c=case_id)
    report = store.verify(case_id)
    assert report.first_bad_seq == 10 and "event 10 was removed" in (report.problem or "")


def test_a_removed_and_renumbered_event_is_caught(chain: tuple[Store, str]) -> None:
    store, case_id = chain
    _sql(store, "DELETE FROM history_events WHERE case_id = :c AND seq = 4", c=case_id)
    for seq in range(5, 11):
        _sql(store, "UPDATE history_events SET seq = :n WHERE case_id = :c AND seq = :s", n=seq - 1, s=seq, c=case_id)
    report = store.verify(case_id)
    assert not report.ok and report.first_bad_seq == 4


def test_swapped_events_are_reported_as_reordered(chain: tuple[Store, str]) -> None:
    store, case_id = chain
    _sql(store, "UPDATE history_events SET seq = -1 WHERE case_id = :c AND seq = 7", c=case_id)
    _sql(store, "UPDATE history_events SET seq = 7 WHERE case_id = :c AND seq = 8", c=case_id)
    _sql(store, "UPDATE history_events SET seq = 8 WHERE case_id = :c AND seq = -1", c=case_id)
    report = store.verify(case_id)
    assert report.first_bad_seq == 7
    assert report.problem == "event 7 was reordered (it was recorded as event 8)"


def test_a_forged_head_on_the_case_row_is_caught(chain: tuple[Store, str]) -> None:
    store, case_id = chain
    _sql(store, "UPDATE cases SET head_hash = :h WHERE id = :c", h="f" * 64, c=case_id)
    report = store.verify(case_id)
    assert report.first_bad_seq == 10 and not report.ok


def test_state_is_rebuilt_from_the_history(store: Store) -> None:
    case = new_case(store)
    advance(store, case.id, 4)
    with store.step(case.id, store.case(case.id).version) as step:
        step.append("llm_call", actor="agent", payload={"model": "offline"}, tokens=10)  # no state change
    assert store.rebuild_state(case.id) == store.case(case.id).state == {"items": {}, "n": 4}


def test_a_tampered_snapshot_fails_replay(chain: tuple[Store, str]) -> None:
    store, case_id = chain
    _sql(store, "UPDATE history_events SET payload_json = :p WHERE case_id = :c AND seq = 10",
         p='{"state":{"n":1000},"state_digest":"00"}', c=case_id)
    with pytest.raises(HistoryTampered, match="event 10"):
        store.rebuild_state(case_id)
    with pytest.raises(HistoryTampered, match="no state snapshot"):
        replay_state(e for e in store.history(case_id) if e.kind not in ("state", "case_created"))


def test_an_event_inserted_behind_the_head_is_caught(chain: tuple[Store, str]) -> None:
    store, case_id = chain
    last = store.history(case_id)[-1]
    _sql(store, "INSERT INTO history_events (case_id, seq, at, kind, actor, payload_json, rule_ids_json, "
                "prev_hash, hash) VALUES (:c, 11, :at, 'plan', 'agent', '{}', '[]', :p, :h)",
         c=case_id, at=last.at, p=last.hash, h="e" * 64)
    report = store.verify(case_id)
    assert (report.ok, report.first_bad_seq) == (False, 11)
    assert "inserted after the chain head" in (report.problem or "")


def _cut_back_to(store: Store, case_id: str, seq: int) -> None:
    """The attack the chain alone cannot see: drop the tail and rewrite the case row to match
    (its head, and its state to the last snapshot left)."""
    kept = [e for e in store.history(case_id) if e.seq <= seq]
    snapshot = [e for e in kept if e.kind in ("state", "case_created")][-1]
    _sql(store, "DELETE FROM history_events WHERE case_id = :c AND seq > :s", c=case_id, s=seq)
    _sql(store, "UPDATE cases SET last_seq = :s, head_hash = :h, state_json = :j, snapshot_seq = :q WHERE id = :c",
         s=seq, h=kept[-1].hash, j=dumps_text(snapshot.payload["state"]), q=snapshot.seq, c=case_id)


def test_an_anchor_kept_outside_catches_a_history_cut_back(chain: tuple[Store, str]) -> None:
    store, case_id = chain
    (anchor,) = [a for a in store.anchors() if a.case_id == case_id]
    assert (anchor.seq, anchor.hash) == (10, store.case(case_id).head_hash)
    _cut_back_to(store, case_id, 7)
    assert store.verify(case_id).ok  # inside the database everything is consistent again
    report = store.verify(case_id, anchor=anchor)
    assert not report.ok and report.first_bad_seq == 10
    assert "is gone: the history was cut back" in (report.problem or "")


def test_an_anchor_catches_a_rewritten_tail(chain: tuple[Store, str]) -> None:
    store, case_id = chain
    (anchor,) = [a for a in store.anchors() if a.case_id == case_id]
    _cut_back_to(store, case_id, 7)
    advance(store, case_id, 1)  # a different event 8, 9, 10 written through the store
    assert store.verify(case_id).ok
    report = store.verify(case_id, anchor=anchor)
    assert not report.ok and "event 10 differs from the one anchored" in (report.problem or "")


def test_an_anchor_holds_while_the_history_grows(store: Store) -> None:
    case = new_case(store)
    advance(store, case.id, 2)
    (anchor,) = [a for a in store.anchors() if a.case_id == case.id]
    advance(store, case.id, 3)
    assert store.verify(case.id, anchor=anchor).ok
    other = new_case(store)
    with pytest.raises(ValueError, match="the anchor is for case"):
        store.verify(other.id, anchor=anchor)
    assert {a.case_id for a in store.anchors(definition_key="claims")} >= {case.id, other.id}
    assert [a for a in store.anchors(definition_key="nothing")] == []
