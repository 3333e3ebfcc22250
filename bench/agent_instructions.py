"""CPU instructions per agent step, casepilot against the bare LangGraph loop, counted by callgrind.

Run: ``.venv/bin/python bench/agent_instructions.py [--cases 3] [--tasks 20]`` (needs ``valgrind``;
each side takes a few minutes under it).

Why a count beside ``agent_bench.py``'s times: an instruction count does not move with the
machine's load, so a change to the step can be judged on a busy machine — the same binary,
inputs and environment give the same total. It is not a time: cache misses, the kernel's share
(SQLite's file writes, thread wake-ups) and other processes are outside it, so the time ratios
of ``agent_bench.py`` stay the figures that matter.

Each side runs in its own process under ``valgrind --tool=callgrind``: the loops of
``agent_bench.py`` (the same bundle, tool and SQLite settings), two warm-up cases, then the
measured cases inside ``functools.reduce``, which callgrind is told to count alone
(``--zero-before``/``--dump-after``; ``--toggle-collect`` would count one thread only, and both
loops do part of their work on others). Prints instructions per step and the ratio.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = """
import functools, sqlite3, sys, tempfile
from pathlib import Path
sys.path.insert(0, {bench!r})
import agent_bench as ab
side, tasks, cases = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tmp = Path(tempfile.mkdtemp(prefix="casepilot-instructions-"))
if side == "casepilot":
    orch, _store = ab.casepilot_setup(tmp, tasks, privacy=False)
    run = lambda i: ab.casepilot_case(orch, tasks, f"R-{{i}}")
else:
    conn = sqlite3.connect(str(tmp / "bare.langgraph"), check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    graph = ab.bare_graph(conn)
    run = lambda i: ab.bare_case(graph, tasks, f"bare-{{i}}")
for i in range(2):
    run(-1 - i)
functools.reduce(lambda acc, i: (run(i), acc)[1], range(cases), 0)
"""


def count(side: str, tasks: int, cases: int, workdir: Path) -> int:
    """Instructions callgrind counted inside the measured ``functools.reduce``."""
    script = workdir / "child.py"
    script.write_text(_CHILD.format(bench=str(REPO / "bench")), encoding="utf-8")
    out = workdir / f"{side}.callgrind"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                    "--zero-before=functools_reduce", "--dump-after=functools_reduce",
                    sys.executable, str(script), side, str(tasks), str(cases)],
                   check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dumped = Path(f"{out}.1")  # the dump taken after the measured reduce
    found = re.search(r"^summary:\s+(\d+)", dumped.read_text(encoding="utf-8"), re.MULTILINE)
    if found is None:
        raise RuntimeError(f"callgrind wrote no summary to {dumped}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=20, help="steps per case")
    parser.add_argument("--cases", type=int, default=3, help="measured cases per side")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    steps = args.tasks * args.cases
    with tempfile.TemporaryDirectory(prefix="casepilot-instructions-") as tmp:
        per_step = {}
        for side in ("bare", "casepilot"):
            print(f"counting {side} ({steps} steps under callgrind)…", flush=True)
            per_step[side] = count(side, args.tasks, args.cases, Path(tmp)) / steps
    print(f"bare LangGraph, 4 nodes + SqliteSaver: {per_step['bare'] / 1e6:.2f} M instructions/step")
    print(f"casepilot, PII layer off:              {per_step['casepilot'] / 1e6:.2f} M instructions/step")
    print(f"ratio: {per_step['casepilot'] / per_step['bare']:.2f}x")


if __name__ == "__main__":
    main()
