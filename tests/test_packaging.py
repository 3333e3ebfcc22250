"""The wheel carries what an installed casepilot needs, and the core runs without any extra.

The wheel is built from a copy of the sources with the environment's setuptools (no build
isolation: nothing is downloaded). The core install is a fresh virtual environment holding
the wheel and exactly the distributions the core requires — the closure of casepilot's
requirements without extras, evaluated from the installed metadata and hard-linked from this
environment's site-packages (offline, about a second) — so nothing an extra brings is there:
``casepilot demo`` must run, and every feature of an extra must say in one line which extra
to install.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from casepilot._extras import EXTRAS
from casepilot.demo.run import EXAMPLE

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "casepilot", source / "casepilot",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp / "dist"),
         str(source)], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert built.returncode == 0, built.stderr[-2000:]
    (found,) = (tmp / "dist").glob("casepilot-*.whl")
    return found


def test_the_demo_bundle_lives_in_the_package() -> None:
    package = ROOT / "casepilot"
    assert EXAMPLE.resolve().is_relative_to(package.resolve())
    assert (EXAMPLE / "casepilot.yaml").is_file()
    # examples/claims in the repository is the same folder, not a copy that could drift
    assert (ROOT / "examples" / "claims").resolve() == EXAMPLE.resolve()


def test_the_wheel_ships_the_demo_bundle(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    bundle = "casepilot/demo/claims/"
    for name in ("casepilot.yaml", "claim-triage.cmmn", "bindings.yaml", "guardrails.dmn", "model-routing.dmn",
                 "scenarios/straight-through.yaml"):
        assert bundle + name in names, f"{bundle + name} is not in the wheel"
    assert "casepilot/demo/tools.py" in names and "casepilot/py.typed" in names
    assert any(n.startswith("casepilot/api/") and n.endswith(".html") for n in names)


def _requirements(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        (meta,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(meta).decode()
    return [Requirement(line.split(":", 1)[1].strip()) for line in text.splitlines()
            if line.startswith("Requires-Dist:")]


def _closure(requirements: list[Requirement]) -> dict[str, md.Distribution]:
    """Every installed distribution ``requirements`` need (markers evaluated, no extra of casepilot's)."""
    found: dict[str, md.Distribution] = {}
    expanded: set[tuple[str, str]] = set()
    todo = [(req, "") for req in requirements]  # a requirement and the extra it was declared under
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        key = canonicalize_name(req.name)
        dist = found.setdefault(key, md.distribution(req.name))
        assert req.specifier.contains(dist.version, prereleases=True), f"{req} but {dist.version} is installed"
        for wanted in ("", *sorted(req.extras)):
            if (key, wanted) not in expanded:
                expanded.add((key, wanted))
                todo.extend((Requirement(raw), wanted) for raw in dist.requires or [])
    return found


def _core_venv(wheel: Path, target: Path) -> tuple[Path, set[str]]:
    """A virtual environment with the wheel and its core requirements only (hard links, offline)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True, timeout=120)
    python = target / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    ours = Path(sysconfig.get_path("purelib")).resolve()
    dists = _closure(_requirements(wheel))
    for dist in dists.values():
        for file in dist.files or []:
            source = Path(str(dist.locate_file(file))).resolve()
            if not source.is_relative_to(ours) or not source.is_file():
                continue  # console scripts and data outside site-packages
            dest = site / source.relative_to(ours)
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, dest)
            except FileExistsError:
                pass
            except OSError:  # another file system
                shutil.copy2(source, dest)
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
         str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-2000:]
    return target / "bin", set(dists)


@pytest.fixture(scope="module")
def core(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("core")
    bin_dir, dists = _core_venv(wheel, tmp / "venv")
    for extra_only in ("chromadb", "rapidocr-onnxruntime", "psycopg", "pgqueuer", "opentelemetry-sdk"):
        assert extra_only not in dists, f"{extra_only} is a core requirement"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEPILOT_", "OPENAI_", "PYTHON"))}
    env.update(HOME=str(tmp / "home"), CASEPILOT_DATA_DIR=str(tmp / "data"), NO_COLOR="1", COLUMNS="200")
    return bin_dir, env


def _run(core: tuple[Path, dict[str, str]], *args: str, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    bin_dir, base = core
    return subprocess.run([str(bin_dir / args[0]), *args[1:]], capture_output=True, text=True, timeout=600,
                          cwd=cwd or bin_dir, env={**base, **(env or {})})


def test_no_extra_is_importable_in_the_core_install(core: tuple[Path, dict[str, str]]) -> None:
    modules = [m for mods in EXTRAS.values() for m in mods]
    probe = _run(core, "python", "-c", "import importlib.util as u, sys\n"
                 f"for m in {modules!r}:\n"
                 "    try: print(m, u.find_spec(m) is not None)\n"
                 "    except ImportError: print(m, False)")
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == [w for m in modules for w in (m, "False")]


def test_the_demo_runs_from_the_core_install(core: tuple[Path, dict[str, str]]) -> None:
    demo = _run(core, "casepilot", "demo")
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "2 of 2 demo cases completed" in demo.stdout
    assert "history verified: True" in demo.stdout


@pytest.mark.parametrize(("args", "env", "line"), [
    (("rag", "collections"), {}, "retrieval needs the rag extra: pip install 'casepilot[rag]'"),
    (("worker",), {}, "the worker queue (casepilot worker, serve --workers) needs the postgres extra: "
                      "pip install 'casepilot[postgres]'"),
    (("cases",), {"CASEPILOT_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none"},
     "a PostgreSQL database needs the postgres extra: pip install 'casepilot[postgres]'"),
])
def test_a_feature_of_a_missing_extra_is_one_line(
        core: tuple[Path, dict[str, str]], args: tuple[str, ...], env: dict[str, str], line: str) -> None:
    result = _run(core, "casepilot", *args, env=env)
    assert result.returncode in (1, 2)  # 2: the store commands' exit code for a store error
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.strip() == f"error: {line}", result.stdout + result.stderr


def test_the_ocr_tool_without_its_extra_fails_the_call_with_that_line(core: tuple[Path, dict[str, str]]) -> None:
    script = (
        "from casepilot.tools import ToolRegistry\n"
        "from casepilot.tools.builtin import builtin_tools\n"
        "from casepilot.errors import ToolError\n"
        "registry = ToolRegistry(builtin_tools())\n"
        "tool = registry.get('ocr')\n"
        "try:\n"
        "    tool.func(tool.args_model(image_base64='aGVsbG8='))\n"
        "except ToolError as exc:\n"
        "    print(exc)\n")
    result = _run(core, "python", "-c", script)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "the ocr tool needs the ocr extra: pip install 'casepilot[ocr]'"


def test_the_service_runs_from_the_core_install(core: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """The app and every router import without an extra (the worker queue only in queue mode)."""
    script = (
        "from fastapi.testclient import TestClient\n"
        "from casepilot.api import ApiSettings, app_from_settings\n"
        f"app = app_from_settings(ApiSettings(database_url='sqlite:///{tmp_path}/served.db'))\n"
        "with TestClient(app) as client:\n"
        "    print(client.get('/definitions').status_code, client.get('/metrics').status_code)\n"
        "import sys\n"
        "print(sorted(m for m in ('chromadb', 'psycopg', 'pgqueuer', 'rapidocr_onnxruntime') if m in sys.modules))\n")
    result = _run(core, "python", "-c", script)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split("\n")[:2] == ["200 200", "[]"]
