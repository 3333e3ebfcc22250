"""The app factory: a FastAPI app around one orchestrator, with no import-time globals.

``create_app(orchestrator)`` serves an orchestrator the caller owns (tests, an embedding
service); ``app_from_settings(settings)`` builds store and orchestrator itself and closes
them when the app shuts down (``casepilot serve``).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import RedirectResponse

from casepilot import __version__
from casepilot.agent.orchestrator import Orchestrator
from casepilot.api import (
    cases,
    chat,
    definitions,
    inbox,
    metrics,
    operations,
    processes,
    web,
    web_chat,
    web_events,
)
from casepilot.api._body import publish_limits
from casepilot.api._limits import DEFAULT_MAX_BODY_BYTES, BodyLimit
from casepilot.api.access import DEFAULT_DEPLOYER_ROLE, require_signed_in
from casepilot.api.errors import install_error_handlers
from casepilot.api.identity import TrustedHeaders
from casepilot.api.settings import ApiSettings

__all__ = ["app_from_settings", "create_app", "queued_orchestrator"]


def create_app(
    orchestrator: Orchestrator,
    *,
    identity: TrustedHeaders | None = None,
    deployer_role: str = DEFAULT_DEPLOYER_ROLE,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    on_shutdown: Callable[[], None] | None = None,
    queue: bool = False,
) -> FastAPI:
    """The JSON API and web page over ``orchestrator``.

    ``identity``: take people's names and roles from a sign-on proxy's headers (see
    ``casepilot.api.identity``) instead of from what requests claim; then every route
    needs a signed-in person, and changes need the roles ``casepilot.api.access`` lists —
    deploying needs ``deployer_role``. ``on_shutdown``
    releases what the caller wants closed with the app. Request bodies over
    ``max_body_bytes`` are refused with 413 before anything reads them.

    ``queue``: leave the cases' work to ``casepilot worker`` processes (PostgreSQL; see
    ``queued``): the orchestrator must stage its jobs (``queued_orchestrator``), and requests
    that make work due answer 202 at once.
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if on_shutdown is not None:
            on_shutdown()

    app = FastAPI(
        title="casepilot",
        version=__version__,
        description="Governed AI orchestration over CMMN cases: deploy bundles, work cases, "
                    "decide inbox items, read hash-chained histories.",
        lifespan=lifespan,
        # Every route declared below needs a signed-in person when an identity source is set;
        # the OpenAPI schema and docs pages are Starlette routes and stay open (see ``access``).
        dependencies=[Depends(require_signed_in)],
    )
    app.state.orchestrator = orchestrator
    app.state.identity = identity
    app.state.deployer_role = deployer_role
    app.state.queue = queue
    app.state.notice_secret = secrets.token_bytes(32)  # signs the web page's notices (see ``web._to_case``)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    install_error_handlers(app, page_error=web.error_page)
    for module in (definitions, cases, processes, chat, inbox, operations, metrics, web, web_chat, web_events):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/ui/inbox", status_code=303)

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        """The generated document with the body rules the routes enforce written in (see ``_body``)."""
        if app.openapi_schema is None:
            app.openapi_schema = publish_limits(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema
    return app


def queued_orchestrator(orch: Orchestrator) -> Orchestrator:
    """Make ``orch`` enqueue a run with every change it commits (for an app with ``queue=True``).

    Only on PostgreSQL: the queue lives in the store's database, and its schema is installed
    here (once, under a lock) if it is not there yet.
    """
    from casepilot.worker import JobScheduler
    from casepilot.worker.schema import ensure_queue

    conninfo = orch.store.postgres_conninfo
    if conninfo is None:
        raise ValueError("cases can be left to workers only on PostgreSQL (postgresql+psycopg://…); "
                         "on SQLite the service works them in process")
    ensure_queue(conninfo)
    orch.runtime.on_step = JobScheduler(run_on_change=True, clock=orch.runtime.clock)
    return orch


def app_from_settings(settings: ApiSettings | None = None, *, queue: bool = False) -> FastAPI:
    """An app with its own store and orchestrator, closed when the app shuts down.

    ``queue``: leave the cases' work to ``casepilot worker`` processes (PostgreSQL only).
    """
    settings = settings or ApiSettings()
    store = settings.open_store()
    orch = Orchestrator(store, settings.make_registry())
    if queue:
        queued_orchestrator(orch)

    def close() -> None:
        orch.close()
        store.close()

    return create_app(orch, identity=settings.identity, deployer_role=settings.resolved_deployer_role(),
                      on_shutdown=close, queue=queue)
