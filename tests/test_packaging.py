"""The wheel carries what an installed casepilot needs: the demo's claim-triage bundle (so
``casepilot demo`` works after ``pip install``), the templates and grammars. Built from a copy
of the sources with the environment's setuptools (no build isolation: nothing is downloaded)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from casepilot.demo.run import EXAMPLE

ROOT = Path(__file__).resolve().parents[1]


def test_the_demo_bundle_lives_in_the_package() -> None:
    package = ROOT / "casepilot"
    assert EXAMPLE.resolve().is_relative_to(package.resolve())
    assert (EXAMPLE / "casepilot.yaml").is_file()
    # examples/claims in the repository is the same folder, not a copy that could drift
    assert (ROOT / "examples" / "claims").resolve() == EXAMPLE.resolve()


def test_the_wheel_ships_the_demo_bundle(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "casepilot", source / "casepilot",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist"),
         str(source)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("casepilot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    bundle = "casepilot/demo/claims/"
    for name in ("casepilot.yaml", "claim-triage.cmmn", "bindings.yaml", "guardrails.dmn", "model-routing.dmn",
                 "scenarios/straight-through.yaml"):
        assert bundle + name in names, f"{bundle + name} is not in the wheel"
    assert "casepilot/demo/tools.py" in names and "casepilot/py.typed" in names
    assert any(n.startswith("casepilot/api/") and n.endswith(".html") for n in names)
