"""The optional parts of casepilot and the one line a user gets when one is not installed.

``pip install casepilot`` is the core: CMMN, DMN/FEEL, governance (PII included), the agent
loop on SQLite, the CLI, the HTTP service and the demo. Four extras add the heavy parts::

    ocr        the built-in ``ocr`` tool (RapidOCR on ONNX Runtime, OpenCV, Pillow)
    rag        retrieval: ``casepilot rag``, ``serve --documents``, ``casepilot.rag`` (Chroma, WordLlama, BM25)
    postgres   the PostgreSQL store, its LangGraph checkpointer and ``casepilot worker`` (psycopg, pgqueuer, asyncpg)
    otel       OpenTelemetry spans (without it tracing does nothing; see ``casepilot.agent.tracing``)

Code that needs an extra calls ``require`` before importing it, so a missing extra is a
``MissingExtra`` — a ``CasepilotError`` the CLI prints as one line, and an ``ImportError`` for
callers that probe with ``try: import …`` — instead of a traceback naming a module the user
never asked for. ``find_spec`` only looks the module up; nothing is imported here.
"""

from __future__ import annotations

import importlib.util

from casepilot.errors import CasepilotError

__all__ = ["EXTRAS", "MissingExtra", "require"]

EXTRAS: dict[str, tuple[str, ...]] = {
    "ocr": ("rapidocr_onnxruntime", "PIL"),
    "rag": ("chromadb", "wordllama", "bm25s", "Stemmer"),
    "postgres": ("psycopg", "pgqueuer", "asyncpg", "langgraph.checkpoint.postgres"),
    "otel": ("opentelemetry.sdk",),
}
"""Each extra and the top-level modules that tell whether it is installed."""


class MissingExtra(CasepilotError, ImportError):
    """A feature was used whose optional dependencies are not installed."""

    def __init__(self, feature: str, extra: str, missing: str) -> None:
        self.feature, self.extra, self.missing = feature, extra, missing
        super().__init__(f"{feature} needs the {extra} extra: pip install 'casepilot[{extra}]'")


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package is missing, or a broken install
        return False


def require(extra: str, feature: str) -> None:
    """Raise ``MissingExtra`` unless every module of ``extra`` can be imported."""
    for module in EXTRAS[extra]:
        if not _installed(module):
            raise MissingExtra(feature, extra, module)
