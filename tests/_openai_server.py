"""A local HTTP server speaking the OpenAI chat-completions protocol, scripted by tests.

It lets the tests drive the real ``openai`` client and the real ``LLMPlanner`` code path
with no network: each request pops the next scripted reply; every received payload is
kept so tests can assert what left the process (e.g. that no raw PII did).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@dataclass
class ScriptedOpenAI:
    replies: list[Reply] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def body_for(self, reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.tool is not None:
            args = reply.arguments if isinstance(reply.arguments, str) else json.dumps(reply.arguments or {})
            message["tool_calls"] = [
                {"id": f"call_{len(self.received)}", "type": "function", "function": {"name": reply.tool, "arguments": args}}
            ]
        return {
            "id": f"chatcmpl-{len(self.received)}",
            "object": "chat.completion",
            "created": 0,
            "model": "scripted",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if reply.tool else "stop"}],
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
            data = reply.raw.encode() if reply.raw is not None else json.dumps(script.body_for(reply)).encode()
            self.send_body(reply.status, data)

    with serving(Handler) as base:
        script.url = f"{base}/v1"
        yield script
