"""``casepilot serve``: the JSON HTTP API under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

__all__ = ["register", "serve"]


def serve(
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: $CASEPILOT_DATABASE_URL or a local SQLite file).")] = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8000,
) -> None:
    """Serve the JSON HTTP API (deploy bundles, work cases, inbox, history); OpenAPI docs at /docs."""
    import uvicorn

    from casepilot.api.app import app_from_settings
    from casepilot.api.settings import ApiSettings

    settings = ApiSettings(database_url=db)
    Console().print(f"serving casepilot on http://{host}:{port} (store {settings.resolved_url()}; docs at /docs)")
    uvicorn.run(app_from_settings(settings), host=host, port=port)


def register(app: typer.Typer) -> None:
    """Mount ``serve`` on the main CLI."""
    app.command("serve")(serve)
