"""Built-in tools that work offline with models shipped inside their packages.

``builtin_tools(...)`` returns the set for a registry; each factory can also be used alone::

    registry = ToolRegistry(builtin_tools(decision_models={"guardrails": "guardrails.dmn"}))
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casepilot.tools._model import Tool

from .decide import DecideArgs, DecideResult, decide_tool, feel_to_json
from .ocr import OcrArgs, OcrLine, OcrResult, ocr_tool
from .retrieve import Passage, RetrieveArgs, Retriever, RetrieveResult, retrieve_tool
from .sentiment import SentimentArgs, SentimentResult, sentiment_tool
from .summarise import SummaryArgs, SummaryResult, split_sentences, summarise, summarise_tool

if TYPE_CHECKING:
    from casepilot.dmn import DecisionModel

__all__ = [
    "DecideArgs",
    "DecideResult",
    "OcrArgs",
    "OcrLine",
    "OcrResult",
    "Passage",
    "RetrieveArgs",
    "RetrieveResult",
    "Retriever",
    "SentimentArgs",
    "SentimentResult",
    "SummaryArgs",
    "SummaryResult",
    "builtin_tools",
    "decide_tool",
    "feel_to_json",
    "ocr_tool",
    "retrieve_tool",
    "sentiment_tool",
    "split_sentences",
    "summarise",
    "summarise_tool",
]


def builtin_tools(
    *,
    document_dir: str | Path | None = None,
    decision_models: DecisionModel | str | Path | Mapping[str, DecisionModel | str | Path] | None = None,
    retriever: Retriever | None = None,
) -> list[Tool[Any, Any]]:
    """``ocr``, ``sentiment``, ``summarise``; ``decide`` with decision models; ``retrieve`` with a retriever."""
    tools: list[Tool[Any, Any]] = [ocr_tool(base_dir=document_dir), sentiment_tool(), summarise_tool()]
    if decision_models is not None:
        tools.append(decide_tool(decision_models))
    if retriever is not None:
        tools.append(retrieve_tool(retriever))
    return tools
