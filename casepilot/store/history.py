"""Reading the history back: verifying the hash chain and rebuilding the case state.

State recovery (the documented choice): every step that changes the case state ends
with a ``state`` event whose payload is ``{"state": <the full new state JSON>,
"state_digest": sha256(canonical state)}``; the first event of a case,
``case_created``, carries the initial state the same way. Replaying a history is a
left fold that keeps the last snapshot — simple, exact whatever the engine's state
looks like, and independent of the engine's code version (no re-execution of domain
events). The cost is one snapshot per step, which a CMMN case's state (a few KB)
makes affordable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from casepilot.errors import HistoryTampered

from ._canonical import GENESIS_HASH, chain_hash, digest
from ._convert import EventLike, row_body
from .models import STATE_EVENT_KINDS, HistoryEvent, JsonObject, VerifyReport

__all__ = ["replay_state", "verify_rows"]


def replay_state(events: Iterable[HistoryEvent]) -> JsonObject:
    """Fold a case's events into its state; checks each snapshot against its digest."""
    state: JsonObject | None = None
    case_id: str | None = None
    for event in events:
        case_id = event.case_id
        if event.kind not in STATE_EVENT_KINDS:
            continue
        snapshot = event.payload.get("state")
        if not isinstance(snapshot, dict) or digest(snapshot) != event.payload.get("state_digest"):
            raise HistoryTampered(
                f"event {event.seq} of case {event.case_id}: the state snapshot does not match its digest",
                case_id=event.case_id,
                sequence=event.seq,
            )
        state = snapshot
    if state is None:
        raise HistoryTampered(f"case {case_id}: the history holds no state snapshot", case_id=case_id)
    return state


def verify_rows(case_id: str, rows: Iterator[EventLike], *, last_seq: int, head_hash: str) -> VerifyReport:
    """Check rows (in ``seq`` order, up to ``last_seq``) against the chain and the case's head.

    Names the first event that was changed (content no longer matches its hash),
    removed (a gap in the sequence, or the chain's end falls short of the head) or
    reordered (an event verifies only at another position).
    """
    by_hash: dict[str, int] = {}
    prev = GENESIS_HASH
    expected = 1
    checked = 0

    def bad(seq: int, problem: str) -> VerifyReport:
        return VerifyReport(case_id=case_id, ok=False, events_checked=checked, first_bad_seq=seq, problem=problem)

    for row in rows:
        if row.seq > last_seq:
            break
        if row.seq != expected:
            return bad(expected, f"event {expected} was removed (the sequence jumps from {expected - 1} to {row.seq})")
        own = chain_hash(row.prev_hash, row_body(row))
        if own != row.hash or row.prev_hash != prev:
            return bad(row.seq, _diagnose(row, own, prev, by_hash))
        by_hash[row.hash] = row.seq
        prev = row.hash
        expected += 1
        checked += 1
    if expected - 1 != last_seq:
        return bad(expected, f"event {expected} was removed (the history ends at {expected - 1}, the case at {last_seq})")
    if prev != head_hash:
        return bad(last_seq, f"event {last_seq} does not match the chain head recorded on the case (changed)")
    return VerifyReport(case_id=case_id, ok=True, events_checked=checked)


def _diagnose(row: EventLike, own: str, prev: str, by_hash: dict[str, int]) -> str:
    seq = row.seq
    if own == row.hash:
        # The event is intact in itself but does not follow its predecessor.
        if row.prev_hash in by_hash:
            return f"event {seq} was reordered (it follows event {by_hash[row.prev_hash]}, not event {seq - 1})"
        return f"event {seq} does not follow event {seq - 1}: an event before it was removed or replaced"
    # Content mismatch: does it verify at the position its link points to (moved)?
    if row.prev_hash in by_hash:
        origin = by_hash[row.prev_hash] + 1
        if origin != seq and chain_hash(row.prev_hash, row_body(row, seq=origin)) == row.hash:
            return f"event {seq} was reordered (it was recorded as event {origin})"
    elif row.prev_hash != prev:
        for origin in range(seq + 1, seq + 1 + 1000):
            if chain_hash(row.prev_hash, row_body(row, seq=origin)) == row.hash:
                return f"event {seq} was reordered (it was recorded as event {origin})"
    return f"event {seq} was changed (its content no longer matches its hash)"
