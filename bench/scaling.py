"""How much more two worker processes get done than one, measured side by side, with the host's drift paired out.

Run: ``.venv/bin/python bench/scaling.py [--rounds 10] [--batch 100] [--timed 80] [--warm-up 40]
[--pin-cpus] [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]``

Why not ``bench/load.py``'s drain: that bench starts a fresh ``casepilot worker`` pool for each
count and times it once. On the shared 2-core machines this project runs on, the host's speed
moves by ±30 % within minutes (the CPU one claim costs went from 93 to 151 ms within one run of
that bench), so the ratio of two drains a minute apart is as much the host's drift as it is the
workers'; and each fresh pool's first cases (connections preparing their statements, caches
filling) weigh more in the shorter two-worker drain. Here both pools live through the whole
run, on one database, and take turns:

* ``casepilot serve --workers`` and two pools, ``casepilot worker --processes 1`` and
  ``--processes 2`` (each in its own process group), are started once; both are stopped
  (``SIGSTOP``) whenever they are not being measured, and only when every database session
  but the bench's is idle (a pool stopped inside a transaction could hold a lock the other
  needs — the bench checks after stopping and lets it go on if so);
* a **warm-up** batch per pool, not timed;
* then ``--rounds`` rounds. In each, each pool in turn (1 then 2, and 2 then 1 in the next
  round): ``--batch`` straight-through claims are queued while both pools are stopped, the
  pool is continued (``SIGCONT``), and the time until ``--timed`` of them have left the queue
  gives its throughput — the rest of the batch keeps every job slot busy until then, so the
  batch's tail, when slots run dry, is not timed; the pool then finishes the batch (every
  case is checked completed) and is stopped. A round's ratio compares two windows a few
  seconds apart, which the host's drift hardly separates; the median and range over the
  rounds are printed;
* **CPU per case** (from ``/proc``) over the whole batch: the pool's processes, the
  PostgreSQL backends of the database; ``s`` = PostgreSQL ÷ workers gives the ceiling
  ``2 / (1 + s)`` of two CPU-bound workers sharing two cores with the database; and how many
  of the machine's cores were busy during the timed window (``/proc/stat``).

``--pin-cpus`` starts both pools with ``casepilot worker --pin-cpus`` (each worker process on a
CPU of its own: the one-process pool's on CPU 0, the two-process pool's on CPU 0 and CPU 1),
which is how each count gets the most out of the machine; ``--pin-single`` is the older
diagnostic that pins the one-process pool only.

Everything runs on this machine: serve, both pools, PostgreSQL and the bench share its cores.
What it does not measure: start-up (``bench/load.py`` times pools from their start, and the
HTTP side with clients).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from load import (
    ROOT,
    backends,
    children,
    claims_service,
    completed,
    context_switches,
    cpu_seconds,
    fresh_database,
    host_ticks,
    pending,
    span,
    start_case,
    wait_for,
)


@dataclass
class Pool:
    """One ``casepilot worker`` supervisor and its worker processes, in their own process group."""

    processes: int
    supervisor: subprocess.Popen[bytes]
    log: Path

    def pids(self) -> list[int]:
        return [self.supervisor.pid, *children(self.supervisor.pid)]

    def signal(self, sig: signal.Signals) -> None:
        os.killpg(self.supervisor.pid, sig)

    def close(self) -> None:
        """Let the pool run (it may be stopped) and stop it as a user would (SIGTERM)."""
        self.signal(signal.SIGCONT)
        self.supervisor.send_signal(signal.SIGTERM)
        self.supervisor.wait(120)


@dataclass
class Figures:
    rate: list[float] = field(default_factory=list)
    """Cases per second in the timed window, one per round."""
    cpu_workers: list[float] = field(default_factory=list)
    """CPU milliseconds per case, the pool's processes."""
    cpu_postgres: list[float] = field(default_factory=list)
    busy_cores: list[float] = field(default_factory=list)
    switches: list[float] = field(default_factory=list)
    """Voluntary context switches of the pool's threads per case: waits for the database or the GIL."""


def idle_sessions_only(watch: psycopg.Connection[tuple[object, ...]]) -> bool:
    """Whether every session of the bench's database but ``watch`` is idle (no statement, no open transaction)."""
    row = watch.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND state IS DISTINCT FROM 'idle'").fetchone()
    return row is not None and int(row[0]) == 0


def stop(pool: Pool, watch: psycopg.Connection[tuple[object, ...]]) -> None:
    """Stop ``pool`` at a moment when it holds no transaction open: check, stop, check again (a
    stopped process cannot change its sessions' state), and let it run a little if it did."""
    while True:
        wait_for(lambda: idle_sessions_only(watch), "every session idle", 120)
        pool.signal(signal.SIGSTOP)
        time.sleep(0.05)
        if idle_sessions_only(watch):
            return
        pool.signal(signal.SIGCONT)
        time.sleep(0.2)


def batch(client: httpx.Client, start: int, size: int) -> list[str]:
    ids = []
    for i in range(start, start + size):
        response = start_case(client, i, 0)
        if response.status_code != 202:
            raise SystemExit(f"bench: starting case {i} answered {response.status_code} {response.text[:300]}")
        ids.append(response.json()["id"])
    return ids


def turn(pool: Pool, ids: list[str], timed: int, db: str, watch: psycopg.Connection[tuple[object, ...]],
         mine: set[int], figures: Figures | None) -> None:
    """Continue ``pool`` on a queued batch, time it until ``timed`` cases have left the queue, let it
    finish the batch, stop it; record its figures (unless warming up)."""
    size = len(ids)
    watched = [pid for pid in backends(db) if pid not in mine]
    before = {pid: cpu_seconds(pid) for pid in [*pool.pids(), *watched]}
    host_before = host_ticks()
    switched = context_switches(pool.pids())["voluntary"]
    started = time.monotonic()
    pool.signal(signal.SIGCONT)
    deadline = started + 900
    while pending(watch) > size - timed:
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: the {pool.processes}-process pool did not work {timed} cases in 900 s "
                             f"(see {pool.log})")
        time.sleep(0.01)
    window = time.monotonic() - started
    host_after = host_ticks()
    wait_for(lambda: pending(watch) == 0, "the batch worked", 900)
    stop(pool, watch)
    for pid in backends(db):  # sessions the pool opened during its turn: all their CPU is the turn's
        if pid not in mine and pid not in before:
            watched.append(pid)
            before[pid] = 0.0
    after = {pid: cpu_seconds(pid) for pid in before}
    switched = context_switches(pool.pids())["voluntary"] - switched
    done = completed(watch, ids)
    if done != size:
        raise SystemExit(f"bench: only {done} of the batch's {size} claims completed (see {pool.log})")
    if figures is None:
        return
    figures.rate.append(timed / window)
    pool_pids = set(pool.pids())
    figures.cpu_workers.append(sum(after[p] - before[p] for p in before if p in pool_pids) / size * 1000)
    figures.cpu_postgres.append(sum(after[p] - before[p] for p in watched) / size * 1000)
    figures.switches.append(switched / size)
    cores = os.cpu_count() or 1
    figures.busy_cores.append(cores * (host_after[0] - host_before[0]) / max(1, host_after[1] - host_before[1]))


def start_pool(db: str, processes: int, logs: Path, env: dict[str, str], cores: set[int] | None = None,
               options: tuple[str, ...] = ()) -> Pool:
    """Start a pool; ``cores``: the CPUs its processes may run on (default: any); ``options``: more of
    ``casepilot worker``'s."""
    log = logs / f"workers-{processes}.log"
    supervisor = subprocess.Popen([sys.executable, "-m", "casepilot.worker", "--db", db, "--processes", str(processes),
                                   *options],
                                  env=env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                                  start_new_session=True,
                                  preexec_fn=None if cores is None else lambda: os.sched_setaffinity(0, cores))
    return Pool(processes, supervisor, log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=100, help="claims queued for a pool's turn")
    parser.add_argument("--timed", type=int, default=80, help="of which the first to leave the queue are timed")
    parser.add_argument("--warm-up", type=int, default=40, help="claims per pool before the rounds, not timed")
    parser.add_argument("--pin-single", action="store_true",
                        help="a diagnostic: run the one-process pool on CPU 0 only (its threads then hand the GIL "
                             "to each other on one core instead of across two); PostgreSQL and the two-process "
                             "pool run anywhere")
    parser.add_argument("--pin-cpus", action="store_true",
                        help="both pools run `casepilot worker --pin-cpus`: each worker process on a CPU of its own "
                             "(the one-process pool's on CPU 0, the two-process pool's on CPU 0 and CPU 1)")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.pin_single and args.pin_cpus:
        parser.error("--pin-single is a diagnostic of its own: leave out --pin-cpus with it")
    if not 0 < args.timed < args.batch:
        parser.error("--timed must be between 0 and --batch")
    logs = Path(tempfile.mkdtemp(prefix="casepilot-scaling-"))
    results = {1: Figures(), 2: Figures()}
    with fresh_database(args.admin_url) as db, ExitStack() as stack:
        env = {**os.environ, "CASEPILOT_DATABASE_URL": db}
        _, _, client = stack.enter_context(claims_service(db, logs, env))
        pools: dict[int, Pool] = {}
        with psycopg.connect("postgresql://" + db.split("://", 1)[1], autocommit=True) as watch:
            mine = {watch.info.backend_pid}
            for processes in (1, 2):  # one after the other: the set-up's advisory lock is not measured
                pools[processes] = pool = start_pool(db, processes, logs, env,
                                                     {0} if processes == 1 and args.pin_single else None,
                                                     ("--pin-cpus",) if args.pin_cpus else ())
                stack.callback(pool.close)  # (before serve stops: callbacks run last in, first out)
                wait_for(lambda pool=pool: pool.log.read_text(errors="replace").count("casepilot worker ready")
                         >= pool.processes, f"{processes} worker process(es) ready", 300)
                stop(pool, watch)
            numbered = iter(range(10**9))
            print(f"warming up: {args.warm_up} claims per pool…", file=sys.stderr, flush=True)
            for pool in pools.values():
                turn(pool, batch(client, next(numbered) * args.batch, args.warm_up), min(args.timed, args.warm_up - 1),
                     db, watch, mine, None)
            for number in range(args.rounds):
                order = (1, 2) if number % 2 == 0 else (2, 1)
                for processes in order:
                    ids = batch(client, next(numbered) * args.batch, args.batch)
                    turn(pools[processes], ids, args.timed, db, watch, mine, results[processes])
                one, two = results[1].rate[-1], results[2].rate[-1]
                print(f"round {number + 1}/{args.rounds}: 1 worker {one:.1f} cases/s, 2 workers {two:.1f} "
                      f"cases/s: {two / one:.2f}×", file=sys.stderr, flush=True)
            time.sleep(1.0)  # the statistics reach pg_stat_user_tables
            watch.execute("SELECT pg_stat_clear_snapshot()")
            written = watch.execute(
                "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables "
                "WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY n_tup_ins DESC").fetchall()
            claims = 2 * args.warm_up + 2 * args.rounds * args.batch
    print(f"\ncasepilot worker pools on PostgreSQL, {os.cpu_count()} cores, {args.rounds} rounds of {args.batch} "
          f"claims per pool, {args.timed} timed{', the one-process pool on CPU 0' if args.pin_single else ''}"
          f"{', casepilot worker --pin-cpus' if args.pin_cpus else ''} "
          f"(ranges min–max; logs in {logs})\n")
    print(f"{'workers':>7} | {'cases/s':>9} | {'CPU ms per case: workers':>24} | {'PostgreSQL':>10} | "
          f"{'s':>9} | cores busy | voluntary switches per case")
    for processes, fig in results.items():
        shares = [p / w for p, w in zip(fig.cpu_postgres, fig.cpu_workers, strict=True) if w]
        print(f"{processes:>7} | {span(fig.rate):>9} | {span(fig.cpu_workers):>24} | {span(fig.cpu_postgres):>10} | "
              f"{span(shares, 2):>9} | {span(fig.busy_cores, 2):>10} | {span(fig.switches, 0)}")
    print(f"\nrows written per claim, by table (all {claims} claims, both pools): inserted | updated | deleted")
    for name, inserted, updated, deleted in written:
        print(f"{name:<28} {int(inserted) / claims:>8.1f} | {int(updated) / claims:>5.1f} | {int(deleted) / claims:>5.1f}")
    ratios = [two / one for one, two in zip(results[1].rate, results[2].rate, strict=True)]
    print(f"\n2 workers / 1 worker, by round: {', '.join(f'{r:.2f}' for r in ratios)}")
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    print(f"2 workers / 1 worker: {span(ratios, 2)}× (median {statistics.median(ratios):.2f}×, "
          f"quartiles {quartiles[0]:.2f}–{quartiles[2]:.2f}×)")


if __name__ == "__main__":
    main()
