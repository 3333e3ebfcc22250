"""The crash storm, shared by its test (``test_crash_storm``) and its bench (``bench/crash_bench.py``).

A storm: claim cases queued on one PostgreSQL database, worker processes under one
supervisor, a random worker SIGKILLed every few seconds (the supervisor forks a new one in
its place) until every case has settled. Then what must hold however the kills fell, checked
case by case (``check``):

* every case ends completed, or active and waiting for a person with a role;
* every history verifies;
* no non-idempotent tool ran twice for a case — counted where the money moves
  (``_tools.tool_runs``: every real execution of ``pay_claim``, the payment process's
  transfer), not in casepilot's own history;
* no step was lost: every transfer made was recorded as started before it ran, every
  transfer the history completes really ran, and every completed case made exactly one.

The test runs 200 cases and asserts; the bench runs 1,000 with slow tools and reports.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy import text

from casepilot.agent.orchestrator import Orchestrator
from casepilot.store import Store
from tests._claims import claim
from tests.worker import _tools
from tests.worker.conftest import ROOT, Workers, libpq

KINDS = ("small",) * 3 + ("senior-review",)
"""A quarter of the letters are for a senior analyst; the rest (the straight-through letter
claiming 950: the payment process pays it without a claims manager) complete unless a kill
interrupted their transfer, which then waits for claims operations."""

PAYMENT = "pay_claim"
"""The non-idempotent tool that moves the money: the payment process's service task."""

WORKER_OPTIONS = ("--lease-ttl", "3", "--heartbeat-timeout", "3")
"""A killed worker's case and job move on after 3 s (the defaults, 30 s, would make a storm crawl)."""

_PENDING_JOBS = text("SELECT count(*) FROM pgqueuer WHERE status IN ('queued', 'picked') "
                     "AND (status = 'picked' OR execute_after <= now())")
_LIVE_LEASES = text("SELECT count(*) FROM case_leases WHERE expires_at > now()")
_COMMITTED_STEPS = text("SELECT COALESCE(SUM(version), 0) FROM cases")


def reference(i: int) -> str:
    """The claim reference of case ``i`` (``claim_id``): the transfer's, what ``pay_claim`` counts its runs by."""
    return f"CLM-STORM-{i:04d}"


def kind(i: int) -> str:
    return KINDS[i % len(KINDS)]


def start_cases(orch: Orchestrator, count: int, *, threads: int = 4,
                on_started: Callable[[int], None] | None = None) -> list[str]:
    """Start (queue) ``count`` claim cases; their ids in order. ``on_started(done)`` reports progress."""
    done = 0

    def start(i: int) -> str:
        nonlocal done
        case_id = orch.start_case("claim-triage", claim(kind(i), reference(i)),
                                  business_key=f"STORM-{i:04d}").id
        done += 1
        if on_started is not None:
            on_started(done)
        return case_id

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(start, range(count)))


def claims_bundle(folder: Path, tools: str = "tests.worker._tools") -> Path:
    """``_tools.claims_bundle`` naming ``<tools>:CLAIM_TOOLS`` (the module the workers load too)."""
    _tools.claims_bundle(folder)
    manifest = folder / "casepilot.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("tests.worker._tools:CLAIM_TOOLS",
                                                                      f"{tools}:CLAIM_TOOLS"), encoding="utf-8")
    return folder


def settled(store: Store) -> bool:
    """No job due or running and no live case lease: nothing will move without a person."""
    with store.engine.connect() as conn:
        if conn.execute(_PENDING_JOBS).scalar_one():
            return False
        return not conn.execute(_LIVE_LEASES).scalar_one()


class StormWorkers(Workers):
    """``Workers`` loading another tool module (``--tools <module>:registry``), with its own environment."""

    def __init__(self, url: str, log: Path, tools: str, *options: str, env: dict[str, str] | None = None) -> None:
        super().__init__(url, log, *options)
        self.tools = tools
        self.env.update(env or {})

    def start(self, processes: int) -> None:
        with self.log.open("ab") as out:
            self.supervisor = subprocess.Popen(
                [sys.executable, "-m", "casepilot.worker", "--db", self.url, "--tools", f"{self.tools}:registry",
                 "--processes", str(processes), *self.options],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)


def storm_workers(url: str, folder: Path, tools: str, *, env: dict[str, str] | None = None) -> StormWorkers:
    """Workers loading ``tools`` (a module path, e.g. ``_decide_tools.SPEC``) with the storm's short
    lease and heartbeat (``WORKER_OPTIONS``: a killed worker's job moves on after 3 s), logging to
    ``folder/workers.log``."""
    return StormWorkers(url, folder / "workers.log", tools, *WORKER_OPTIONS, env=env)


def settle(store: Store, workers: Workers, timeout: float = 240.0) -> None:
    """Wait until nothing will move without a person (``settled``); past ``timeout`` the test fails
    with the end of the workers' log. The first second is always waited: a job just queued may not
    be picked yet."""
    deadline = time.monotonic() + timeout
    time.sleep(1.0)
    while not settled(store):
        assert time.monotonic() < deadline, f"the cases still move after {timeout:g} s:\n" + \
            workers.log.read_text(errors="replace")[-3000:]
        time.sleep(0.5)


def transfers(pg_url: str, reference: str) -> list[int]:
    """The process ids that really made the transfer (``pay_claim``) of claim ``reference``."""
    with psycopg.connect(libpq(pg_url)) as conn:
        rows = conn.execute("SELECT pid FROM tool_runs WHERE tool = %s AND reference = %s", (PAYMENT, reference))
        return [int(pid) for (pid,) in rows]


@dataclass
class Storm:
    kills: int
    seconds: float
    settled: bool


def storm(workers: Workers, store: Store, rng: random.Random, *, kill_every: tuple[float, float] = (1.0, 3.0),
          timeout: float, stall: float | None = None, on_tick: Callable[[int], None] | None = None) -> Storm:
    """SIGKILL a random live worker every ``kill_every`` seconds until the cases settle, or until
    ``timeout`` — or, with ``stall``, until no step was committed for that many seconds.

    Why ``stall``: on a loaded machine (a CI box running other suites) the storm may need longer
    to settle, and that is no failure; a storm in which no case moves any more is one. The
    supervisor starts a new worker in the victim's place at once. ``on_tick(kills)`` is called
    between kills (progress).
    """
    kills = 0
    began = last_progress = time.monotonic()
    steps = committed_steps(store)
    while not settled(store):
        now = time.monotonic()
        if now - began > timeout or (stall is not None and now - last_progress > stall):
            return Storm(kills, now - began, settled=False)
        time.sleep(rng.uniform(*kill_every))
        alive = workers.children()
        if alive:
            os.kill(rng.choice(alive), signal.SIGKILL)
            kills += 1
        if on_tick is not None:
            on_tick(kills)
        if stall is not None and (now_steps := committed_steps(store)) != steps:
            steps, last_progress = now_steps, time.monotonic()
    return Storm(kills, time.monotonic() - began, settled=True)


def committed_steps(store: Store) -> int:
    """Steps committed on every case so far (the sum of the cases' versions)."""
    with store.engine.connect() as conn:
        return int(conn.execute(_COMMITTED_STEPS).scalar_one())


@dataclass
class Report:
    """What the storm left behind; ``problems`` is empty when every invariant holds."""

    outcomes: Counter[str] = field(default_factory=Counter)
    """``completed``, ``waiting:<roles>`` or ``other:<state>`` → cases."""
    double: dict[tuple[str, str], int] = field(default_factory=dict)
    """(tool, reference) → real executions, where more than one."""
    verified: int = 0
    unverified: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    recovery: Counter[str] = field(default_factory=Counter)
    """Tool → "run it again?" checkpoints raised for an interrupted non-idempotent call."""
    recovery_ran: Counter[str] = field(default_factory=Counter)
    """Tool → those of the "run it again?" calls that had really run (``tool_runs``): the effect
    happened but the worker died before recording it; a person must answer "no"."""
    executions: Counter[str] = field(default_factory=Counter)
    """Tool → real executions counted in ``tool_runs``."""

    @property
    def problems(self) -> list[str]:
        twice = [f"non-idempotent tools ran more than once for a case: {self.double}"] if self.double else []
        return [*twice, *self.unverified, *self.lost, *self.stuck]


def tool_runs(pg_url: str) -> Counter[tuple[str, str]]:
    """(tool, reference) → executions, as the tools themselves counted them."""
    with psycopg.connect(libpq(pg_url)) as conn:
        return Counter((tool, ref) for tool, ref in conn.execute("SELECT tool, reference FROM tool_runs"))


def check(store: Store, orch: Orchestrator, pg_url: str, case_ids: Sequence[str],
          on_checked: Callable[[int], None] | None = None) -> Report:
    """Check every case of the storm (``case_ids[i]`` is case ``i``)."""
    runs = tool_runs(pg_url)
    report = Report(double={key: n for key, n in runs.items() if n > 1})
    for (tool, _ref), n in runs.items():
        report.executions[tool] += n
    for i, case_id in enumerate(case_ids):
        label = f"case {i} ({kind(i)}, {case_id})"
        if store.verify(case_id).ok:
            report.verified += 1
        else:
            report.unverified.append(f"{label}: history does not verify")
        history = store.history(case_id)
        record = orch.runtime.load(case_id)
        state = record.engine.state if record.engine is not None else "not started"
        open_tasks = store.tasks(case_id=case_id, status="open")
        started = [e for e in history if e.kind == "tool_call_started" and e.payload.get("tool") == PAYMENT]
        completed = [e for e in history if e.kind == "tool_call_completed" and e.payload.get("tool") == PAYMENT]
        booked = runs[(PAYMENT, reference(i))]
        for event in history:
            problem = str(event.payload.get("problem", "")) if event.kind == "error" else ""
            if problem.startswith("started but not completed; handed to a person"):
                tool = str(event.payload.get("tool"))
                report.recovery[tool] += 1
                if tool == PAYMENT and booked > len(completed):
                    report.recovery_ran[tool] += 1
        # No step lost: a payment that really ran was recorded as started before it ran, and
        # one recorded as completed really ran.
        if booked > len(started):
            report.lost.append(f"{label}: a payment ran without its start in the history")
        if len(completed) > booked:
            report.lost.append(f"{label}: the history completes a payment that never ran")
        if state == "completed":
            if booked != 1 or len(completed) != 1:
                report.lost.append(f"{label} completed with {booked} payments booked, {len(completed)} recorded")
            report.outcomes["completed"] += 1
        elif state == "active" and open_tasks and all(t.role for t in open_tasks):
            report.outcomes[f"waiting:{','.join(sorted({t.role or '' for t in open_tasks}))}"] += 1
        else:
            report.outcomes[f"other:{state}"] += 1
            tasks = [(t.kind, t.role, t.prompt[:60]) for t in open_tasks]
            report.stuck.append(f"{label} is {state} with nothing a person with a role can decide: {tasks}")
        if on_checked is not None:
            on_checked(i + 1)
    return report
