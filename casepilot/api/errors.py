"""casepilot's typed errors as HTTP responses: one status per kind, one JSON body shape.

Every error body is ``{"error": kind, "detail": message, "problems": [...]}`` so a client
handles all failures alike; bad input is always a 4xx, never a 500. That holds for the
framework's own refusals too (an unknown route 404, a wrong method 405, a body that is not
JSON 400), and the OpenAPI document declares these statuses with this body
(``error_responses``), so clients and schema checkers see what the service really returns.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from casepilot.api.schemas import ErrorBody
from casepilot.errors import (
    CaseDataErased,
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

__all__ = ["ApiError", "PageError", "error_response", "error_responses", "install_error_handlers", "printable",
           "status_for"]

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
    (CaseDataErased, 409),
    (ToolError, 502),
    (StoreError, 503),
)


_BUNDLE_FOLDER = re.compile(r"[^\s'\"]*casepilot-bundle-[0-9a-f]{12}-[^/\s]+/")
"""The private temp folder ``load_files`` writes an uploaded bundle to: the client knows its
files by name only, and the server's paths are none of its business."""


def _clean(text: str) -> str:
    return printable(_BUNDLE_FOLDER.sub("", text))


def printable(text: str) -> str:
    """``text`` with what UTF-8 cannot encode (lone surrogates) escaped as ``\\udXXX``.

    An error message quotes what the client sent; encoding a lone surrogate it sent would
    turn the refusal into a 500.
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


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
    if any(error.get("type") == "json_invalid" for error in exc.errors()):
        # Normally refused earlier by ``_body.JsonRoute``; a route without it still answers 400.
        return error_response(400, "InvalidJSON", "the request body is not valid JSON. Send one JSON document "
                              "(RFC 8259) in UTF-8 with content-type application/json")
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

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        allowed = _allowed_methods(request) if exc.status_code == 405 else []
        response = await api_error(request, _http_refusal(request, exc, allowed))
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed)
        return response

    app.add_exception_handler(CasepilotError, _casepilot_error)
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


_HTTP_KINDS = {400: "BadRequest", 404: "NotFound", 405: "MethodNotAllowed"}


def _http_refusal(request: Request, exc: StarletteHTTPException, allowed: list[str]) -> ApiError:
    """The framework's own refusals (routing, body reading) as an ``ApiError`` with a message that says what to do."""
    path = request.url.path
    if exc.status_code == 404:
        return ApiError(404, "NotFound", f"there is no {path}: see /docs for the API's routes")
    if exc.status_code == 405:
        return ApiError(405, "MethodNotAllowed", f"{request.method} is not allowed on {path}; use "
                        f"{' or '.join(allowed) or 'another path'}")
    if exc.status_code == 400:
        return ApiError(400, "BadRequest", f"the request cannot be read ({exc.detail}); send JSON in UTF-8 with "
                        "content-type application/json, or the form the page shows")
    kind = _HTTP_KINDS.get(exc.status_code) or HTTPStatus(exc.status_code).phrase.replace(" ", "")
    return ApiError(exc.status_code, kind, str(exc.detail))


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path.

    Starlette answers 405 from the first route whose path matches and lists only that route's
    methods, while ``GET /definitions`` and ``POST /definitions`` are two routes: the
    ``Allow`` header must name both.
    """
    allowed: list[str] = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


_DESCRIPTIONS: dict[int, str] = {
    400: "The body is not JSON (RFC 8259, UTF-8).",
    401: "Nobody is signed in: the service trusts a sign-on proxy's identity headers and the request has none.",
    403: "The person lacks the role the request needs, or governance did not allow it.",
    404: "No such definition, case or inbox item.",
    409: "Another request changed the case first, or the step is no longer possible; reload and retry.",
    413: "The body is larger than the service accepts.",
    422: "The request does not match the expected shape, or holds values casepilot cannot keep (a lone "
         "surrogate, a NUL character, a number beyond 64 bits, nesting deeper than 64 levels); every "
         "problem is listed.",
    503: "The store failed (e.g. the database is unreachable); retry later.",
}


def error_responses(*statuses: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for error statuses, each with the ``ErrorBody`` shape.

    ``described`` overrides a description for this route (``_409="The item was decided."``).
    Declaring 422 also replaces FastAPI's default 422 body, which is not the one this service sends.
    """
    codes = [*statuses, *(int(name.lstrip("_")) for name in described)]
    return {code: {"model": ErrorBody, "description": described.get(f"_{code}", _DESCRIPTIONS[code])}
            for code in codes}
