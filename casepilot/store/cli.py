"""Command-line faces of the store, mounted by ``casepilot.cli``::

    casepilot db upgrade            apply schema migrations
    casepilot history CASE_ID       the case timeline (rich table; --json for machines)
    casepilot history verify CASE_ID  check the hash chain, name the first bad event
    casepilot history anchor [--out F]  every case's chain head as JSON lines, to keep elsewhere
    casepilot history verify [CASE_ID] --anchors F  also check the anchored heads are still there
    casepilot erase CASE_ID         crypto-shred the case's PII, record the erasure

Each takes ``--db URL`` (default: env ``CASEPILOT_DATABASE_URL``, else ``casepilot.db`` in the
user data folder; see ``casepilot.settings``). Mount with ``register(app)``.

``history`` takes ``verify`` as its first word for the check (a case literally named
"verify" is shown with ``casepilot history --case verify``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from casepilot.errors import CasepilotError, NotFound

from ._canonical import utc_iso
from .models import Anchor, HistoryEvent, VerifyReport
from .store import Store
from .timeline import HIDDEN_KINDS, describe_event

__all__ = ["DbOption", "db_app", "erase_command", "history_command", "open_store", "register"]

ENV_DB = "CASEPILOT_DATABASE_URL"

DbOption = Annotated[
    str | None,
    typer.Option("--db", help=f"Database URL (default: ${ENV_DB}, else casepilot.db in the user data folder).",
                 show_default=False),
]

db_app = typer.Typer(help="Database administration.", no_args_is_help=True)


def open_store(db: str | None, *, migrate: bool = True) -> Store:
    """The store of ``--db`` or the settings (the folder of the default SQLite file is created)."""
    from casepilot.settings import load_settings

    store: Store = load_settings().open_store(db, migrate=migrate)
    return store


def _fail(console: Console, exc: CasepilotError) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
    return typer.Exit(code=2)


@db_app.command("upgrade")
def upgrade_command(db: DbOption = None) -> None:
    """Apply pending schema migrations (an empty database is also migrated on first use)."""
    console = Console()
    try:
        with open_store(db, migrate=False) as store:
            before, after = store.upgrade()
    except CasepilotError as exc:
        raise _fail(console, exc) from exc
    if before == after:
        console.print(f"database already at revision {after}")
    else:
        console.print(f"database upgraded from {before or 'empty'} to {after}")


def _usage(event: HistoryEvent) -> str:
    parts = []
    if event.tokens is not None:
        parts.append(f"{event.tokens} tok")
    if event.cost is not None:
        parts.append(f"${event.cost:.4f}")
    elif event.kind == "llm_call" and event.payload.get("price") == "unknown":
        parts.append("cost unknown")  # a model without a price: never shown as $0
    if event.latency_ms is not None:
        parts.append(f"{event.latency_ms:.0f} ms")
    return " ".join(parts)


def _table(case_id: str, events: list[HistoryEvent], *, everything: bool = False) -> Table:
    """The timeline as people read it (the demo's lines); bookkeeping events only with ``everything``."""
    hidden = 0 if everything else sum(e.kind in HIDDEN_KINDS for e in events)
    events = events if everything else [e for e in events if e.kind not in HIDDEN_KINDS]
    caption = f"{hidden} bookkeeping events (state snapshots, creation) not shown: --all shows them" if hidden else None
    table = Table(title=f"history of case {case_id}", caption=caption)
    with_rules = any(e.rule_ids for e in events)
    with_usage = any(e.tokens is not None or e.cost is not None or e.latency_ms is not None for e in events)
    table.add_column("seq", justify="right", no_wrap=True)
    table.add_column("at (UTC)", overflow="fold", min_width=10)
    table.add_column("kind", overflow="fold", min_width=8)
    table.add_column("actor", overflow="fold", min_width=6)
    table.add_column("what", overflow="fold", min_width=12)
    if with_rules:
        table.add_column("rules", overflow="fold")
    if with_usage:
        table.add_column("usage", overflow="fold")
    for e in events:
        cells = [str(e.seq), e.at.strftime("%Y-%m-%d %H:%M:%S"), e.kind, e.actor, describe_event(e, width=160)]
        if with_rules:
            cells.append(", ".join(e.rule_ids))
        if with_usage:
            cells.append(_usage(e))
        table.add_row(*cells)
    return table


def history_command(
    words: Annotated[list[str] | None, typer.Argument(help="CASE_ID, verify [CASE_ID], or anchor", show_default=False)] = None,
    case: Annotated[str | None, typer.Option("--case", help="Case id (when it collides with 'verify').")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    everything: Annotated[bool, typer.Option("--all", help="Also show bookkeeping events (state snapshots, creation).")] = False,
    after: Annotated[int, typer.Option("--after", help="Only events after this sequence number.", min=0)] = 0,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many events.", min=1)] = None,
    anchors: Annotated[Path | None, typer.Option(
        "--anchors", help="verify: a file of `history anchor`; anchored heads must still be there.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="anchor: write to this file instead of stdout.")] = None,
    db: DbOption = None,
) -> None:
    """Show a case's timeline; `history verify CASE_ID` checks its hash chain; `history anchor`
    writes every chain head to keep outside the database (`verify --anchors FILE` checks them)."""
    console = Console()
    args = list(words or [])
    command = args[0] if (args and args[0] in ("verify", "anchor") and case is None) or (
        args and args[0] in ("verify", "anchor") and len(args) == 1) else "show"
    if command != "show":
        args = args[1:]
    try:
        with open_store(db) as store:
            if command == "anchor":
                _write_anchors(store, out, console)
                return
            if command == "verify" and anchors is not None and case is None and not args:
                _verify_anchored(store, anchors, console, as_json)
                return
            if (case is None and len(args) != 1) or (case is not None and args):
                console.print("usage: casepilot history CASE_ID [--json] | casepilot history verify CASE_ID "
                              "[--anchors FILE] | casepilot history anchor [--out FILE]")
                raise typer.Exit(code=2)
            case_id = case if case is not None else args[0]
            if command == "verify":
                anchor = _read_anchors(anchors).get(case_id) if anchors is not None else None
                report = store.verify(case_id, anchor=anchor)
                if as_json:
                    typer.echo(report.model_dump_json())
                else:
                    _print_report(console, report, anchored=anchor is not None)
                if not report.ok:
                    raise typer.Exit(code=1)
                return
            events = store.history(case_id, after_seq=after, limit=limit)
    except CasepilotError as exc:
        raise _fail(console, exc) from exc
    if as_json:
        typer.echo(json.dumps([e.model_dump(mode="json") for e in events], ensure_ascii=False, indent=2))
    else:
        console.print(_table(case_id, events, everything=everything), highlight=False)


def _print_report(console: Console, report: VerifyReport, *, anchored: bool) -> None:
    if report.ok:
        against = " and its anchored head is intact" if anchored else ""
        console.print(f"[green]ok[/green]: the {report.events_checked} events of case {report.case_id} verify{against}")
    else:
        console.print(f"[red]TAMPERED[/red]: case {report.case_id}: {report.problem}", highlight=False)


def _write_anchors(store: Store, out: Path | None, console: Console) -> None:
    lines = [a.model_dump_json() for a in store.anchors()]
    text = "".join(f"{line}\n" for line in lines)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"{len(lines)} chain heads written to {out}: keep the file outside this database")


def _read_anchors(path: Path) -> dict[str, Anchor]:
    """Anchors by case id from a file of ``history anchor`` (a later line for a case wins)."""
    found: dict[str, Anchor] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise typer.BadParameter(f"cannot read the anchors file {path}: {exc.strerror}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            anchor = Anchor.model_validate_json(line)
        except ValueError as exc:
            raise typer.BadParameter(f"{path}:{number} is not an anchor line of `casepilot history anchor`") from exc
        found[anchor.case_id] = anchor
    return found


def _verify_anchored(store: Store, path: Path, console: Console, as_json: bool) -> None:
    """Every case named in the anchors file; exit 1 when any fails (each failure is printed)."""
    reports = []
    anchored = _read_anchors(path)
    # Thousands of cases take a while: a progress bar on stderr, gone when done (the report stays plain).
    with Progress(TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("cases", total=len(anchored))
        for case_id, anchor in anchored.items():
            try:
                reports.append(store.verify(case_id, anchor=anchor))
            except NotFound:
                reports.append(VerifyReport(case_id=case_id, ok=False, events_checked=0, first_bad_seq=1,
                                            problem=f"the case is gone (anchored at {utc_iso(anchor.taken_at)})"))
            progress.advance(task)
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in reports]))
    else:
        for report in reports:
            if not report.ok:
                _print_report(console, report, anchored=True)
        good = sum(r.ok for r in reports)
        console.print(f"{good} of {len(reports)} anchored cases verify")
    if any(not r.ok for r in reports):
        raise typer.Exit(code=1)


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
        with open_store(db) as store:
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
