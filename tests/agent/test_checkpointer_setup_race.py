"""Several workers starting at once on a new PostgreSQL database all come up (issue 15).

LangGraph's ``PostgresSaver.setup()`` is not safe to run concurrently: on main, workers
started together on a new database crashed with ``UniqueViolation``. Schema set-up now runs
under an advisory lock, one process at a time.
"""

from __future__ import annotations

import threading

import psycopg

from casepilot.agent.checkpointing import checkpointer_for
from casepilot.store import Store
from tests._postgres import require_postgres, throwaway_database

WORKERS = 6


def test_workers_starting_together_on_a_new_database_all_come_up() -> None:
    server = require_postgres()
    for _ in range(3):
        with throwaway_database(server, "casepilot_setup_race") as name:
            barrier = threading.Barrier(WORKERS)
            errors: list[BaseException] = []

            def start_worker(barrier: threading.Barrier = barrier, errors: list[BaseException] = errors) -> None:
                barrier.wait()
                try:
                    store = Store.from_url(server.sqlalchemy_url(name))
                    saver, conn = checkpointer_for(store)
                    assert saver is not None
                    conn.close()
                    store.close()
                except BaseException as exc:  # collected: the assertion below names them
                    errors.append(exc)

            threads = [threading.Thread(target=start_worker) for _ in range(WORKERS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
            assert errors == []
            with psycopg.connect(server.libpq_url(name)) as conn:
                migrations = conn.execute("SELECT count(*) FROM checkpoint_migrations").fetchone()
                assert migrations is not None and migrations[0] > 0
                cases = conn.execute("SELECT count(*) FROM cases").fetchone()
                assert cases == (0,)
