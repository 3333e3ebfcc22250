"""``casepilot dmn …`` — the DMN sub-commands (mounted by the main CLI).

* ``casepilot dmn tck PATH… [--json-report FILE] [--update-ratchet FILE]`` runs DMN
  TCK folders and prints one line per failing test case (expected vs actual of each
  failing result), the two pass rates and,
  last, ``N passed, M failed``.
* ``casepilot dmn eval MODEL DECISION [--input JSON]`` evaluates one decision.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from casepilot.dmn.model import DecisionModel
from casepilot.dmn.ratchet import update_ratchet
from casepilot.dmn.tck import TckReport, discover, run_tck
from casepilot.errors import DefinitionError

__all__ = ["app"]

app = typer.Typer(
    name="dmn", help="DMN decision models: evaluate decisions, run the DMN TCK.", no_args_is_help=True
)


def _percent(rate: float) -> str:
    return f"{rate * 100:.2f}%"


@app.command("tck")
def tck(
    paths: Annotated[
        list[Path], typer.Argument(help="TCK folders (a compliance level or single test folders).")
    ],
    json_report: Annotated[
        Path | None, typer.Option("--json-report", help="Write per-folder results as JSON.")
    ] = None,
    update_ratchet_file: Annotated[
        Path | None,
        typer.Option("--update-ratchet", help="Raise the rates in this ratchet file (never lowers them)."),
    ] = None,
) -> None:
    """Run DMN TCK test cases; exit code 1 if any case fails."""
    reports: dict[str, TckReport] = {}
    # Progress on stderr, gone when done: the report below stays plain text for logs and scripts.
    with Progress(TextColumn("TCK"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("", total=len(discover(paths)))
        for p in paths:
            reports[p.name or str(p)] = run_tck(
                [p], on_folder=lambda folder: progress.update(task, advance=1, description=folder.name))
    outcomes = tuple(o for r in reports.values() for o in r.outcomes)
    total = TckReport(outcomes)
    for o in outcomes:
        if not o.passed:
            typer.echo(f"FAIL {o.line}")
    for label, r in reports.items():
        nn = [o for o in r.outcomes if o.non_null]
        typer.echo(
            f"{label}: all {_percent(r.rate_all)} ({r.passed}/{len(r.outcomes)}), "
            f"non-null {_percent(r.rate_non_null)} ({sum(o.passed for o in nn)}/{len(nn)})"
        )
    if json_report is not None:
        data: dict[str, Any] = {
            "total": total.to_json(),
            "paths": {k: v.to_json() for k, v in reports.items()},
        }
        json_report.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if update_ratchet_file is not None:
        changed = update_ratchet(
            update_ratchet_file,
            {k: {"all": r.rate_all, "non_null": r.rate_non_null} for k, r in reports.items()},
        )
        typer.echo(f"ratchet {update_ratchet_file}: {'raised' if changed else 'unchanged'}")
    typer.echo(f"{total.passed} passed, {total.failed} failed")
    if total.failed:
        raise typer.Exit(1)


@app.command("eval")
def evaluate(
    model: Annotated[Path, typer.Argument(help="The .dmn file (imported models: pass them with --import).")],
    decision: Annotated[str, typer.Argument(help="Decision name (or decision service name with --service).")],
    input_json: Annotated[str, typer.Option("--input", help="Input data as a JSON object.")] = "{}",
    imports: Annotated[list[Path] | None, typer.Option("--import", help="Models imported by MODEL.")] = None,
    service: Annotated[bool, typer.Option("--service", help="Invoke a decision service.")] = False,
) -> None:
    """Evaluate a decision and print its value, matched rules and messages as JSON."""
    try:
        dm = DecisionModel.from_xml(model, imports=imports or [])
    except DefinitionError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    try:
        inputs = json.loads(input_json, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        typer.echo(f"--input is not valid JSON: {exc}", err=True)
        raise typer.Exit(2) from exc
    result = dm.evaluate_service(decision, inputs) if service else dm.evaluate(decision, inputs)
    payload = {
        "decision": result.name,
        "value": _jsonable(result.value),
        "rule_ids": {k: list(v) for k, v in result.decision_rule_ids.items()},
        "messages": [str(m) for m in result.messages],
    }
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    if not result.ok:
        raise typer.Exit(1)


def _jsonable(value: Any) -> Any:

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    from casepilot.dmn._types import describe

    return describe(value)
