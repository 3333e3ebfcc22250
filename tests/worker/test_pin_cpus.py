"""``casepilot worker --pin-cpus``: each worker process — every thread of it — on a CPU of its own.

Worker slot *i* runs on the *i*-th CPU the command may use, a replacement on its dead worker's
CPU; the supervisor and a single ``--processes 1`` worker follow the same rule, and a command
limited to some CPUs (taskset) pins among those only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casepilot.cli import app
from tests.worker.conftest import ROOT, Workers, wait_until

CPUS = sorted(os.sched_getaffinity(0))


def thread_cpus(pid: int) -> set[frozenset[int]]:
    """The CPU sets the threads of ``pid`` may run on (one set when they all agree)."""
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found.add(frozenset(os.sched_getaffinity(int(task.name))))
        except ProcessLookupError:  # a thread that ended meanwhile
            continue
    return found


def only_cpu(pid: int) -> int:
    """The one CPU every thread of ``pid`` is kept on (fails if they are not all pinned to it)."""
    sets = thread_cpus(pid)
    assert len(sets) == 1, f"the threads of {pid} run on different CPU sets: {sets}"
    (cpus,) = sets
    assert len(cpus) == 1, f"process {pid} is not pinned: it may run on CPUs {sorted(cpus)}"
    return next(iter(cpus))


def test_two_workers_run_on_a_cpu_each_and_a_replacement_on_its_slots_cpu(pg_url: str, tmp_path: Path) -> None:
    log = tmp_path / "workers.log"
    workers = Workers(pg_url, log, "--pin-cpus")
    workers.start(2)
    try:
        workers.wait_ready(2)
        first = workers.ready()
        placed = {pid: only_cpu(pid) for pid in first}
        assert sorted(placed.values()) == sorted([CPUS[0], CPUS[1 % len(CPUS)]])
        assert workers.supervisor is not None
        assert os.sched_getaffinity(workers.supervisor.pid) == set(CPUS)  # the supervisor itself is not pinned
        for pid, cpu in placed.items():
            assert f"started worker {pid} on CPU {cpu}" in log.read_text()

        victim = first[0]
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: len(set(workers.ready()) - set(first)) == 1, "timed out waiting for the replacement worker", every=0.1)
        (replacement,) = set(workers.ready()) - set(first)
        assert only_cpu(replacement) == placed[victim]
        assert only_cpu(first[1]) == placed[first[1]]
    finally:
        assert workers.stop() == 0


def test_a_single_worker_process_is_pinned_to_the_first_cpu(pg_url: str, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    env = Workers(pg_url, log).env
    with log.open("ab") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "casepilot.worker", "--db", pg_url, "--tools", "tests.worker._tools:registry",
             "--pin-cpus"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: f"casepilot worker ready (pid {worker.pid})" in log.read_text(errors="replace")
                   or worker.poll() is not None, "timed out waiting for the worker to be ready", every=0.1)
        assert worker.poll() is None, log.read_text()
        assert only_cpu(worker.pid) == CPUS[0]
        assert f"on CPU {CPUS[0]}" in log.read_text()
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(90) == 0


def test_the_cpus_are_those_the_command_may_use(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from casepilot.worker.cli import _cpus_to_pin

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {5, 3})  # as under `taskset -c 3,5`
    assert _cpus_to_pin(2) == [3, 5]
    assert capsys.readouterr().err == ""
    assert _cpus_to_pin(3) == [3, 5]
    assert "3 processes on 2 CPUs (3,5)" in capsys.readouterr().err


SUPERVISED = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from casepilot.worker import supervisor

    out = Path(sys.argv[1])
    cpus = [int(cpu) for cpu in sys.argv[2].split(",")]

    def work():
        (out / str(os.getpid())).write_text(",".join(str(cpu) for cpu in sorted(os.sched_getaffinity(0))))
        while True:
            time.sleep(1)  # until SIGTERM

    sys.exit(supervisor.supervise(3, work, cpus=cpus))
""")


def test_more_workers_than_cpus_take_the_cpus_in_turn(tmp_path: Path) -> None:
    cpus = [CPUS[-1], CPUS[0]]
    supervising = subprocess.Popen([sys.executable, "-c", SUPERVISED, str(tmp_path), ",".join(map(str, cpus))],
                                   cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: len(list(tmp_path.iterdir())) == 3, "timed out waiting for three workers", 60, every=0.1)
    finally:
        supervising.send_signal(signal.SIGTERM)
        _, err = supervising.communicate(timeout=60)
    assert supervising.returncode == 0, err
    started = [line.split() for line in err.splitlines() if "started worker" in line]
    # slots 0, 1, 2 in the order they were forked: cpus[0], cpus[1], cpus[0] again
    assert [int(words[-1]) for words in started] == [cpus[0], cpus[1], cpus[0]]
    for words in started:
        assert (tmp_path / words[4]).read_text() == words[-1]  # what the worker itself runs on


def test_pinning_needs_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_setaffinity")
    result = CliRunner().invoke(app, ["worker", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "--pin-cpus"])
    assert result.exit_code == 2
    assert "needs Linux" in result.output


def test_a_cpu_the_process_may_not_use_is_a_clear_error() -> None:
    script = "from casepilot.worker.supervisor import pin_to; pin_to(4095)"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "cannot keep worker process" in done.stderr
    assert "on CPU 4095" in done.stderr
    assert "outside the CPUs this command may use" in done.stderr
