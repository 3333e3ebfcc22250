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
from typing import Any

from tests._http import JsonHandler, serving

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

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            payload = self.read_json()
            state.received.append(payload)
            state.authorization.append(self.headers.get("authorization", ""))
            if self.path != "/v1/embeddings":
                self.send_body(404, b"{}")
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
            self.send_body(200, json.dumps(body).encode())

    with serving(Handler) as base:
        state.url = f"{base}/v1"
        yield state
