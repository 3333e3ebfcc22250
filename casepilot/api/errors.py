"""casepilot's typed errors as HTTP responses: one status per kind, one JSON body shape.

Every error body is ``{"error": kind, "detail": message, "problems": [...]}`` so a client
handles all failures alike; bad input is always a 4xx, never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from casepilot.errors import (
    CasepilotError,
    ConcurrencyConflict,
    DecisionRejected,
    DefinitionError,
    ExpressionError,
    GovernanceBlocked,
    HistoryTampered,
    IllegalTransition,
    NotAuthorized,
    NotFound,
    StoreError,
    ToolError,
    UnknownPlanItem,
)

__all__ = ["ApiError", "PageError", "error_response", "install_error_handlers", "status_for"]

_STATUS: tuple[tuple[type[CasepilotError], int], ...] = (
    # Most specific first: NotFound is a StoreError.
    (NotFound, 404),
    (UnknownPlanItem, 404),
    (DefinitionError, 422),
    (ExpressionError, 422),
    (GovernanceBlocked, 403),
    (NotAuthorized, 403),
    (DecisionRejected, 409),
    (ConcurrencyConflict, 409),
    (IllegalTransition, 409),
    (HistoryTampered, 409),
    (ToolError, 502),
    (StoreError, 503),
)


_BUNDLE_FOLDER = re.compile(r"[^\s'\"]*casepilot-bundle-[0-9a-f]{12}-[^/\s]+/")
"""The private temp folder ``load_files`` writes an uploaded bundle to: the client knows its
files by name only, and the server's paths are none of its business."""


def _clean(text: str) -> str:
    return _BUNDLE_FOLDER.sub("", text)


class ApiError(Exception):
    """An error the API itself decides the status of (e.g. a refused decision: 403 vs 409)."""

    def __init__(self, status: int, kind: str, detail: str, problems: list[str] | None = None) -> None:
        self.status = status
        self.kind = kind
        self.detail = detail
        self.problems = problems or []
        super().__init__(detail)


def status_for(exc: CasepilotError) -> int:
    """The HTTP status for a casepilot error; unknown kinds are a client error (400)."""
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def _problems(exc: CasepilotError) -> list[str]:
    if isinstance(exc, DefinitionError):
        # Each nested problem, flattened: the client shows a list, not an indented text block.
        found: list[str] = []
        stack = list(exc.problems)
        while stack:
            problem = stack.pop(0)
            if problem.problems:
                stack[:0] = problem.problems
            else:
                found.append(problem._render())
        return found or [str(exc)]
    return []


def error_response(status: int, kind: str, detail: str, problems: list[str] | None = None) -> JSONResponse:
    """The one error body shape."""
    return JSONResponse(status_code=status, content={
        "error": kind, "detail": _clean(detail), "problems": [_clean(p) for p in problems or []]})


async def _casepilot_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CasepilotError)
    return error_response(status_for(exc), type(exc).__name__, str(exc), _problems(exc))


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', '')}"
        for error in jsonable_encoder(exc.errors())
    ]
    return error_response(422, "ValidationError", "the request does not match the expected shape: "
                          + "; ".join(problems), problems)


PageError = Callable[[Request, ApiError], Response | None]
"""Renders an ``ApiError`` as a page for requests a person's browser makes (None: not a page)."""


def install_error_handlers(app: FastAPI, *, page_error: PageError | None = None) -> None:
    """Register the handlers on ``app`` (per app: nothing global).

    ``page_error`` lets the web page answer its refusals (401 not signed in, 403 no role) with
    a page a person can read instead of JSON, also when they come from a dependency before
    any page code runs.
    """

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        page = page_error(request, exc) if page_error is not None else None
        return page if page is not None else error_response(exc.status, exc.kind, exc.detail, exc.problems)

    app.add_exception_handler(CasepilotError, _casepilot_error)
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
