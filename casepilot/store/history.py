"""Reading the history back: verifying the hash chain and rebuilding the case state.

State recovery: a case's state is its last *snapshot* plus the *deltas* of the steps
since. A snapshot is a ``state`` event whose payload is ``{"state": <the full state
JSON>, "state_digest": sha256(canonical state)}`` (the first event, ``case_created``,
carries the initial state the same way); ``cases.state_json`` holds the text of the last
snapshot and ``cases.snapshot_seq`` names its event. A step in between records a
``state_delta`` event ``{"ops": [...]}`` with what it changed (see ``apply_ops``), and a
new snapshot is written every N steps (``Store(snapshot_every=N)``) or on demand.

Why this design (and not "keep ``state_json`` current and chain its hash"): chaining the
current state's hash means serialising and hashing the whole state at every step — that
*is* the cost that grew with the case (1.4 ms at 100 plan items, 30 ms at 10,000). A
delta costs what the step changed; the snapshot's O(size) cost is paid every N steps.
Tamper detection stays sound: the snapshot's digest is inside a chained event, every
delta is a chained event, and loading a case (``_state.load_checked``) recomputes the
snapshot's digest from ``state_json``, the hashes of the snapshot event and of every
event after it up to the head recorded on the case, and compares the inbox rows with
the events that wrote them — so an edited ``state_json``, delta or inbox row is refused
before a worker acts on it. Replaying needs no engine code (the deltas are plain JSON
operations), so a history stays readable across engine versions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from casepilot.errors import HistoryTampered

from ._canonical import GENESIS_HASH, chain_hash, digest, dumps_text, loads_text
from ._convert import EventLike, row_body
from .models import STATE_EVENT_KINDS, HistoryEvent, JsonObject, VerifyReport

__all__ = ["StateTampered", "apply_ops", "replay_state", "verify_rows"]


class StateTampered(HistoryTampered):
    """A case's stored state or inbox does not match its hash-chained history: it is not worked.

    The message says what differs; the fix is to restore the rows from a backup (or the state
    from the history: ``Store.rebuild_state``) after finding out who changed them.
    """


Op = Sequence[Any]
"""One delta operation: ``["set", path, value]`` sets the value at ``path`` (a list of object
keys); ``["put", path, item]`` puts ``item`` into the list at ``path`` in place of the element
with the same ``"id"``, or appends it when there is none."""


def apply_ops(state: JsonObject, ops: Iterable[Op], index: dict[tuple[str, ...], dict[Any, int]] | None = None) -> None:
    """Apply delta operations to ``state`` in place; ``index`` keeps list positions between calls."""
    positions = {} if index is None else index
    for op in ops:
        kind, path, value = op[0], tuple(op[1]), op[2]
        if not path:
            raise ValueError("a delta operation needs a path")
        parent: Any = state
        for key in path[:-1]:
            parent = parent.setdefault(key, {})
        if kind == "set":
            parent[path[-1]] = value
            for known in [k for k in positions if k[: len(path)] == path]:
                del positions[known]
        elif kind == "put":
            items = parent.setdefault(path[-1], [])
            where = positions.get(path)
            if where is None:
                where = positions[path] = {item.get("id"): i for i, item in enumerate(items)}
            at = where.get(value["id"])
            if at is None:
                where[value["id"]] = len(items)
                items.append(value)
            else:
                items[at] = value
        else:
            raise ValueError(f"unknown delta operation {kind!r}")


def replay_state(events: Iterable[HistoryEvent]) -> JsonObject:
    """Fold a case's events into its state: the last snapshot (checked against its digest)
    with the deltas after it applied."""
    state: JsonObject | None = None
    index: dict[tuple[str, ...], dict[Any, int]] = {}
    case_id: str | None = None
    for event in events:
        case_id = event.case_id
        if event.kind == "state_delta":
            if state is None:
                raise HistoryTampered(f"event {event.seq} of case {event.case_id}: a state delta before any "
                                      "snapshot", case_id=event.case_id, sequence=event.seq)
            apply_ops(state, event.payload.get("ops") or [], index)
            continue
        if event.kind not in STATE_EVENT_KINDS:
            continue
        snapshot = event.payload.get("state")
        if not isinstance(snapshot, dict) or digest(snapshot) != event.payload.get("state_digest"):
            raise HistoryTampered(
                f"event {event.seq} of case {event.case_id}: the state snapshot does not match its digest",
                case_id=event.case_id,
                sequence=event.seq,
            )
        state = loads_text(dumps_text(snapshot))  # a private copy: deltas change it in place
        index = {}
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
