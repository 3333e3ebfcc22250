"""How much two CPU-bound processes get done on this machine now, against one: the host's own scaling.

Why: a goal such as "two workers drain ≥ 1.7× what one does" assumes the machine gives two
processes about twice the work of one. A virtual machine whose host is busy may not — two
plain Python busy loops were measured at 1.33× one on this VM in one hour and 2.0× in the
next. ``bench/load.py`` measures this beside every paired round, so a reader can tell a
regression of casepilot's scaling from a host that did not scale at that moment.

Each side runs the same pure-Python loop (no I/O, no shared state) in fresh interpreters for
``seconds`` of wall time and counts its iterations.
"""

from __future__ import annotations

import subprocess
import sys

__all__ = ["cpu_scaling"]

_BURNER = """
import sys, time
until = time.perf_counter() + float(sys.argv[1])
n = 0
while time.perf_counter() < until:
    sum(range(2000))
    n += 1
print(n)
"""


def _burn(processes: int, seconds: float) -> int:
    running = [subprocess.Popen([sys.executable, "-c", _BURNER, str(seconds)], stdout=subprocess.PIPE, text=True)
               for _ in range(processes)]
    total = 0
    for process in running:
        out, _ = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"the CPU burner failed (exit {process.returncode})")
        total += int(out)
    return total


def cpu_scaling(seconds: float = 3.0) -> float:
    """Work done by two concurrent busy loops ÷ work done by one, each over ``seconds``."""
    one = _burn(1, seconds)
    two = _burn(2, seconds)
    return two / one if one else 0.0


if __name__ == "__main__":
    print(f"two CPU-bound processes / one: {cpu_scaling():.2f}x")
