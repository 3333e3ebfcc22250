"""How fast the command line answers: ``casepilot --help``, ``casepilot cases`` and a sub-command's help.

Run: ``.venv/bin/python bench/cli_bench.py [--runs 5]``

Each figure is the wall time of a fresh ``python -c "from casepilot.cli import main; main()" …``
process (what a person waits for at the prompt), over ``--runs`` runs: min, median, max. It also
prints the import time of ``casepilot.cli`` alone (``python -X importtime``) and which heavy
stacks (the agent's LangGraph, Presidio/spaCy, Chroma, OpenAI, FastAPI) ``--help`` loaded —
none should be. The commands mount lazily (``casepilot.cli._HELP``); a command that runs
loads what it needs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HEAVY = ("chromadb", "presidio_analyzer", "langgraph", "spacy", "openai", "fastapi")
ENTRY = "from casepilot.cli import main; main()"


def _time(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", ENTRY, *args], capture_output=True, check=False, env=env, timeout=300)
    return time.perf_counter() - started


def _import_ms() -> float:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import casepilot.cli"],
                          capture_output=True, text=True, check=True, timeout=300)
    for line in done.stderr.splitlines():
        if line.rstrip().endswith("| casepilot.cli"):
            return int(line.split("|")[1]) / 1000
    raise RuntimeError("casepilot.cli is not in the import-time report")


def _heavy_after_help() -> list[str]:
    code = (f"import sys\nsys.argv = ['casepilot', '--help']\ntry:\n    {ENTRY}\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    return [m.strip(" '") for m in done.stderr.strip().strip("[]").split(",") if m.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "CASEPILOT_DATA_DIR": data}
        env.pop("CASEPILOT_DATABASE_URL", None)
        print(f"casepilot.cli import: {_import_ms():.0f} ms (python -X importtime, one run)")
        print(f"heavy modules loaded by --help: {_heavy_after_help() or 'none'}")
        for label, args in (("casepilot --help", ["--help"]), ("casepilot cmmn --help", ["cmmn", "--help"]),
                            ("casepilot cases (empty SQLite)", ["cases"]), ("casepilot run --help", ["run", "--help"])):
            times = [_time(args, env) for _ in range(runs)]
            print(f"{label:<34} min {min(times):.2f} s  median {statistics.median(times):.2f} s  "
                  f"max {max(times):.2f} s  ({runs} runs)")


if __name__ == "__main__":
    main()
