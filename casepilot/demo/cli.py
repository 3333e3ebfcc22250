"""``casepilot demo``: the bundled claim-triage example, end to end on embedded defaults.

Registered by name from ``casepilot.cli`` (``_REGISTRARS``), so that the agent's own CLI — and a
service that embeds the agent — never imports the demo's tools.
"""

from __future__ import annotations

from typing import Annotated

import typer

from casepilot.agent.cli import DbOption, console

__all__ = ["demo", "register"]


def demo(db: DbOption = None, quiet: Annotated[bool, typer.Option("--quiet")] = False) -> None:
    """Run the bundled claim-triage example end to end on embedded defaults (offline)."""
    from casepilot.demo.run import run_demo

    results = run_demo(db, console=console, verbose=not quiet)
    done = sum(1 for s in results.values() if s == "completed")
    console.print(f"[bold]{done} of {len(results)} demo cases completed[/bold]")
    if done != len(results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Mount ``demo`` on the main CLI."""
    app.command("demo")(demo)
