"""``casepilot cmmn …``: run conformance scenarios and validate CMMN models.

The lead mounts :data:`app` on the main command line as the ``cmmn`` sub-command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from casepilot._scenario_files import report
from casepilot.errors import DefinitionError

__all__ = ["app"]

app = typer.Typer(
    name="cmmn",
    help="CMMN 1.1 models and conformance scenarios.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_MODEL_SUFFIXES = (".cmmn", ".xml")


@app.command("test")
def test_command(
    paths: Annotated[list[Path], typer.Argument(help="Scenario YAML files or folders holding them")],
    roundtrip: Annotated[
        bool, typer.Option(help="Serialise and rebuild the case after every step and go on with the copy")
    ] = True,
) -> None:
    """Run scenario files: one line per scenario, then ``N passed, M failed``."""
    from casepilot.cmmn.scenarios import run_scenarios

    report(run_scenarios(paths, roundtrip=roundtrip))


@app.command("validate")
def validate_command(
    paths: Annotated[list[Path], typer.Argument(help="CMMN files (.cmmn/.xml) or folders holding them")],
) -> None:
    """Parse CMMN models and report every problem with file and line."""
    from casepilot.cmmn.parser import parse_file

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in _MODEL_SUFFIXES and p.is_file()))
        else:
            files.append(path)
    bad = 0
    for file in files:
        try:
            defs = parse_file(file)
        except DefinitionError as exc:
            bad += 1
            typer.echo(f"FAIL {exc}")
        except OSError as exc:
            bad += 1
            typer.echo(f"FAIL {file}: {exc}")
        else:
            typer.echo(f"OK   {file} ({len(defs.cases)} case{'s' if len(defs.cases) != 1 else ''})")
    typer.echo(f"{len(files) - bad} valid, {bad} invalid")
    raise typer.Exit(1 if bad or not files else 0)
