"""``casepilot bpmn …``: run BPMN conformance scenarios and validate BPMN models.

Mounted on the main command line as the ``bpmn`` sub-command (``casepilot.cli._SUB_APPS``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from casepilot._scenario_files import report
from casepilot.errors import DefinitionError

__all__ = ["app"]

app = typer.Typer(
    name="bpmn",
    help="BPMN 2.0 processes (SpiffWorkflow, FEEL only) and conformance scenarios.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command("test")
def test_command(
    paths: Annotated[list[Path], typer.Argument(help="Scenario YAML files or folders holding them")],
    roundtrip: Annotated[
        bool, typer.Option(help="Dump the process to JSON and load it back after every step, going on with the copy")
    ] = True,
) -> None:
    """Run scenario files: one line per scenario, then ``N passed, M failed``."""
    from casepilot.bpmn.scenarios import run_scenarios

    report(run_scenarios(paths, roundtrip=roundtrip))


@app.command("validate")
def validate_command(
    paths: Annotated[list[Path], typer.Argument(help="BPMN files (.bpmn) deployed together, or folders holding them")],
    decisions: Annotated[list[Path] | None, typer.Option("--dmn", help="DMN models business-rule tasks use")] = None,
) -> None:
    """Parse and check BPMN models deployed together; report every problem with file and line."""
    from casepilot.bpmn import load_processes

    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob("*.bpmn")) if path.is_dir() else [path])
    try:
        defs = load_processes(files, decisions=decisions or [])
    except DefinitionError as exc:
        typer.echo(f"FAIL {exc}")
        raise typer.Exit(1) from exc
    typer.echo(f"OK   {len(files)} file(s): processes {', '.join(sorted(defs.processes))}")
