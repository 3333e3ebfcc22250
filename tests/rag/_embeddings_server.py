"""A local HTTP server speaking the OpenAI ``/v1/embeddings`` protocol, for the rag tests.

Vectors are deterministic hashed bags of words (so similar texts get similar vectors and a
search through it means something); every request body is kept for assertions.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests._http import serving

DIMENSIONS = 64


def bag_of_words(text: str) -> list[float]:
    vector = [0.0] * DIMENSIONS
    for word in re.findall(r"\w+", text.lower()):
        vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % DIMENSIONS] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def encode(vector: list[float], fmt: str) -> list[float] | str:
    """``float``: a JSON list; ``base64``: little-endian float32 bytes (what the openai client asks for)."""
    if fmt == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector


@dataclass
class EmbeddingsServer:
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    authorization: list[str] = field(default_factory=list)


@contextmanager
def embeddings_server() -> Iterator[EmbeddingsServer]:
    """Serve ``POST /v1/embeddings`` on 127.0.0.1 (a free port) for the duration of the block."""
    state = EmbeddingsServer()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            payload = json.loads(self.rfile.read(length) or b"{}")
            state.received.append(payload)
            state.authorization.append(self.headers.get("authorization", ""))
            if self.path != "/v1/embeddings":
                self.send_response(404)
                self.end_headers()
                return
            fmt = payload.get("encoding_format", "float")
            inputs = payload["input"] if isinstance(payload["input"], list) else [payload["input"]]
            body = {
                "object": "list",
                "model": payload["model"],
                "data": [
                    {"object": "embedding", "index": i, "embedding": encode(bag_of_words(text), fmt)}
                    for i, text in enumerate(inputs)
                ],
                "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)},
            }
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with serving(Handler) as base:
        state.url = f"{base}/v1"
        yield state
