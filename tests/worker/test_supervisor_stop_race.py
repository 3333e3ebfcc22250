"""A stop (SIGTERM) that arrives while the supervisor forks a replacement worker reaches that worker too.

Before, the signal was handled before the new child was recorded: every other worker got SIGTERM,
the new one never did, and the supervisor waited for it for ever (seen in bench/crash_bench.py).
The race is made certain here: the fork of the replacement first sends the supervisor its SIGTERM.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import os, signal, sys, time
    from casepilot.worker import supervisor

    real_fork = os.fork
    forks = []

    def fork():
        forks.append(1)
        if len(forks) == 2:  # the replacement: the stop arrives right as it is forked
            os.kill(os.getpid(), signal.SIGTERM)
        return real_fork()

    supervisor.os.fork = fork

    def work():
        if len(forks) == 1:
            os._exit(3)  # the first worker dies at once: the supervisor forks a replacement
        while True:
            time.sleep(1)  # the replacement works until SIGTERM (its default action ends it)

    sys.exit(supervisor.supervise(1, work))
""")


def test_a_stop_during_a_fork_reaches_the_new_worker() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("casepilot supervisor: started worker") == 2
