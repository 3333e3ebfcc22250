"""Append-only means append-only: TRUNCATE is refused, and the store runs without the rights to edit history.

Row triggers do not fire on ``TRUNCATE`` (issue 15: ``TRUNCATE history_events`` passed the
triggers on main). The database also lets an operator take the rights away altogether: the
store's role needs only SELECT and INSERT on ``history_events`` (the README's GRANTs).
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from casepilot.agent.checkpointing import checkpointer_for
from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.demo.run import demo_registry
from casepilot.store import Store
from tests._claims import claim
from tests._postgres import PgServer, throwaway_database
from tests.store._store_helpers import advance, new_case

EXAMPLE = "examples/claims"


def test_truncating_the_history_is_refused(pg_server: PgServer, pg_database: str) -> None:
    store = Store.from_url(pg_server.sqlalchemy_url(pg_database))
    try:
        case = new_case(store)
        advance(store, case.id)
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text("TRUNCATE history_events CASCADE"))
        assert store.verify(case.id).ok
    finally:
        store.close()


GRANTS = """
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
REVOKE UPDATE, DELETE, TRUNCATE ON history_events FROM {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
"""


def test_the_store_works_a_case_without_rights_to_change_history(pg_server: PgServer) -> None:
    role = "casepilot_app_test"
    with throwaway_database(pg_server, "casepilot_grants") as name:
        owner = Store.from_url(pg_server.sqlalchemy_url(name))  # the owner migrates the schema …
        _, checkpoints = checkpointer_for(owner)  # … LangGraph's included
        checkpoints.close()
        owner.close()
        with psycopg.connect(pg_server.libpq_url(name), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
            for statement in filter(str.strip, GRANTS.split(";")):
                conn.execute(sql.SQL(statement.strip()).format(role=sql.Identifier(role)))
        try:
            url = pg_server.sqlalchemy_url(name).replace("://postgres@", f"://{role}@", 1)
            assert f"{role}@" in url
            store = Store.from_url(url)
            registry = demo_registry()
            orch = Orchestrator(store, registry, RulePlanner())
            try:
                orch.deploy(EXAMPLE)
                case_id = orch.start_case("claim-triage", claim(
                    "My parked car was hit; the repair costs EUR 640. Kind regards.", "CLM-1")).id
                outcome = orch.run(case_id)
                assert outcome.reason == "completed", outcome
                assert store.verify(case_id).ok
                with pytest.raises(DBAPIError, match="permission denied"), store.engine.begin() as conn:
                    conn.execute(text("DELETE FROM history_events WHERE case_id = :c"), {"c": case_id})
            finally:
                orch.close()
                store.close()
        finally:
            with psycopg.connect(pg_server.libpq_url(name), autocommit=True) as conn:
                conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
