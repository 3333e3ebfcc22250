"""Migration 0005 on a database with cases: ``casepilot db upgrade`` points every case at its
last snapshot and fills the running spend totals from the events already there."""

from __future__ import annotations

from decimal import Decimal

from alembic import command
from sqlalchemy import text

from casepilot.store import Store
from casepilot.store._cases import llm_spend_from_events
from casepilot.store._migrate import _config, head_revision
from tests.store._store_helpers import advance, new_case


def test_upgrading_a_0004_database_with_cases(empty_url: str) -> None:
    with Store.from_url(empty_url, snapshot_every=1) as store:
        case = new_case(store, "claims")
        advance(store, case.id, 3)
        other = new_case(store, "other")
        for key_case, cost in ((case, Decimal("0.25")), (other, Decimal("1.5"))):
            with store.step(key_case.id, store.case(key_case.id).version) as step:
                step.append("llm_call", payload={}, tokens=100, cost=cost)
        expected_state = store.case(case.id).state
        snapshot_seq = [e.seq for e in store.history(case.id) if e.kind == "state"][-1]
        with store.engine.begin() as conn:
            command.downgrade(_config(conn), "0004_case_leases")
        with store.engine.begin() as conn:  # as an event from before exact costs (0003): a float only
            if store.backend == "postgresql":
                conn.execute(text("ALTER TABLE history_events DISABLE TRIGGER history_events_append_only"))
            else:
                conn.execute(text("DROP TRIGGER history_events_no_update"))
            conn.execute(text("UPDATE history_events SET cost_nano = NULL WHERE case_id = :c"), {"c": other.id})
        assert store.upgrade() == ("0004_case_leases", head_revision())
        with store.engine.connect() as conn:
            row = conn.execute(text("SELECT snapshot_seq, snapshot_version, version FROM cases WHERE id = :c"),
                               {"c": case.id}).one()
        assert row.snapshot_seq == snapshot_seq
        assert row.snapshot_version == row.version
        assert store.load_case(case.id).state == expected_state
        assert store.verify(case.id).ok and store.verify(other.id).ok
        for key in ("claims", "other"):
            assert store.llm_spend(key) == llm_spend_from_events(store.engine, key)
        assert store.llm_spend("claims") == (100, Decimal("0.25"), 1)
        assert store.llm_spend("other") == (100, Decimal("1.5"), 1)  # from the float cost
        # and the upgraded database keeps working: deltas from now on
        with store.step(case.id, store.case(case.id).version) as step:
            step.save_changes([["set", ["n"], 99]], snapshot=dict)
        assert store.history(case.id)[-1].kind == "state"  # snapshot_every=1 on this store
