"""The ``casepilot`` command line (typer + rich).

Sub-commands are contributed by the packages that own them (``casepilot.cmmn.cli``,
``casepilot.dmn.cli``, ``casepilot.store.cli``…) and mounted here, so that each package
keeps its own commands next to its code.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from casepilot import __version__
from casepilot.errors import CasepilotError

__all__ = ["app", "main"]

app = typer.Typer(
    name="casepilot",
    help="Governed AI orchestration over CMMN cases.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# (module, attribute, name) of the typer sub-apps mounted as ``casepilot NAME …``.
_SUB_APPS: tuple[tuple[str, str, str], ...] = (
    ("casepilot.cmmn.cli", "app", "cmmn"),
    ("casepilot.dmn.cli", "app", "dmn"),
    ("casepilot.rag.cli", "app", "rag"),
)
# Modules whose ``register(app)`` adds top-level commands.
_REGISTRARS: tuple[str, ...] = ("casepilot.store.cli", "casepilot.agent.cli", "casepilot.api.cli")
_mounted = False


def _mount() -> None:
    global _mounted
    if _mounted:
        return
    _mounted = True
    for module_name, attribute, name in _SUB_APPS:
        app.add_typer(getattr(importlib.import_module(module_name), attribute), name=name)
    for module_name in _REGISTRARS:
        importlib.import_module(module_name).register(app)


@app.command()
def version() -> None:
    """Print casepilot's version."""
    console.print(f"casepilot {__version__}")


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="CMMN (.cmmn/.xml) and DMN (.dmn) files or folders")],
) -> None:
    """Parse and check CMMN and DMN models; report every problem with file and line."""
    from casepilot.validation import validate_paths

    failures = validate_paths(paths, console)
    raise typer.Exit(1 if failures else 0)


@app.command()
def init(
    name: Annotated[str, typer.Argument(help="The bundle's name (its folder and definition key), e.g. loan")],
    parent: Annotated[Path, typer.Option("--in", help="Where to create the folder.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Write into an existing, non-empty folder.")] = False,
) -> None:
    """Create a working case bundle to start from: model, tools, bindings, guardrail, scenario tests."""
    from casepilot.scaffold import scaffold

    folder = scaffold(name, parent, force=force)
    console.print(f"created the case bundle {folder}; next:", highlight=False)
    for step in (f"casepilot validate {folder}", f"casepilot cmmn test {folder / 'scenarios'}",
                 f"casepilot deploy {folder}", f"(see {folder / 'README.md'} for a case worked end to end)"):
        console.print(f"  {step}", highlight=False)


_mount()


def main() -> None:
    """Console-script entry point: run the app, turning casepilot errors into clear messages."""
    try:
        app()
    except CasepilotError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise SystemExit(1) from exc
