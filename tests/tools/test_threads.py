"""The daemon worker pool behind timed tool calls: reuse, no starvation by hung calls, idle exit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from casepilot.tools._threads import DaemonPool


def _run_and_wait(pool: DaemonPool, work: list[str]) -> None:
    done = threading.Event()

    def job() -> None:
        work.append(threading.current_thread().name)
        done.set()

    pool.submit(job)
    assert done.wait(5)


def _wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


def test_sequential_calls_reuse_one_worker() -> None:
    pool = DaemonPool(name="reuse")
    names: list[str] = []
    for _ in range(20):
        _run_and_wait(pool, names)
        assert _wait_until(lambda: pool.idle_workers == 1)
    assert len(set(names)) == 1
    assert names[0].startswith("reuse-")


def test_a_hung_call_never_blocks_the_next_one() -> None:
    pool = DaemonPool(name="hung")
    release = threading.Event()
    pool.submit(lambda: release.wait(10) and None)
    names: list[str] = []
    started = time.monotonic()
    _run_and_wait(pool, names)  # gets a second worker instead of queueing behind the hung one
    assert time.monotonic() - started < 5
    release.set()
    assert _wait_until(lambda: pool.idle_workers == 2)


def test_a_failing_call_leaves_the_worker_alive() -> None:
    pool = DaemonPool(name="fails")

    def boom() -> None:
        raise RuntimeError("tool blew up")

    pool.submit(boom)
    assert _wait_until(lambda: pool.idle_workers == 1)
    names: list[str] = []
    _run_and_wait(pool, names)
    assert names == ["fails-1"]


def test_idle_workers_exit() -> None:
    pool = DaemonPool(idle_seconds=0.05, name="idle")
    names: list[str] = []
    _run_and_wait(pool, names)
    assert _wait_until(lambda: pool.idle_workers == 0 and not any(
        t.name == names[0] for t in threading.enumerate()))
    _run_and_wait(pool, names)  # a new worker starts on demand
    assert names[1] != names[0]


def test_many_concurrent_calls_all_run() -> None:
    pool = DaemonPool(name="burst")
    count = 64
    gate = threading.Barrier(count + 1, timeout=10)
    for _ in range(count):
        pool.submit(lambda: gate.wait() and None)
    gate.wait()  # every call ran at once: none waited for a worker
    assert _wait_until(lambda: pool.idle_workers == count)
