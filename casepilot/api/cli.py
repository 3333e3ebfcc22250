"""``casepilot serve``: the JSON HTTP API and the web page under uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["register", "serve"]


def serve(
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: $CASEPILOT_DATABASE_URL or casepilot.db in the user data folder, wherever serve runs).")] = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8000,
    user_header: Annotated[str | None, typer.Option(
        "--user-header", help="Take people's names from this header set by your sign-on proxy "
        "(e.g. X-Forwarded-User) instead of from what requests claim.")] = None,
    roles_header: Annotated[str, typer.Option(
        "--roles-header", help="With --user-header: the proxy's header of comma-separated roles.")] = "X-Forwarded-Groups",
    deployer_role: Annotated[str | None, typer.Option(
        "--deployer-role", help="The role people need to deploy definitions (default: $CASEPILOT_DEPLOYER_ROLE, "
        "else 'deployer'). Starting and running cases need the roles each bundle names.")] = None,
    documents: Annotated[Path | None, typer.Option(
        "--documents", help="A Chroma folder of `casepilot rag ingest`: agents get the retrieve tool over it.")] = None,
    retrieval_routing: Annotated[Path | None, typer.Option(
        "--retrieval-routing", help="With --documents: the DMN table (decision 'Route') that picks each retrieval's "
        "collection and embedding from the case's definition, stage and personal data (an example: "
        "casepilot/rag/routing.dmn). Without it, each call searches the collection its binding names.",
        exists=True, dir_okay=False)] = None,
    workers: Annotated[bool | None, typer.Option(
        "--workers/--in-process", help="Leave the cases' work to `casepilot worker` processes and answer at once "
        "(202; ?wait=SECONDS for the outcome), or work them in the request. Default: workers on PostgreSQL, "
        "in process on SQLite (which has no workers).")] = None,
) -> None:
    """Serve the JSON HTTP API and the web page (inbox, cases, history); OpenAPI docs at /docs."""
    import uvicorn

    from casepilot.api.app import app_from_settings
    from casepilot.api.identity import TrustedHeaders
    from casepilot.api.settings import ApiSettings, default_registry, registry_with_documents

    identity = TrustedHeaders(user=user_header, roles=roles_header) if user_header else None
    if retrieval_routing is not None and documents is None:
        raise typer.BadParameter("a retrieval routing table needs --documents", param_hint="--retrieval-routing")
    registry = registry_with_documents(documents, retrieval_routing) if documents is not None else default_registry
    settings = ApiSettings(database_url=db, identity=identity, registry=registry, deployer_role=deployer_role)
    postgres = settings.resolved_url().startswith(("postgresql", "postgres"))
    if workers and not postgres:
        raise typer.BadParameter("workers need a PostgreSQL database (--db postgresql+psycopg://…)",
                                 param_hint="--workers")
    queue = postgres if workers is None else workers
    mode = "cases are worked by `casepilot worker` processes" if queue else "cases are worked in process"
    Console().print(f"serving casepilot on http://{host}:{port} (store {settings.resolved_url()}; {mode}; "
                    "docs at /docs)")
    uvicorn.run(app_from_settings(settings, queue=queue), host=host, port=port)


def register(app: typer.Typer) -> None:
    """Mount ``serve`` on the main CLI."""
    app.command("serve")(serve)
