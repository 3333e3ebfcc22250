"""A ceiling on request bodies, checked before anything parses them.

Why an ASGI middleware of our own: FastAPI (Starlette) reads a whole body into memory before
validation, and neither it nor uvicorn caps its size, so one oversized upload — a bundle, a
letter — could exhaust the server's memory. Bodies are counted as they arrive (a declared
``Content-Length`` is checked up front, a chunked body is read here up to the limit) and
refused with 413 and the usual error body once over it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["DEFAULT_MAX_BODY_BYTES", "BodyLimit"]

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
"""10 MiB: far above any case bundle or letter, far below what hurts a server."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """Refuse HTTP requests whose body exceeds ``max_bytes`` with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        if declared is not None:
            await self.app(scope, receive, send)  # the server delivers no more than declared
            return
        # No declared length (a chunked upload): read it here, at most ``max_bytes``, then hand
        # it on. The framework turns any error raised while it reads a body into a 400, so the
        # limit has to be enforced before the app starts reading.
        chunks: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                chunks.append(message)
                break
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(message)
            if not message.get("more_body", False):
                break
        replay = iter(chunks)

        async def buffered_receive() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, buffered_receive, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({
            "error": "PayloadTooLarge",
            "detail": f"the request body is larger than {self.max_bytes} bytes; send less (split the upload)",
            "problems": [],
        }).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
