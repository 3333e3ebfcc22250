"""``casepilot worker --processes N``: N worker processes forked from one warmed-up parent.

A worker process spends seconds importing the agent stack and loading the PII models before
it can work a case; a machine that restarts workers often (crashes, deploys, autoscaling)
pays that each time. The supervisor pays it once: it imports and warms up, then forks the
workers, which share the loaded models copy-on-write and start working at once. A worker
that dies is replaced by a new fork straight away; SIGTERM to the supervisor is passed to
every worker, which finishes or hands back its case (``runner``), and the supervisor exits
when they all have.

The parent opens no database connection, thread or event loop before forking: each worker
builds its own store and orchestrator after the fork. A ``sidecar`` (the metrics endpoint of
``--metrics-port``) is one more child, forked and replaced the same way, that works no jobs.

``cpus`` (``--pin-cpus``) keeps each worker on a CPU of its own: worker slot *i* runs on the
*i*-th of them, and a replacement takes its dead worker's slot and CPU. Why: a worker's job
threads take turns holding the GIL, handing it over whenever one waits for the database; left
to the scheduler, the woken thread often runs on another core, which costs a cross-core wake-up
and cold caches at every hand-over. On one CPU the hand-over stays on the core. Measured with
``bench/scaling.py --pin-cpus`` against unpinned pools on two cores: a single worker spent 75–98
ms of CPU per claim against 102–122 ms, and two workers kept 1.96–1.99 cores busy against
1.81–1.86 — both 10–20 % faster.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from types import FrameType

__all__ = ["pin_to", "supervise"]

_CRASH_LOOP = 5
"""Workers in a row that die within ``_EARLY`` seconds of starting: the supervisor gives up."""
_EARLY = 2.0


_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def pin_to(cpu: int) -> None:
    """Keep this process on ``cpu``: every thread it has (an import may have started one) and, as
    threads inherit the setting of the thread that starts them, every thread it starts from now on."""
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError as exc:
        raise OSError(exc.errno, f"cannot keep worker process {os.getpid()} on CPU {cpu} ({exc.strerror}): "
                      "is the CPU offline, or outside the CPUs this command may use (taskset, cgroups)?") from exc
    with contextlib.suppress(FileNotFoundError):  # (no /proc: the calling thread's setting above)
        for thread in os.listdir("/proc/self/task"):
            with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
                os.sched_setaffinity(int(thread), {cpu})


def _child(work: Callable[[], None], mask: Iterable[int | signal.Signals], cpu: int | None = None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # blocked by the parent around the fork (``spawn``)
    code = 0
    try:
        if cpu is not None:
            pin_to(cpu)  # before ``work`` starts a thread: they all inherit it
        work()
    except BaseException:  # the worker's own error, printed; the supervisor decides what follows
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def supervise(processes: int, work: Callable[[], None], *, warm_up: Callable[[], None] | None = None,
              sidecar: Callable[[], None] | None = None, cpus: Sequence[int] = ()) -> int:
    """Run ``work`` in ``processes`` forked children, replacing any that dies, until SIGTERM/SIGINT;
    and ``sidecar``, if given, in one more child, replaced likewise. With ``cpus``, worker slot
    *i* (and whichever worker replaces it) runs on ``cpus[i % len(cpus)]``; the sidecar anywhere.

    Returns the exit code for the supervisor: 0 after a clean stop, 1 when workers keep dying
    as soon as they start (a configuration error: the last one's message says which).
    """
    if warm_up is not None:
        warm_up()
    children: dict[int, float] = {}
    slots: dict[int, int] = {}  # worker pid -> its slot
    sidecars: set[int] = set()
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def spawn(task: Callable[[], None] = work, role: str = "worker", slot: int | None = None) -> None:
        if stopping:
            return
        cpu = cpus[slot % len(cpus)] if cpus and slot is not None else None
        # SIGTERM/SIGINT wait while forking and recording the child: a stop that arrived during the
        # fork would otherwise signal every worker but the new one, and wait for it for ever.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:
                _child(task, mask, cpu)
            children[pid] = time.monotonic()
            if task is not work:
                sidecars.add(pid)
            if slot is not None:
                slots[pid] = slot
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a stop that came meanwhile runs now
        on = "" if cpu is None else f" on CPU {cpu}"
        print(f"casepilot supervisor: started {role} {pid}{on}", file=sys.stderr, flush=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if sidecar is not None:
        spawn(sidecar, "metrics endpoint")
    for first in range(processes):
        spawn(slot=first)
    early_deaths = 0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        started = children.pop(pid, None)
        slot = slots.pop(pid) if pid in slots else None
        if started is None or stopping:
            continue
        code = os.waitstatus_to_exitcode(status)
        early_deaths = early_deaths + 1 if time.monotonic() - started < _EARLY and code > 0 else 0
        side = pid in sidecars
        sidecars.discard(pid)
        role = "metrics endpoint" if side else "worker"
        print(f"casepilot supervisor: {role} {pid} exited ({code}); starting another", file=sys.stderr, flush=True)
        if early_deaths >= _CRASH_LOOP:
            print(f"casepilot supervisor: {role}s die as soon as they start; giving up", file=sys.stderr, flush=True)
            stop(signal.SIGTERM, None)
            for _ in list(children):
                os.wait()
            return 1
        if side and sidecar is not None:
            spawn(sidecar, role)
        else:
            spawn(slot=slot)
    return 0
