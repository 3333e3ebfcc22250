"""``casepilot bpmn …``: run BPMN conformance scenarios, validate BPMN models, draw them (SVG).

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


@app.command("diagram")
def diagram_command(
    path: Annotated[Path, typer.Argument(help="A BPMN file (.bpmn) with a diagram (BPMN DI)")],
    process: Annotated[str | None, typer.Option(help="The process to draw (when the file holds several)")] = None,
    decisions: Annotated[list[Path] | None, typer.Option("--dmn", help="DMN models business-rule tasks use")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the SVG here (default: stdout)")] = None,
) -> None:
    """Draw a process from its BPMN DI as SVG."""
    from casepilot.bpmn import load_processes

    try:
        definition = load_processes([path], decisions=decisions or sorted(path.parent.glob("*.dmn"))).process(process)
    except DefinitionError as exc:
        typer.echo(f"FAIL {exc}", err=True)
        raise typer.Exit(1) from exc
    if definition.diagram is None:
        typer.echo(f"FAIL process {definition.id!r} has no diagram (BPMN DI) in {path}", err=True)
        raise typer.Exit(1)
    svg = definition.diagram.svg()
    if out is None:
        typer.echo(svg)
    else:
        out.write_text(svg, encoding="utf-8")
        typer.echo(f"wrote {out}")
