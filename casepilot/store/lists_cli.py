"""``casepilot cases`` and ``casepilot definitions``: what the store holds, as tables or JSON.

They read the store only (no agent, no tools), so they answer at once; ``--json`` prints the
same rows for scripts. Mount with ``register(app)``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from casepilot.errors import CasepilotError

from .cli import DbOption, open_store
from .models import CaseRecord

__all__ = ["cases_command", "definitions_command", "register"]


def _case_state(record: CaseRecord) -> str:
    """The CMMN case state (Active, Completed, Terminated…) from the stored engine state."""
    engine: Any = record.state.get("engine") if isinstance(record.state, dict) else None
    if not isinstance(engine, dict):
        return "unknown"
    root = engine.get("id")
    for item in engine.get("items") or ():
        if isinstance(item, dict) and item.get("id") == root:
            return str(item.get("state", "unknown")).lower()
    return "unknown"


def _process(record: CaseRecord) -> str | None:
    """The BPMN process a case runs on its own (None: a CMMN case) — read from the stored state as
    ``casepilot.agent._process_cases.process_of`` does (not imported: the CLI stays light)."""
    agent: Any = record.state.get("agent") if isinstance(record.state, dict) else None
    process = agent.get("process") if isinstance(agent, dict) else None
    return process if isinstance(process, str) else None


_PAGE = 500


def _matching(store: Any, definition: str | None, business_key: str | None, state: str | None,
              limit: int) -> list[CaseRecord]:
    """Up to ``limit`` cases, oldest first; with ``state``, the first ``limit`` in that state (the
    state is the engine's, known only once a case is read, so the store is read page by page)."""
    if state is None:
        return list(store.cases(definition_key=definition, business_key=business_key, limit=limit))
    wanted = state.lower()
    found: list[CaseRecord] = []
    offset = 0
    while len(found) < limit:
        page = store.cases(definition_key=definition, business_key=business_key, limit=_PAGE, offset=offset)
        found += [r for r in page if _case_state(r) == wanted]
        if len(page) < _PAGE:
            break
        offset += _PAGE
    return found[:limit]


def cases_command(
    definition: Annotated[str | None, typer.Option("--definition", "-d", help="Only cases of this definition key.")] = None,
    business_key: Annotated[str | None, typer.Option("--business-key", help="Only the case(s) with this business key.")] = None,
    state: Annotated[str | None, typer.Option("--state", help="Only cases in this state (active, completed, terminated…).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many cases (the oldest first).")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    db: DbOption = None,
) -> None:
    """List cases, oldest first: state, definition, business key, open inbox items, last change.

    Each row says its kind: a CMMN case, or a BPMN process started on its own (with the process).
    """
    console = Console()
    try:
        with open_store(db) as store:
            records = _matching(store, definition, business_key, state, limit)
            open_items: dict[str, int] = {}
            for task in store.tasks(status="open"):
                open_items[task.case_id] = open_items.get(task.case_id, 0) + 1
    except CasepilotError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=2) from exc
    rows: list[dict[str, Any]] = [{
        "id": r.id, "kind": "process" if _process(r) else "case", "process": _process(r),
        "state": _case_state(r), "definition_key": r.definition_key,
        "definition_version": r.definition_version, "business_key": r.business_key, "tenant": r.tenant,
        "open_inbox_items": open_items.get(r.id, 0), "events": r.last_seq,
        "created_at": r.created_at.isoformat(), "updated_at": r.updated_at.isoformat(),
    } for r in records]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(rows)} case(s)")
    for column in ("case", "kind", "state", "definition", "business key", "inbox", "events", "last change (UTC)"):
        table.add_column(column, no_wrap=column in ("case", "state"), overflow="fold")
    for row in rows:
        kind = f"process {row['process']}" if row["process"] else "case"
        table.add_row(row["id"], kind, row["state"], f"{row['definition_key']} v{row['definition_version']}",
                      row["business_key"] or "-", str(row["open_inbox_items"]), str(row["events"]),
                      str(row["updated_at"])[:19].replace("T", " "))
    console.print(table, highlight=False)


def definitions_command(
    key: Annotated[str | None, typer.Argument(help="Show every version of this key.", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    db: DbOption = None,
) -> None:
    """List deployed definitions: the latest version of each key, or every version of one."""
    console = Console()
    try:
        with open_store(db) as store:
            summaries = store.definitions(key)
    except CasepilotError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=2) from exc
    rows: list[dict[str, Any]] = [{
        "key": d.key, "version": d.version, "content_hash": d.content_hash,
        "deployed_at": d.deployed_at.isoformat(), "description": str(d.metadata.get("description") or ""),
    } for d in summaries]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    title = f"versions of {key}" if key else f"{len(rows)} definition(s), latest versions"
    table = Table(title=title)
    for column in ("key", "version", "hash", "deployed (UTC)", "description"):
        table.add_column(column, overflow="fold", no_wrap=column in ("key", "version", "hash"))
    for row in rows:
        table.add_row(row["key"], str(row["version"]), row["content_hash"][:12],
                      row["deployed_at"][:19].replace("T", " "), row["description"])
    console.print(table, highlight=False)


def register(app: typer.Typer) -> None:
    """Mount ``cases`` and ``definitions`` on the main CLI."""
    app.command("cases")(cases_command)
    app.command("definitions")(definitions_command)
