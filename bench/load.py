"""Throughput of ``casepilot serve`` + ``casepilot worker`` on PostgreSQL, by worker processes and clients.

Run: ``.venv/bin/python bench/load.py [--runs 3] [--workers 1,2,4] [--clients 1,8,32] [--cases 64]
[--drain 160] [--mirrored] [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]``

For every run and every worker count W, on a fresh database:

* ``casepilot serve --db … --workers`` (one uvicorn process; requests answer at once and
  enqueue) and ``casepilot worker --processes W`` (W worker processes forked from one
  warmed-up parent), the claims example deployed, straight-through letters (no person
  needed), the offline RulePlanner;
* **drain**: ``--drain`` cases are started (queued) before the workers start; from a moment
  after every worker says it is ready until all are completed, the cases completed in that
  window over its length give the workers' own throughput (cases/s), free of the HTTP side.
  The workers start on the queue as soon as they are ready, so the cases they completed
  before the window opens are counted out (``completed``) — counting them in made a short
  drain look faster the more workers there were;
* **clients**: C client threads each start cases with ``POST /cases?wait=120`` (the answer
  comes when the worker has finished the case) until ``--cases`` cases are done: cases/s
  and the p50/p95 of the request latency (enqueue → worked → answered);
* **pick-up latency**: how long a run job waited in the queue once due before a worker took
  it (the workers' ``--stats``), during the client phases;
* **CPU per case** during the drain, read from ``/proc``: the worker processes', the
  PostgreSQL backends' serving this database, and serve's (idle then). Whatever PostgreSQL
  spends per case is CPU the workers cannot have on a machine whose cores they share: with
  ``s`` = PostgreSQL's share of a worker's CPU, two CPU-bound workers on two cores can reach
  at most ``2 / (1 + s)`` times one worker.

* **context switches** of the worker processes' threads per drained case (``/proc/<pid>/task``):
  a voluntary one is a thread that waited — for the database, or for the GIL another thread of
  its process held. One process's two job threads hand the GIL to each other at nearly every
  database round trip while the second core is free to run the woken one; with two processes
  the cores are busy and far fewer such hand-overs happen — which makes one worker dearer per
  case than each of two on some hosts (``README``, *Several workers*).

* **the host's own scaling** (``--calibrate``, ``_host_scaling``): before every run, how much two
  CPU-bound Python processes get done against one. On a shared virtual machine this moves
  (1.2× to 2.0× was seen within one hour): a run in which the host itself did not scale
  cannot show two workers scaling, and the table says which runs those were. The worker
  counts take turns within every run, in reverse order every other run.

For the 2-versus-1 ratio alone, ``bench/scaling.py`` is steadier: two pools live side by side
and take turns on batches seconds apart, and neither pool's start-up is timed.

Prints one table with the range (min–max) over the runs of each figure. Everything runs on
this machine: serve, the workers, PostgreSQL and the clients share its cores.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from _host_scaling import cpu_scaling  # noqa: E402

from casepilot.demo.run import EXAMPLE  # noqa: E402
from tests._claims import PAY_TO, SMALL_LETTER  # noqa: E402

LETTER = SMALL_LETTER
"""The straight-through letter claiming 950: the claim is paid by the payment process without any
person (above 1,000 a claims manager approves), so every case is worked to its end."""


@dataclass
class Figures:
    drain: list[float] = field(default_factory=list)
    rate: dict[int, list[float]] = field(default_factory=dict)
    p50: dict[int, list[float]] = field(default_factory=dict)
    p95: dict[int, list[float]] = field(default_factory=dict)
    pickup50: list[float] = field(default_factory=list)
    pickup95: list[float] = field(default_factory=list)
    cpu_worker: list[float] = field(default_factory=list)
    """CPU milliseconds per drained case, summed over the worker processes."""
    cpu_postgres: list[float] = field(default_factory=list)
    cpu_serve: list[float] = field(default_factory=list)
    counts: dict[str, list[float]] = field(default_factory=dict)
    """``pg_stat_database`` counters per drained case (transactions, rows)."""
    statements: dict[str, list[float]] = field(default_factory=dict)
    """Statements per drained case by kind (``--log-statements``)."""
    statement_ms: dict[str, list[float]] = field(default_factory=dict)
    """Milliseconds the server spent on them per drained case, by kind (parse, bind and execute)."""
    busy_cores: list[float] = field(default_factory=list)
    """Cores the whole machine kept busy during the drain (``/proc/stat``)."""
    switches: dict[str, list[float]] = field(default_factory=dict)
    """Context switches of the worker processes' threads per drained case, ``voluntary`` (a
    thread waited: for the database, or for the GIL another of its process's threads held) and
    ``involuntary`` (preempted)."""
    measured_cores: list[float] = field(default_factory=list)
    """Cores the workers, PostgreSQL's backends of the bench's database and serve used meanwhile:
    the rest of ``busy_cores`` is PostgreSQL's background processes, the kernel, the bench itself."""


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def context_switches(pids: list[int]) -> dict[str, int]:
    """Voluntary and involuntary context switches so far, summed over every thread of ``pids``."""
    total = {"voluntary": 0, "involuntary": 0}
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                status = (task / "status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                name, _, value = line.partition(":")
                if name == "voluntary_ctxt_switches":
                    total["voluntary"] += int(value)
                elif name == "nonvoluntary_ctxt_switches":
                    total["involuntary"] += int(value)
    return total


def host_ticks() -> tuple[int, int]:
    """(busy, all) CPU ticks of the whole machine since boot (``/proc/stat``; idle and iowait are not busy)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def backends(db_url: str) -> list[int]:
    """The PostgreSQL server processes connected to the bench's database (but this query's)."""
    with psycopg.connect("postgresql://" + db_url.split("://", 1)[1]) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                            "AND pid <> pg_backend_pid()").fetchall()
    return [int(r[0]) for r in rows]


@contextmanager
def fresh_database(admin_url: str, *, log_statements: bool = False) -> Iterator[str]:
    name = f"casepilot_load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        if log_statements:  # this database's sessions only; dropped with it
            conn.execute(sql.SQL("ALTER DATABASE {} SET log_min_duration_statement = 0").format(sql.Identifier(name)))
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield "postgresql+psycopg://" + f"{base}/{name}".split("://", 1)[1]
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: object, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: {what} did not happen within {timeout:g} s")
        time.sleep(0.1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def completed(conn: psycopg.Connection[tuple[object, ...]], case_ids: list[str]) -> int:
    """How many of ``case_ids`` have completed: their case plan model's transition to Completed
    is in the history (canonical JSON text, keys sorted, no spaces)."""
    row = conn.execute(
        "SELECT count(DISTINCT case_id) FROM history_events WHERE case_id = ANY(%s) AND kind = 'transition' "
        "AND payload_json LIKE '%%\"instance\":\"case\"%%' AND payload_json LIKE '%%\"to_state\":\"Completed\"%%'",
        (case_ids,)).fetchone()
    return int(row[0]) if row else 0


def pending(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    row = conn.execute("SELECT count(*) FROM pgqueuer WHERE status IN ('queued', 'picked')").fetchone()
    return int(row[0]) if row else 0


_COUNTED = ("xact_commit", "xact_rollback", "tup_inserted", "tup_updated", "tup_deleted", "tup_returned",
            "tup_fetched")


def database_counts(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, int]:
    """The database's transaction and row counters (``pg_stat_database``; the statistics
    collector publishes them with a delay of up to a second, hence the wait before reading)."""
    conn.execute("SELECT pg_stat_clear_snapshot()")
    row = conn.execute(f"SELECT {', '.join(_COUNTED)} FROM pg_stat_database WHERE datname = current_database()"
                       ).fetchone()
    assert row is not None
    return {name: int(value) for name, value in zip(_COUNTED, row, strict=True)}  # type: ignore[call-overload]


_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d [\d:.]+ \S+ \[(\d+)\] (?:\S*@(\S*) )?(\w+):  (.*)")
_DURATION = re.compile(r"duration: ([\d.]+) ms  (statement|execute|parse|bind)[^:]*: (.*)")
_WRITES = re.compile(r"\b(INSERT INTO|(?<!FOR )(?<!DO )UPDATE(?! SET\b)|DELETE FROM)\s+([\w.\"]+)", re.IGNORECASE)
_READS = re.compile(r"\bFROM\s+([\w.\"]+)", re.IGNORECASE)


def statement_kind(text: str) -> str:
    """A logged statement reduced to its kind: its verb and the tables it writes (or reads)."""
    text = " ".join(text.split())
    verb = text.split(" ", 1)[0].upper().rstrip(";") or ";"
    writes = [f"{w.split()[0].upper()} {t.strip(chr(34))}" for w, t in _WRITES.findall(text)]
    if writes:
        return ("WITH " if verb == "WITH" else "") + ", ".join(dict.fromkeys(writes))
    if verb in ("SELECT", "WITH"):
        found = _READS.search(text)
        return f"SELECT {found.group(1).strip(chr(34))}" if found else text[:50]
    return text[:50]


def logged_statements(log: Path, offset: int, database: str, *, but: set[int]) -> dict[str, tuple[int, float]]:
    """Count the statements the server logged for ``database`` after ``offset``, with the milliseconds
    the server spent on them (``log_min_duration_statement = 0``: one line per statement, or per
    parse, bind and execute of a prepared one — only the executes are counted, all three timed; a
    statement's further lines follow its first one, indented), but those of the backends ``but``."""
    entries: list[tuple[list[str], bool, float]] = []
    current: list[str] | None = None
    with log.open("rb") as f:
        f.seek(offset)
        for raw in f:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            found = _LOG_LINE.match(line)
            if found is None:
                if current is not None:
                    current.append(line)
                continue
            current = None
            if found.group(2) != database or found.group(3) != "LOG" or int(found.group(1)) in but:
                continue
            timed = _DURATION.match(found.group(4))
            if timed is None:
                continue
            phase, text = timed.group(2), timed.group(3)
            current = [text]
            entries.append((current, phase in ("statement", "execute"), float(timed.group(1))))
    counts: dict[str, tuple[int, float]] = {}
    for lines, counted, ms in entries:
        kind = statement_kind(" ".join(lines))
        count, spent = counts.get(kind, (0, 0.0))
        counts[kind] = (count + counted, spent + ms)
    return counts


def start_case(client: httpx.Client, i: int, wait: float) -> httpx.Response:
    return client.post("/cases", params={"wait": wait} if wait else None, json={
        "definition_key": "claim-triage", "variables": {"letter": LETTER, "policy": f"POL-LOAD-{i}",
                                                    "claim_id": f"CLM-LOAD-{i}", **PAY_TO}}, timeout=300)


@contextmanager
def claims_service(db: str, logs: Path, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], int,
                                                                                 httpx.Client]]:
    """``casepilot serve --workers`` on ``db`` answering, with the claims example deployed: (its
    process, its port, a client of it); stopped (SIGTERM) on leaving."""
    port = free_port()
    serve = subprocess.Popen([str(BIN / "casepilot"), "serve", "--db", db, "--port", str(port), "--workers"],
                             env=env, stdout=(logs / "serve.log").open("ab"), stderr=subprocess.STDOUT)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}")

        def up() -> bool:
            try:
                return client.get("/definitions").status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, "casepilot serve answering", 120)
        files = {p.name: p.read_text(encoding="utf-8") for p in EXAMPLE.iterdir() if p.is_file()}
        if client.post("/definitions", json={"files": files}).status_code != 201:
            raise SystemExit(f"bench: deploying the claims example failed (see {logs / 'serve.log'})")
        yield serve, port, client
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(60)


def stop_pool(pool: subprocess.Popen[bytes]) -> None:
    pool.send_signal(signal.SIGTERM)
    pool.wait(120)


def one_config(admin_url: str, workers: int, clients: list[int], cases: int, drain: int, figures: Figures,
               logs: Path, server_log: Path | None = None, concurrency: int | None = None) -> None:
    with fresh_database(admin_url, log_statements=server_log is not None) as db, ExitStack() as stack:
        env = {**os.environ, "CASEPILOT_DATABASE_URL": db}
        worker_log = logs / f"workers-{workers}-{uuid.uuid4().hex[:6]}.log"
        stats = logs / f"stats-{uuid.uuid4().hex[:6]}.txt"
        serve, port, client = stack.enter_context(claims_service(db, logs, env))
        drained = []
        for i in range(drain):
            response = start_case(client, i, 0)
            assert response.status_code == 202, response.text
            drained.append(response.json()["id"])
        pool = subprocess.Popen([sys.executable, "-m", "casepilot.worker", "--db", db, "--processes", str(workers),
                                 "--stats", str(stats),
                                 *(["--concurrency", str(concurrency)] if concurrency else [])], env=env, cwd=ROOT,
                                stdout=worker_log.open("ab"), stderr=subprocess.STDOUT)
        stack.callback(stop_pool, pool)  # (before serve stops: callbacks run last in, first out)
        wait_for(lambda: worker_log.read_text(errors="replace").count("casepilot worker ready") >= workers,
                 f"{workers} workers ready", 300)
        workers_pids = [pool.pid, *children(pool.pid)]
        with psycopg.connect("postgresql://" + db.split("://", 1)[1], autocommit=True) as watch:
            mine = {watch.info.backend_pid}
            time.sleep(1.0)  # the statistics of the set-up reach pg_stat_database
            counted = database_counts(watch)
            offset = server_log.stat().st_size if server_log is not None else 0
            before = {pid: cpu_seconds(pid) for pid in [*workers_pids, *backends(db), serve.pid] if pid not in mine}
            started = time.monotonic()
            host_before = host_ticks()
            switched_before = context_switches(workers_pids)
            done_before = completed(watch, drained)  # the workers began as soon as they were ready
            wait_for(lambda: pending(watch) == 0, "the queue drained", 900)
            # Read the CPU at once, before anything else asks serve or PostgreSQL for work.
            after = {pid: cpu_seconds(pid) for pid in {*workers_pids, *backends(db), *before, serve.pid} - mine}
            host_after = host_ticks()
            switched_after = context_switches(workers_pids)
            elapsed = time.monotonic() - started
            cores = os.cpu_count() or 1
            figures.busy_cores.append(
                cores * (host_after[0] - host_before[0]) / max(1, host_after[1] - host_before[1]))
            figures.measured_cores.append(sum(after[p] - before.get(p, 0.0) for p in after) / elapsed)
            in_window = completed(watch, drained) - done_before
            if in_window < drain // 2:
                raise SystemExit(f"bench: only {in_window} of {drain} cases were completed in the timed window; "
                                 "use a larger --drain")
            figures.drain.append(in_window / elapsed)
            for kind, count in switched_after.items():
                figures.switches.setdefault(kind, []).append((count - switched_before[kind]) / in_window)
            time.sleep(1.0)
            totals = database_counts(watch)
        pg_pids = set(after) - {*workers_pids, serve.pid}

        def spent(pids: object) -> float:  # per case completed in the window
            return sum(after.get(p, 0.0) - before.get(p, 0.0) for p in pids) / in_window * 1000  # type: ignore[attr-defined]

        figures.cpu_worker.append(spent(workers_pids))
        figures.cpu_postgres.append(spent(pg_pids))
        figures.cpu_serve.append(spent([serve.pid]))
        for name in _COUNTED:  # (the watch connection's own polls are in these: a few per second)
            figures.counts.setdefault(name, []).append((totals[name] - counted[name]) / in_window)
        if server_log is not None:
            for kind, (count, ms) in logged_statements(server_log, offset, db.rsplit("/", 1)[1],
                                                       but=mine).items():
                figures.statements.setdefault(kind, []).append(count / in_window)
                figures.statement_ms.setdefault(kind, []).append(ms / in_window)
        done = sum(client.get(f"/cases/{case_id}").json()["state"] == "completed" for case_id in drained)
        if done != drain:
            raise RuntimeError(f"only {done} of the {drain} drained claims completed (see {worker_log})")
        skip = len(stats.read_text().splitlines()) if stats.exists() else 0
        n = drain
        for count in clients:
            latencies: list[float] = []
            lock = threading.Lock()
            numbers = iter(range(n, n + cases))
            n += cases

            def client_loop(numbers: Iterator[int] = numbers, latencies: list[float] = latencies,
                            lock: threading.Lock = lock) -> None:
                with httpx.Client(base_url=f"http://127.0.0.1:{port}") as own:
                    while True:
                        with lock:
                            i = next(numbers, None)
                        if i is None:
                            return
                        began = time.monotonic()
                        response = start_case(own, i, 120)
                        took = time.monotonic() - began
                        if response.status_code != 201 or response.json()["state"] != "completed":
                            raise SystemExit(f"bench: case {i} answered {response.status_code} {response.text[:300]}")
                        with lock:
                            latencies.append(took)

            threads = [threading.Thread(target=client_loop) for _ in range(count)]
            began = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - began
            figures.rate.setdefault(count, []).append(cases / elapsed)
            figures.p50.setdefault(count, []).append(percentile(latencies, 0.5) * 1000)
            figures.p95.setdefault(count, []).append(percentile(latencies, 0.95) * 1000)
        pickups = [float(line.split()[1]) for line in stats.read_text().splitlines()[skip:]
                   if line.startswith("casepilot.run_case")]
        figures.pickup50.append(percentile(pickups, 0.5))
        figures.pickup95.append(percentile(pickups, 0.95))


def span(values: list[float], digits: int = 1) -> str:
    if not values:
        return "–"
    low, high = min(values), max(values)
    return f"{low:.{digits}f}" if round(low, digits) == round(high, digits) else f"{low:.{digits}f}–{high:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--cases", type=int, default=64, help="cases per client configuration")
    parser.add_argument("--drain", type=int, default=160, help="cases queued before the workers start")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--calibrate", type=float, default=3.0, metavar="SECONDS",
                        help="before every run, measure how much two CPU-bound processes get done on this machine "
                             "against one (SECONDS each side; 0: don't), so that a host which did not scale at "
                             "that moment can be told from casepilot not scaling")
    parser.add_argument("--log-statements", type=Path, metavar="SERVER_LOG",
                        help="count the statements per drained case by kind and the server's time on them: the "
                             "bench's database logs every statement with its duration (log_min_duration_statement "
                             "= 0, set on that database only) to the server's log, "
                             "read from this path (e.g. /var/log/postgresql/postgresql-15-main.log); the "
                             "logging costs PostgreSQL CPU, so take the CPU figures from a run without it")
    parser.add_argument("--mirrored", action="store_true",
                        help="every worker count twice per run, in mirrored order (1, 2, 2, 1): the run's ratio "
                             "is then free of a steady drift of the shared host's speed during the run (twice "
                             "the time)")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="jobs each worker process works at once (casepilot worker's --concurrency; "
                             "default: the worker's own default)")
    args = parser.parse_args()
    worker_counts = [int(w) for w in args.workers.split(",")]
    client_counts = [int(c) for c in args.clients.split(",")]
    results = {w: Figures() for w in worker_counts}
    logs = Path(tempfile.mkdtemp(prefix="casepilot-load-"))
    host: list[float] = []
    for run in range(args.runs):
        if args.calibrate > 0:
            host.append(cpu_scaling(args.calibrate))
            print(f"run {run + 1}/{args.runs}: two CPU-bound processes did {host[-1]:.2f}x one on this machine",
                  file=sys.stderr, flush=True)
        # Every count in every run, in turn and in reverse order every other run: a drift of the
        # machine's speed during a run then falls on the counts alike over the runs. Mirrored:
        # in turn and then in reverse within every run (1, 2, 2, 1), so that a steady drift
        # falls on both counts of a run alike.
        order = worker_counts if run % 2 == 0 else worker_counts[::-1]
        for workers in order + order[::-1] if args.mirrored else order:
            print(f"run {run + 1}/{args.runs}: {workers} worker process(es)…", file=sys.stderr, flush=True)
            one_config(args.admin_url, workers, client_counts, args.cases, args.drain, results[workers], logs,
                       args.log_statements, args.concurrency)
    print(f"\ncasepilot serve + worker on PostgreSQL, {os.cpu_count()} cores, {args.runs} runs "
          f"(ranges min–max; logs in {logs})\n")
    head = f"{'workers':>7} | {'drain cases/s':>13} | " + " | ".join(
        f"{c:>2} clients: cases/s, p50/p95 ms".rjust(34) for c in client_counts) + " | pick-up p50/p95 ms"
    print(head)
    print("-" * len(head))
    for workers, fig in results.items():
        cells = [f"{span(fig.rate.get(c, []))}, {span(fig.p50.get(c, []), 0)}/{span(fig.p95.get(c, []), 0)}".rjust(34)
                 for c in client_counts]
        print(f"{workers:>7} | {span(fig.drain):>13} | " + " | ".join(cells)
              + f" | {span(fig.pickup50, 0)}/{span(fig.pickup95, 0)}")
    print(f"\n{'workers':>7} | CPU ms per drained case: workers | PostgreSQL | serve | PostgreSQL ÷ workers")
    for workers, fig in results.items():
        shares = [p / w for p, w in zip(fig.cpu_postgres, fig.cpu_worker, strict=False) if w]
        print(f"{workers:>7} | {span(fig.cpu_worker):>32} | {span(fig.cpu_postgres):>10} | {span(fig.cpu_serve):>5} "
              f"| {span(shares, 2)}")
    print(f"\n{'workers':>7} | cores busy during the drain: whole machine | workers, PostgreSQL backends, serve")
    for workers, fig in results.items():
        print(f"{workers:>7} | {span(fig.busy_cores, 2):>42} | {span(fig.measured_cores, 2)}")
    print(f"\n{'workers':>7} | context switches of the workers' threads per drained case: voluntary | involuntary")
    for workers, fig in results.items():
        print(f"{workers:>7} | {span(fig.switches.get('voluntary', []), 0):>71} | "
              f"{span(fig.switches.get('involuntary', []), 0)}")
    names = sorted({name for fig in results.values() for name in fig.counts})
    if names:
        print(f"\n{'workers':>7} | per drained case: " + " | ".join(names))
        for workers, fig in results.items():
            print(f"{workers:>7} | {'':>17}  " + " | ".join(f"{span(fig.counts.get(n, [])):>{len(n)}}" for n in names))
    kinds = sorted({kind for fig in results.values() for kind in fig.statements},
                   key=lambda k: -max(max(fig.statement_ms.get(k, [0.0])) for fig in results.values()))
    if kinds:
        print(f"\nstatements per drained case by kind, and the server's ms on them (parse + bind + execute; "
              f"the logging itself costs more): {', '.join(f'{w} workers' for w in results)}")

        def totals(figs: dict[str, list[float]], fig: Figures) -> list[float]:
            return [sum(v[i] for v in figs.values() if i < len(v)) for i in range(len(fig.drain))]

        def cells(count: list[float], ms: list[float]) -> str:
            return f"{span(count):>9} {span(ms, 2):>11} ms"

        print(f"{'all':<60} " + " | ".join(cells(totals(fig.statements, fig), totals(fig.statement_ms, fig))
                                             for fig in results.values()))
        for kind in kinds:
            print(f"{kind[:60]:<60} " + " | ".join(cells(fig.statements.get(kind, []), fig.statement_ms.get(kind, []))
                                                    for fig in results.values()))
    if 1 in results and 2 in results and results[1].drain and results[2].drain:
        per_run = 2 if args.mirrored else 1
        one, two = results[1].drain, results[2].drain
        ratios = [sum(two[i:i + per_run]) / sum(one[i:i + per_run])
                  for i in range(0, min(len(one), len(two)), per_run)]
        print(f"\n2 workers / 1 worker (drain, paired by run{', mirrored' if args.mirrored else ''}): "
              f"{span(ratios, 2)}× "
              f"(median {statistics.median(ratios):.2f}×)")
        if host:
            print("by run: " + ", ".join(f"{r:.2f}× (host {h:.2f}×)" for r, h in zip(ratios, host, strict=False))
                  + f"\ntwo CPU-bound processes / one on this machine, before each run: {span(host, 2)}× "
                  f"(median {statistics.median(host):.2f}×)")


if __name__ == "__main__":
    main()
