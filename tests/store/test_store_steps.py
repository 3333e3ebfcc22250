"""Cases and the step unit of work: atomicity, optimistic concurrency, no lost update."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

import pytest

from casepilot.errors import ConcurrencyConflict, NotFound, StoreError
from casepilot.store import GENESIS_HASH, Store, digest
from tests.store._store_helpers import advance, new_case


def test_create_case_records_state_and_a_first_event(store: Store) -> None:
    case = new_case(store, state={"items": {"a": "available"}, "n": 0}, business_key="CLM-1", tenant="acme")
    assert (case.version, case.last_seq) == (1, 1)
    assert (case.business_key, case.tenant, case.definition_key) == ("CLM-1", "acme", "claims")
    assert store.case(case.id) == case
    [event] = store.history(case.id)
    assert event.kind == "case_created"
    assert event.prev_hash == GENESIS_HASH and event.hash == case.head_hash
    assert event.payload["state"] == {"items": {"a": "available"}, "n": 0}
    assert event.payload["state_digest"] == digest(case.state)


def test_duplicate_case_id_is_refused(store: Store) -> None:
    new_case(store)
    store.create_case("claims", {}, case_id="fixed")
    with pytest.raises(StoreError, match="already exists"):
        store.create_case("claims", {}, case_id="fixed")


def test_a_step_commits_state_and_events_together(store: Store) -> None:
    case = new_case(store)
    with store.step(case.id, case.version) as step:
        assert step.case == case
        step.append("plan", actor="agent", payload={"action": "start", "why": "ready"}, tokens=120, cost=0.0042,
                    latency_ms=812.5)
        step.append("verdict", payload={"allow": True}, rule_ids=["R1", "R7"])
        step.save_state({"items": {"t": "active"}, "n": 1}, actor="agent")
    assert step.result is not None
    assert step.result.version == 2
    assert [e.kind for e in step.result.events] == ["plan", "verdict", "state"]
    after = store.case(case.id)
    assert (after.version, after.last_seq, after.state) == (2, 4, {"items": {"t": "active"}, "n": 1})
    assert after.head_hash == step.result.events[-1].hash
    assert after.updated_at >= case.updated_at
    stored = store.history(case.id)
    assert list(stored[1:]) == list(step.result.events)
    plan = stored[1]
    assert (plan.actor, plan.tokens, plan.cost, plan.latency_ms) == ("agent", 120, 0.0042, 812.5)
    assert stored[2].rule_ids == ("R1", "R7")
    assert [e.seq for e in stored] == [1, 2, 3, 4]
    assert all(e.prev_hash == p.hash for p, e in itertools.pairwise(stored))


def test_payloads_round_trip_exactly(store: Store) -> None:
    case = new_case(store)
    payload = {"text": "Zoë ✓ 日本", "f": 0.1, "big": 2**53 + 1, "neg": -1.5e-300, "none": None,
               "list": [True, False, {"nested": []}]}
    with store.step(case.id, case.version) as step:
        staged = step.append("chat_message", actor="person:zoë", payload=payload)
        odd = step.append("plan", payload={"pair": (1, 2)})
    assert store.history(case.id)[-2].payload == payload == staged.payload
    assert store.history(case.id)[-1] == odd  # what the step returned is what a reader gets
    assert odd.payload == {"pair": [1, 2]}
    assert store.verify(case.id).ok


def test_an_exception_inside_the_step_writes_nothing(store: Store) -> None:
    case = new_case(store)
    with pytest.raises(RuntimeError, match="tool exploded"), store.step(case.id, case.version) as step:
        step.append("tool_call_started", payload={"tool": "ocr"})
        step.save_state({"n": 99})
        step.flush()
        raise RuntimeError("tool exploded")
    assert store.case(case.id) == case
    assert len(store.history(case.id)) == 1


def test_a_step_without_changes_leaves_the_case_alone(store: Store) -> None:
    case = new_case(store)
    with store.step(case.id, case.version) as step:
        pass
    assert step.result is not None and step.result.events == ()
    assert store.case(case.id) == case


def test_stale_version_raises_concurrency_conflict(store: Store) -> None:
    case = new_case(store)
    advance(store, case.id)
    with pytest.raises(ConcurrencyConflict, match="not 1"), store.step(case.id, case.version):
        pytest.fail("the step body must not run on a stale version")


def test_unknown_case(store: Store) -> None:
    with pytest.raises(NotFound):
        store.case("missing")
    with pytest.raises(NotFound), store.step("missing", 1):
        pass


def test_store_written_kinds_and_non_json_payloads_are_refused(store: Store) -> None:
    case = new_case(store)
    with store.step(case.id, case.version) as step:
        with pytest.raises(ValueError, match="written by the store"):
            step.append("state", payload={})
        with pytest.raises(TypeError, match="not JSON"):
            step.append("plan", payload={"when": datetime.now(UTC)})
        with pytest.raises(TypeError):
            step.save_state({"x": object()})
    assert store.case(case.id).version == 1


def test_two_workers_racing_on_one_version_exactly_one_wins(store: Store) -> None:
    case = new_case(store)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker(name: str) -> None:
        barrier.wait()
        try:
            with store.step(case.id, case.version) as step:
                step.append("plan", actor=name)
                step.save_state({"n": 1, "by": name})
            outcomes.append("won")
        except ConcurrencyConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"]
    after = store.case(case.id)
    assert after.version == 2
    assert [e.kind for e in store.history(case.id)] == ["case_created", "plan", "state"]


def test_concurrent_workers_lose_no_update(store: Store) -> None:
    """4 workers × 10 read-modify-write increments with retry: the counter ends at 40."""
    case = new_case(store)

    def worker() -> None:
        done = 0
        while done < 10:
            current = store.case(case.id)
            try:
                with store.step(case.id, current.version) as step:
                    step.append("transition", payload={"from": current.state["n"]})
                    step.save_state({**current.state, "n": current.state["n"] + 1})
                done += 1
            except ConcurrencyConflict:
                continue

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = store.case(case.id)
    assert after.state["n"] == 40
    assert after.version == 41
    assert after.last_seq == 1 + 40 * 2
    froms = [e.payload["from"] for e in store.history(case.id) if e.kind == "transition"]
    assert froms == list(range(40))


def test_cases_are_listed_and_filtered(store: Store) -> None:
    a = new_case(store, tenant="acme", business_key="A")
    b = new_case(store, tenant="acme", business_key="B")
    c = new_case(store, "other", tenant="zeta")
    assert {x.id for x in store.cases(tenant="acme")} == {a.id, b.id}
    assert [x.id for x in store.cases(business_key="B")] == [b.id]
    assert [x.id for x in store.cases(definition_key="other")] == [c.id]
    assert len(store.cases(limit=2)) == 2


def test_history_pages_and_streams(store: Store) -> None:
    case = new_case(store)
    advance(store, case.id, 5)
    events = store.history(case.id)
    assert len(events) == 16
    assert store.history(case.id, after_seq=10) == events[10:]
    assert store.history(case.id, after_seq=3, limit=4) == events[3:7]
    assert list(store.iter_history(case.id)) == events


def test_a_step_cannot_be_used_after_it_ended(store: Store) -> None:
    case = new_case(store)
    with store.step(case.id, case.version) as step:
        step.append("plan")
    with pytest.raises(RuntimeError, match="has ended"):
        step.append("plan")
    with pytest.raises(RuntimeError, match="has ended"):
        step.save_state({})
    assert store.case(case.id).version == 2


def test_the_url_points_at_the_same_database(store: Store) -> None:
    case = new_case(store)
    with Store.from_url(store.url) as again:
        assert again.case(case.id) == case


def test_an_in_memory_sqlite_store_works_across_threads() -> None:
    with Store.from_url("sqlite:///:memory:") as store:
        case = new_case(store)
        seen: list[int] = []
        worker = threading.Thread(target=lambda: seen.append(store.case(case.id).version))
        worker.start()
        worker.join()
        advance(store, case.id)
        assert seen == [1] and store.case(case.id).version == 2
        assert store.rebuild_state(case.id) == store.case(case.id).state


def test_connection_facts_for_neighbours(store: Store) -> None:
    if store.backend == "sqlite":
        assert store.sqlite_path is not None and store.sqlite_path.name == "store.db"
        assert store.postgres_conninfo is None
    else:
        assert store.sqlite_path is None
        info = store.postgres_conninfo
        assert info is not None and info.startswith("postgresql://")
        import psycopg

        with psycopg.connect(info) as conn:
            assert conn.execute("SELECT count(*) FROM cases").fetchone() == (0,)


def test_a_payload_handed_over_is_staged_as_it_is_and_stored_alike(store: Store) -> None:
    """``owned=True``: the caller's plain-JSON payload (and state) is the staged event's, not a copy
    read back from the text — and what the store writes, hashes and reads back is the same."""
    case = new_case(store)
    plan = {"chose": "run:case.1", "saw": {"items": [{"id": "case.1", "state": "active"}]}, "confidence": 0.9}
    state = {"engine": {"items": [{"id": "case.1"}]}, "n": 1}
    with store.step(case.id, case.version) as step:
        staged = step.append("plan", actor="agent", payload=plan, owned=True)
        copied = step.append("verdict", payload={"rule_ids": ("R1",)})  # not handed over: read back from text
        step.save_state(state, actor="agent", owned=True)
    assert staged.payload == plan and staged.payload["saw"] is plan["saw"]
    assert copied.payload == {"rule_ids": ["R1"]}  # as a reader gets it: the tuple is a list
    assert step.result is not None and step.result.events[-1].payload["state"] is state
    assert list(store.history(case.id)[1:]) == list(step.result.events)
    assert store.case(case.id).state == state
    assert store.verify(case.id).ok
