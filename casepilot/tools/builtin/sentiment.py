"""Sentiment of a text, offline: VADER with the lexicon shipped in the ``vaderSentiment`` package.

VADER is rule-based (lexicon, negation, intensifiers, punctuation, capitals), deterministic
and fast; it is tuned for English. ``compound`` is its normalised score in [-1, 1]; the
label uses VADER's own thresholds (±0.05).
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, Field

from casepilot.tools._model import Tool

__all__ = ["SentimentArgs", "SentimentResult", "sentiment_tool"]

POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05


class SentimentArgs(BaseModel):
    text: str = Field(min_length=1, max_length=200_000, description="English text to score")


class SentimentResult(BaseModel):
    compound: float = Field(
        ge=-1, le=1, description="Overall sentiment, -1 (most negative) to 1 (most positive)"
    )
    label: Literal["positive", "neutral", "negative"]
    positive: float = Field(ge=0, le=1)
    neutral: float = Field(ge=0, le=1)
    negative: float = Field(ge=0, le=1)


@cache
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # type: ignore[import-untyped]

    return SentimentIntensityAnalyzer()


def score(text: str) -> SentimentResult:
    """VADER scores of ``text`` as a ``SentimentResult``."""
    raw = _analyzer().polarity_scores(text)
    compound = float(raw["compound"])
    label: Literal["positive", "neutral", "negative"] = (
        "positive" if compound >= POSITIVE_AT else "negative" if compound <= NEGATIVE_AT else "neutral"
    )
    return SentimentResult(
        compound=compound, label=label, positive=raw["pos"], neutral=raw["neu"], negative=raw["neg"]
    )


def sentiment_tool(*, name: str = "sentiment", timeout: float = 10.0) -> Tool[SentimentArgs, SentimentResult]:
    """The sentiment tool (read-only, offline)."""
    return Tool(
        name=name,
        description="Score the sentiment of an English text: compound in [-1, 1] and a positive/neutral/negative label.",
        args_model=SentimentArgs,
        result_model=SentimentResult,
        side_effect="read_only",
        timeout=timeout,
        func=lambda args: score(args.text),
        tags=("builtin", "nlp"),
    )
