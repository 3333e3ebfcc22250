"""A local HTTP server speaking the OpenAI chat-completions protocol, scripted by tests.

It lets the tests drive the real ``openai`` client and the real ``LLMPlanner`` code path
with no network: each request pops the next scripted reply; every received payload is
kept so tests can assert what left the process (e.g. that no raw PII did). A reply can be
a tool call or text (with log-probabilities), an HTTP error with the endpoint's message and
headers (a 429 with ``Retry-After``), a slow answer (``delay``) or a dropped connection.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from tests._http import JsonHandler, serving


@dataclass
class Reply:
    """One scripted answer: a tool call, plain text, raw bytes, an HTTP error, or a delay."""

    tool: str | None = None
    arguments: Any = None
    text: str | None = None
    raw: str | None = None
    status: int = 200
    delay: float = 0.0
    prompt_tokens: int = 120
    completion_tokens: int = 30
    logprobs: list[tuple[str, float]] | None = None
    """Generated tokens and their log-probabilities, returned as ``choices[0].logprobs.content``."""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    """Close the connection without answering (the client sees a connection error)."""
    samples: list[Reply] | None = None
    """Further choices of the same answer (for ``n`` > 1): each one's tool call or text."""

    @classmethod
    def error(cls, status: int, message: str, **headers: str) -> Reply:
        """An HTTP error answered the way OpenAI-compatible servers do (``{"error": {"message": …}}``)."""
        body = json.dumps({"error": {"message": message, "type": "scripted", "code": status}})
        return cls(status=status, raw=body, headers={k.replace("_", "-"): v for k, v in headers.items()})


@dataclass
class ScriptedOpenAI:
    replies: list[Reply] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def message_for(self, reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.tool is not None:
            args = reply.arguments if isinstance(reply.arguments, str) else json.dumps(reply.arguments or {})
            message["tool_calls"] = [
                {"id": f"call_{len(self.received)}", "type": "function", "function": {"name": reply.tool, "arguments": args}}
            ]
        return message

    def body_for(self, reply: Reply) -> dict[str, Any]:
        message = self.message_for(reply)
        choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": "tool_calls" if reply.tool else "stop"}
        if reply.logprobs is not None:
            choice["logprobs"] = {"content": [
                {"token": token, "logprob": logprob, "bytes": list(token.encode()), "top_logprobs": []}
                for token, logprob in reply.logprobs]}
        return {
            "id": f"chatcmpl-{len(self.received)}",
            "object": "chat.completion",
            "created": 0,
            "model": "scripted",
            "choices": [choice, *({"index": i, "message": self.message_for(r),
                                   "finish_reason": "tool_calls" if r.tool else "stop"}
                                  for i, r in enumerate(reply.samples or (), start=1))],
            "usage": {
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
                "total_tokens": reply.prompt_tokens + reply.completion_tokens,
            },
        }


@contextmanager
def scripted_openai(replies: list[Reply]) -> Iterator[ScriptedOpenAI]:
    """Serve ``replies`` on 127.0.0.1 (a free port) for the duration of the block."""
    script = ScriptedOpenAI(list(replies))

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            script.received.append(self.read_json())
            if not script.replies:
                self.send_body(500, b'{"error": {"message": "script exhausted"}}')
                return
            reply = script.replies.pop(0)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.drop:
                self.close_connection = True
                with suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            data = reply.raw.encode() if reply.raw is not None else json.dumps(script.body_for(reply)).encode()
            self.send_response(reply.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            with suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

    with serving(Handler) as base:
        script.url = f"{base}/v1"
        yield script
