"""Command-line faces of the store, mounted by ``casepilot.cli``::

    casepilot db upgrade            apply schema migrations
    casepilot history CASE_ID       the case timeline (rich table; --json for machines)
    casepilot history verify CASE_ID  check the hash chain, name the first bad event
    casepilot erase CASE_ID         crypto-shred the case's PII, record the erasure

Each takes ``--db URL`` (default: env ``CASEPILOT_DATABASE_URL``, else
``sqlite:///.casepilot/casepilot.db``). Mount with ``register(app)``.

``history`` takes ``verify`` as its first word for the check (a case literally named
"verify" is shown with ``casepilot history --case verify``).
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from casepilot.errors import CasepilotError

from ._canonical import utc_iso
from .models import HistoryEvent
from .store import DEFAULT_URL, Store

__all__ = ["db_app", "erase_command", "history_command", "register"]

ENV_DB = "CASEPILOT_DATABASE_URL"

DbOption = Annotated[
    str | None,
    typer.Option("--db", help=f"Database URL (default: ${ENV_DB} or {DEFAULT_URL}).", show_default=False),
]

db_app = typer.Typer(help="Database administration.", no_args_is_help=True)


def _url(db: str | None) -> str:
    return db or os.environ.get(ENV_DB) or DEFAULT_URL


def _fail(console: Console, exc: CasepilotError) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}", highlight=False)
    return typer.Exit(code=2)


@db_app.command("upgrade")
def upgrade_command(db: DbOption = None) -> None:
    """Apply pending schema migrations (an empty database is also migrated on first use)."""
    console = Console()
    try:
        with Store.from_url(_url(db), migrate=False) as store:
            before, after = store.upgrade()
    except CasepilotError as exc:
        raise _fail(console, exc) from exc
    if before == after:
        console.print(f"database already at revision {after}")
    else:
        console.print(f"database upgraded from {before or 'empty'} to {after}")


def _summary(event: HistoryEvent, width: int = 80) -> str:
    payload: Any = event.payload
    if event.kind in ("state", "case_created"):
        payload = {k: v for k, v in event.payload.items() if k != "state"}
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(case_id: str, events: list[HistoryEvent]) -> Table:
    table = Table(title=f"history of case {case_id}")
    for name, justify in (("seq", "right"), ("at (UTC)", "left"), ("kind", "left"), ("actor", "left"),
                          ("payload", "left"), ("rules", "left"), ("tokens", "right"), ("cost", "right"),
                          ("ms", "right")):
        table.add_column(name, justify=justify, no_wrap=name != "payload")  # type: ignore[arg-type]
    for e in events:
        table.add_row(
            str(e.seq),
            utc_iso(e.at)[:-4] + "Z",
            e.kind,
            e.actor,
            _summary(e),
            ", ".join(e.rule_ids),
            "" if e.tokens is None else str(e.tokens),
            "" if e.cost is None else f"{e.cost:.4f}",
            "" if e.latency_ms is None else f"{e.latency_ms:.0f}",
        )
    return table


def history_command(
    words: Annotated[list[str] | None, typer.Argument(help="CASE_ID, or: verify CASE_ID", show_default=False)] = None,
    case: Annotated[str | None, typer.Option("--case", help="Case id (when it collides with 'verify').")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    db: DbOption = None,
) -> None:
    """Show a case's timeline, or `history verify CASE_ID` to check its hash chain."""
    console = Console()
    args = list(words or [])
    verify = bool(args) and args[0] == "verify"
    if verify:
        args = args[1:]
    if (case is None and len(args) != 1) or (case is not None and args):
        console.print("usage: casepilot history CASE_ID [--json] | casepilot history verify CASE_ID [--json]")
        raise typer.Exit(code=2)
    case_id = case if case is not None else args[0]
    try:
        with Store.from_url(_url(db)) as store:
            if verify:
                report = store.verify(case_id)
                if as_json:
                    typer.echo(report.model_dump_json())
                elif report.ok:
                    console.print(f"[green]ok[/green]: the {report.events_checked} events of case {case_id} verify")
                else:
                    console.print(f"[red]TAMPERED[/red]: case {case_id}: {report.problem}", highlight=False)
                if not report.ok:
                    raise typer.Exit(code=1)
                return
            store.case(case_id)
            events = list(store.iter_history(case_id))
    except CasepilotError as exc:
        raise _fail(console, exc) from exc
    if as_json:
        typer.echo(json.dumps([e.model_dump(mode="json") for e in events], ensure_ascii=False, indent=2))
    else:
        console.print(_table(case_id, events))


def erase_command(
    case_id: Annotated[str, typer.Argument(help="The case whose personal data is erased.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept in the history).")] = None,
    actor: Annotated[str, typer.Option("--actor", help="Who asks for the erasure.")] = "system",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    db: DbOption = None,
) -> None:
    """Crypto-shred a case's pseudonym vault (irreversible) and record the erasure in its history."""
    console = Console()
    if not yes and not typer.confirm(f"Irreversibly erase the personal data of case {case_id}?"):
        raise typer.Exit(code=1)
    try:
        with Store.from_url(_url(db)) as store:
            event = store.erase(case_id, actor=actor, reason=reason)
    except CasepilotError as exc:
        raise _fail(console, exc) from exc
    console.print(
        f"erased case {case_id}: vault key shredded, {event.payload.get('values_erased', 0)} values removed; "
        f"recorded as event {event.seq} at {utc_iso(event.at)}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Mount ``db``, ``history`` and ``erase`` on the main CLI."""
    app.add_typer(db_app, name="db")
    app.command("history")(history_command)
    app.command("erase")(erase_command)
