"""What PostgreSQL spends writing a claim's steps, and what each part of that costs.

Run: ``.venv/bin/python bench/pg_step_cost.py [--claims 150] [--rounds 3]
[--admin-url postgresql://postgres@127.0.0.1:5432/postgres]``

Why: with several workers on a few cores, PostgreSQL's CPU per claim (``s`` in
``bench/scaling.py``) is what two workers cannot share, so it is worth knowing where it goes —
and a profile of the server does not say (no function has more than a few per cent of it). This
bench isolates the writes: one straight-through claim is worked once, in process, by the
offline planner (``casepilot start`` + ``casepilot run --in-process``); its recorded steps — each
step's events, ending with its ``state``/``state_delta`` — are then written again through
``Store.step``, exactly as the agent writes them (from the known head, pipelined, the events a
few to a statement and the last with the compare-and-set), for ``--claims`` new cases. The CPU
the database's backends spent (``/proc``) divided by the claims is the figure. Each variant
changes one thing, on a database of its own, in alternating rounds:

* ``as shipped``;
* ``no foreign key``: without the foreign key from ``history_events`` to ``cases``;
* ``no (case_id, kind) index``: without ``ix_history_events_case_kind``;
* ``commits not waiting for the disk``: ``synchronous_commit = off`` on the database;
* ``tiny state``: every ``state``/``state_delta`` replaced by a snapshot of a few bytes;
* ``one event per step``: a step's events other than its state merged into one row.

The last three are not things casepilot could ship (durability, the case's state, the shape of
the history): they measure what the bytes, the rows and the waits for the disk cost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import psycopg
from load import BIN, ROOT, backends, cpu_seconds, fresh_database, span  # (puts ROOT on sys.path)

from casepilot.store import Store
from tests._claims import PAY_TO, SMALL_LETTER

Recorded = list[list[tuple[str, str, dict[str, Any]]]]
"""A claim's steps: each a list of (kind, actor, payload), the last its state or delta."""

VARIANTS: dict[str, tuple[list[str], list[str]]] = {
    # name: (statements on the fresh database before the run, database settings)
    "as shipped": ([], []),
    "no foreign key": (["ALTER TABLE history_events DROP CONSTRAINT history_events_case_id_fkey"], []),
    "no (case_id, kind) index": (["DROP INDEX ix_history_events_case_kind"], []),
    "commits not waiting for the disk": ([], ["synchronous_commit = off"]),
    "tiny state": ([], []),
    "one event per step": ([], []),
}


def libpq(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def casepilot(url: str, *args: str) -> str:
    """Run a ``casepilot`` command on ``url``; what it printed (the bench stops, saying why, if it failed)."""
    done = subprocess.run([str(BIN / "casepilot"), *args, "--db", url], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"bench: casepilot {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def record_claim(url: str) -> tuple[dict[str, Any], Recorded]:
    """Work one straight-through claim on ``url`` as a user would; its initial state and its steps."""
    casepilot(url, "deploy", str(ROOT / "examples" / "claims"))
    variables = {"letter": SMALL_LETTER, "policy": "POL-STEP-1", "claim_id": "CLM-STEP-1", **PAY_TO}
    case_id = casepilot(url, "start", "claim-triage", "--vars", json.dumps(variables)).split()[0]
    casepilot(url, "run", case_id, "--in-process")
    with psycopg.connect(libpq(url)) as conn:
        rows = conn.execute("SELECT kind, actor, payload_json FROM history_events WHERE case_id = %s ORDER BY seq",
                            (case_id,)).fetchall()
    if rows[0][0] != "case_created" or not any(kind == "state" for kind, _, _ in rows):
        raise SystemExit(f"bench: the claim's history is not what this bench expects: {[r[0] for r in rows]}")
    steps: Recorded = [[]]
    for kind, actor, payload in rows[1:]:
        steps[-1].append((kind, actor, json.loads(payload)))
        if kind in ("state", "state_delta"):
            steps.append([])
    return json.loads(rows[0][2])["state"], [step for step in steps if step]


def write_claim(store: Store, initial: dict[str, Any], steps: Recorded, variant: str) -> None:
    """One new case with ``steps`` written as the agent writes them (from the known head)."""
    case = store.create_case("claim-triage", initial)
    version, head = case.version, None
    for events in steps:
        with store.step(case.id, version, head=head) as step:
            merged: list[dict[str, Any]] = []
            for kind, actor, payload in events:
                if kind in ("state", "state_delta") and variant == "tiny state":
                    step.save_state({"tiny": True}, actor=actor)
                elif kind == "state":
                    step.save_state(payload["state"], actor=actor)
                elif kind == "state_delta":
                    step.save_changes(payload["ops"], snapshot=lambda: {}, actor=actor)
                elif variant == "one event per step":
                    merged.append({"kind": kind, "payload": payload})
                else:
                    step.append(kind, actor=actor, payload=payload)  # type: ignore[arg-type]
            if merged:
                step.append("transition", payload={"events": merged})
        version, head = version + 1, step.next_head


def measure(admin_url: str, variant: str, initial: dict[str, Any], steps: Recorded, claims: int) -> tuple[float, float]:
    """PostgreSQL's and this process's CPU ms per claim for ``variant``, on a database of its own."""
    statements, settings = VARIANTS[variant]
    with fresh_database(admin_url) as url, ExitStack() as stack:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for setting in settings:
                admin.execute(f"ALTER DATABASE {url.rsplit('/', 1)[1]} SET {setting}")
        casepilot(url, "deploy", str(ROOT / "examples" / "claims"))
        with psycopg.connect(libpq(url), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)
        store = stack.enter_context(Store.from_url(url))
        watch = stack.enter_context(psycopg.connect(libpq(url), autocommit=True))
        for _ in range(20):  # connections open, statements prepared
            write_claim(store, initial, steps, variant)
        before = {pid: cpu_seconds(pid) for pid in backends(url)}
        mine = time.process_time()
        for _ in range(claims):
            write_claim(store, initial, steps, variant)
        spent_here = time.process_time() - mine
        after = {pid: cpu_seconds(pid) for pid in backends(url)}
        spent = sum(after[pid] - before.get(pid, 0.0) for pid in after)
        if variant != "tiny state":  # the store chose snapshot or delta at every step as in the recorded run
            written: dict[str, int] = dict(watch.execute("SELECT kind, count(*) FROM history_events "
                                         "WHERE kind IN ('state', 'state_delta') GROUP BY kind").fetchall())
            recorded = [step[-1][0] for step in steps]
            expected = {kind: recorded.count(kind) * (claims + 20) for kind in ("state", "state_delta")}
            if {kind: written.get(kind, 0) for kind in expected} != expected:
                raise SystemExit(f"bench: wrote {written} state events, the recorded claim had {expected}")
    return spent / claims * 1000, spent_here / claims * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=150, help="claims written per variant and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with fresh_database(args.admin_url) as source:
        initial, steps = record_claim(source)
    print(f"a claim: {len(steps)} steps, {sum(len(step) for step in steps)} events "
          f"({', '.join(str(len(step)) for step in steps)} per step)", file=sys.stderr, flush=True)
    results: dict[str, list[float]] = {name: [] for name in VARIANTS}
    here: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for number in range(args.rounds):
        names = list(VARIANTS) if number % 2 == 0 else list(reversed(VARIANTS))
        for name in names:
            pg, mine = measure(args.admin_url, name, initial, steps, args.claims)
            results[name].append(pg)
            here[name].append(mine)
            print(f"round {number + 1}/{args.rounds}: {name}: PostgreSQL {pg:.2f} ms per claim", file=sys.stderr,
                  flush=True)
    base = statistics.median(results["as shipped"])
    print(f"\nPostgreSQL CPU to write one straight-through claim's steps ({len(steps)} steps), {args.claims} claims "
          f"per variant and round, {args.rounds} rounds (ranges min–max)\n")
    print(f"{'variant':<34} | {'PostgreSQL ms per claim':>23} | {'median vs as shipped':>20} | {'this process ms':>15}")
    for name in VARIANTS:
        change: Callable[[float], str] = lambda m: f"{m - base:+.2f} ms ({(m - base) / base:+.0%})"  # noqa: E731
        print(f"{name:<34} | {span(results[name], 2):>23} | {change(statistics.median(results[name])):>20} | "
              f"{span(here[name], 1):>15}")


if __name__ == "__main__":
    main()
