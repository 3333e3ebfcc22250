"""Crash bench: 1,000 claim cases, 4 worker processes, slow tools, a random worker SIGKILLed every 1–3 s.

Run: ``.venv/bin/python bench/crash_bench.py [--cases 1000] [--workers 4] [--kill-every 1-3]
[--tool-delay 0.05-0.3] [--seed 15] [--timeout S] [--keep-db]
[--admin-url postgresql://postgres@127.0.0.1:5432/postgres]``

The longer run of the crash-storm test (``tests/worker/test_crash_storm.py``, 200 cases),
with the same harness (``tests/worker/_storm.py``): on a fresh PostgreSQL database the claims
example is deployed with its tools made slow (``tests/worker/_slow_tools.py``: each claim tool
sleeps a random ``--tool-delay``; a payment is counted in a ``tool_runs`` table outside
casepilot half-way through its delay), every case is queued, then ``casepilot worker
--processes N`` starts and a random worker is SIGKILLed every ``--kill-every`` seconds — the
supervisor forks a new one in its place — until nothing is due, running or leased.

It prints a progress line every few seconds and, at the end: cases completed / waiting for a
person (by role) / anything else, kills, double executions of non-idempotent tools, histories
verified, lost steps, the time and cases/s, and the recovery checkpoints raised ("this call
may have run — run it again?", by tool). Exit status 1 when an invariant fails: a case that is
neither completed nor waiting for a person with a role, a tool run twice for a case, a history
that does not verify, a lost step, a storm that did not settle within ``--timeout``, or
workers that did not stop cleanly. Figures are correctness figures first: serve, the workers,
PostgreSQL and this script share the machine's cores.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from casepilot.agent.orchestrator import Orchestrator  # noqa: E402
from casepilot.agent.rule_planner import RulePlanner  # noqa: E402
from casepilot.store import Store  # noqa: E402
from casepilot.worker import JobScheduler  # noqa: E402
from casepilot.worker.schema import ensure_queue  # noqa: E402
from tests.worker import _slow_tools, _storm, _tools  # noqa: E402
from tests.worker.conftest import libpq  # noqa: E402

EVERY = 5.0
"""Seconds between progress lines."""

_COMPLETED = text("SELECT count(DISTINCT case_id) FROM history_events WHERE kind = 'transition' "
                  "AND (payload_json::jsonb)->>'instance' = 'case' AND (payload_json::jsonb)->>'to_state' = 'Completed'")
_WAITING = text("SELECT coalesce(role, '(no role)'), count(DISTINCT case_id) FROM human_tasks "
                "WHERE status = 'open' GROUP BY 1 ORDER BY 1")
_JOBS = text("SELECT count(*) FILTER (WHERE status = 'queued' AND execute_after <= now()), "
             "count(*) FILTER (WHERE status = 'picked') FROM pgqueuer")
_PAYMENTS = text("SELECT count(*) FROM tool_runs WHERE tool = 'pay_claim'")  # the payment process's transfer


@contextlib.contextmanager
def fresh_database(admin_url: str, *, keep: bool) -> Iterator[str]:
    """A new database (SQLAlchemy URL), dropped afterwards unless ``keep``."""
    name = f"casepilot_crash_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield "postgresql+psycopg://" + f"{admin_url.rsplit('/', 1)[0]}/{name}".split("://", 1)[1]
    finally:
        if keep:
            print(f"database kept: {name}", flush=True)
        else:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def progress(store: Store, cases: int, kills: int, began: float) -> str:
    with store.engine.connect() as conn:
        completed = conn.execute(_COMPLETED).scalar_one()
        waiting = ", ".join(f"{role} {n}" for role, n in conn.execute(_WAITING)) or "none"
        due, running = conn.execute(_JOBS).one()
        payments = conn.execute(_PAYMENTS).scalar_one()
    return (f"[{time.monotonic() - began:6.0f} s] kills {kills:4d} · completed {completed}/{cases} · "
            f"waiting for a person: {waiting} · payments booked {payments} · jobs due {due}, running {running}")


def excerpt(store: Store, case_id: str, last: int = 15) -> str:
    """The end of a case's history, one event a line (for a report on a failed invariant)."""
    lines = []
    for event in store.history(case_id)[-last:]:
        payload = {k: v for k, v in event.payload.items() if k in ("tool", "call_id", "problem", "to_state", "name",
                                                                   "chose", "decision", "role", "task_id")}
        lines.append(f"    {event.seq:3d} {event.at:%H:%M:%S.%f} {event.kind:20s} {event.actor:24s} {payload}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kill-every", default="1-3", help="seconds between kills, low-high (uniform)")
    parser.add_argument("--tool-delay", default="0.05-0.3", help="seconds each claim tool takes, low-high (uniform)")
    parser.add_argument("--seed", type=int, default=15, help="seeds the choice of victims and the times between kills")
    parser.add_argument("--timeout", type=float, default=None, help="seconds of storm before giving up "
                        "(default: 600 + 2 per case)")
    parser.add_argument("--keep-db", action="store_true", help="keep the database for a look afterwards")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    try:
        kill_every = _slow_tools.parse_range(args.kill_every)
        _slow_tools.parse_range(args.tool_delay)
    except ValueError as exc:
        parser.error(str(exc))
    if args.cases < 1 or args.workers < 1:
        parser.error("--cases and --workers take a positive number")
    timeout = args.timeout if args.timeout is not None else 600.0 + 2.0 * args.cases
    rng = random.Random(args.seed)
    logs = Path(tempfile.mkdtemp(prefix="casepilot-crash-"))
    load_before = os.getloadavg()
    began = time.monotonic()
    print(f"crash bench: {args.cases} cases, {args.workers} workers, a kill every {args.kill_every} s, "
          f"tools take {args.tool_delay} s; {os.cpu_count()} cores, load average {load_before[0]:.1f}; "
          f"logs in {logs}", flush=True)

    with fresh_database(args.admin_url, keep=args.keep_db) as db:
        with psycopg.connect(libpq(db), autocommit=True) as conn:
            conn.execute(_tools.TABLE)
        store = Store.from_url(db)
        ensure_queue(store.postgres_conninfo or "")
        orch = Orchestrator(store, _slow_tools.registry(), RulePlanner())
        orch.runtime.on_step = JobScheduler(run_on_change=True)  # as `casepilot serve` on PostgreSQL
        workers = _storm.StormWorkers(db, logs / "workers.log", _slow_tools.SPEC, *_storm.WORKER_OPTIONS,
                                      env={_slow_tools.ENV_DELAY_RANGE: args.tool_delay})
        code: int | None = None
        try:
            orch.deploy(_storm.claims_bundle(logs / "claims", _slow_tools.SPEC))
            shown = [time.monotonic()]
            lock = threading.Lock()

            def started(done: int) -> None:
                with lock:
                    if time.monotonic() - shown[0] >= EVERY or done == args.cases:
                        shown[0] = time.monotonic()
                        print(f"[{time.monotonic() - began:6.0f} s] queued {done}/{args.cases} cases", flush=True)

            case_ids = _storm.start_cases(orch, args.cases, on_started=started)
            queued_at = time.monotonic()
            workers.start(args.workers)
            workers.wait_ready(args.workers, timeout=300)
            ready_at = time.monotonic()
            print(f"[{ready_at - began:6.0f} s] {args.workers} workers ready; the storm begins", flush=True)

            def tick(kills: int) -> None:
                if time.monotonic() - shown[0] >= EVERY:
                    shown[0] = time.monotonic()
                    print(progress(store, args.cases, kills, began), flush=True)

            storm = _storm.storm(workers, store, rng, kill_every=kill_every, timeout=timeout, on_tick=tick)
            print(progress(store, args.cases, storm.kills, began), flush=True)
        finally:
            try:
                code = workers.stop()
            except subprocess.TimeoutExpired:  # Workers.stop has SIGKILLed them all by now
                code = None
        stopped_at = time.monotonic()

        def checked(done: int) -> None:
            if done % 250 == 0 or done == args.cases:
                print(f"[{time.monotonic() - began:6.0f} s] checked {done}/{args.cases} cases", flush=True)

        report = _storm.check(store, orch, db, case_ids, on_checked=checked)
        failures = list(report.problems)
        if not storm.settled:
            failures.append(f"cases still moving after {timeout:g} s of storm")
        if code is None:
            failures.append(f"the workers did not stop within 90 s of SIGTERM (SIGKILLed; see {logs / 'workers.log'})")
        elif code != 0:
            failures.append(f"the workers did not stop cleanly (exit {code}; see {logs / 'workers.log'})")
        for i, case_id in enumerate(case_ids):
            if any(case_id in problem for problem in report.problems):
                print(f"\ncase {i} ({case_id}), the end of its history:\n{excerpt(store, case_id)}")
        orch.close()
        store.close()

    load_after = os.getloadavg()
    other = sum(n for outcome, n in report.outcomes.items() if outcome.startswith("other:"))
    waiting = {outcome.split(":", 1)[1]: n for outcome, n in sorted(report.outcomes.items())
               if outcome.startswith("waiting:")}
    storm_seconds = storm.seconds
    print(f"""
crash bench: {args.cases} claim cases (¾ straight-through, ¼ for a senior analyst), {args.workers} worker processes,
a random worker SIGKILLed every {args.kill_every} s, claim tools taking {args.tool_delay} s; {os.cpu_count()} cores,
load average {load_before[0]:.1f} before, {load_after[0]:.1f} after (the machine is shared)

  cases completed                          {report.outcomes['completed']}
  cases waiting for a person, by role      {', '.join(f'{role}: {n}' for role, n in waiting.items()) or 'none'}
  cases in any other state (must be 0)     {other}
  workers killed (SIGKILL)                 {storm.kills}
  double executions, non-idempotent (0)    {sum(n - 1 for n in report.double.values())}
  histories verified                       {report.verified}/{args.cases}
  lost steps (must be 0)                   {len(report.lost)}
  "run it again?" checkpoints, by tool     {', '.join(f'{t}: {n}' for t, n in sorted(report.recovery.items())) or 'none'}
  … of which had really run (tool_runs)    {', '.join(f'{t}: {n}' for t, n in sorted(report.recovery_ran.items())) or 'none'}
  real tool executions (tool_runs)         {', '.join(f'{t}: {n}' for t, n in sorted(report.executions.items()))}
  storm (workers ready → {'settled' if storm.settled else 'gave up'})          {storm_seconds:.0f} s, {args.cases / storm_seconds:.2f} cases/s
  cases queued before the workers start    {queued_at - began:.0f} s
  workers stopped (SIGTERM)                {stopped_at - ready_at - storm.seconds:.0f} s after the storm
  total time                               {time.monotonic() - began:.0f} s
""")
    if failures:
        print(f"FAILED: {len(failures)} invariant(s) broken:", *failures[:50], sep="\n  ")
        return 1
    print("every invariant holds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
