"""Sentiment of a text, offline: VADER with the lexicon shipped in the ``vaderSentiment`` package.

VADER is rule-based (lexicon, negation, intensifiers, punctuation, capitals), deterministic
and fast; it is tuned for English. ``compound`` is its normalised score in [-1, 1]; the
label uses VADER's own thresholds (±0.05).

Its lexicon is English, and other languages are full of its words with another meaning:
the German article "die" scored as a threat, so every German letter looked angry (issue 15).
So the language of the text and of each sentence is told first (``py3langid``: a naive
Bayes model shipped in its wheel, ~0.1 ms a sentence), and only the English sentences are
scored (see ``FOREIGN_SENTENCE`` for those too short to tell). A text with no such sentence is ``neutral`` with ``scored`` false: no
sentiment signal, rather than a wrong one. ``language`` is the whole text's language and
``unscored`` counts the sentences left out, so a policy can route such letters to a person.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, Field

from casepilot.tools._model import Tool

__all__ = ["SentimentArgs", "SentimentResult", "sentiment_tool"]

POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05


LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt", "pl", "sv", "da", "no", "fi", "cs", "tr", "ru", "el", "hu", "ro")
"""The languages told apart: English and those of the letters an European insurer gets. Fewer
candidates make the model surer on short texts ("Die Reparatur kostet 800 EUR." is German)."""

FOREIGN_TEXT = 0.5
"""A text is in another language when the model gives that language at least this."""

FOREIGN_SENTENCE = 0.9
"""A sentence of a text is left out when the model is at least this sure it is not English;
one it is unsure of counts as English unless the whole text is in another language (VADER is
right on "Bad service.", which the model cannot place)."""

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n+|$)")


class SentimentArgs(BaseModel):
    text: str = Field(min_length=1, max_length=200_000,
                      description="Text to score (English; sentences in other languages are left out)")


class SentimentResult(BaseModel):
    compound: float = Field(
        ge=-1, le=1, description="Overall sentiment, -1 (most negative) to 1 (most positive)"
    )
    label: Literal["positive", "neutral", "negative"]
    positive: float = Field(ge=0, le=1)
    neutral: float = Field(ge=0, le=1)
    negative: float = Field(ge=0, le=1)
    language: str = Field(default="en", description="the text's language (ISO 639-1), as far as it can be told")
    scored: bool = Field(default=True, description="false when no sentence was English: no sentiment was measured")
    unscored: int = Field(default=0, ge=0, description="sentences left out because they are not English")


@cache
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # type: ignore[import-untyped]

    return SentimentIntensityAnalyzer()


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def _language(text: str) -> tuple[str, float]:
    language, probability = _identifier().classify(text)
    return str(language), float(probability)


def _english(sentence: str, *, in_foreign_text: bool) -> bool:
    """English, or too short to tell in a text that is not in another language."""
    language, probability = _language(sentence)
    return language == "en" or (probability < FOREIGN_SENTENCE and not in_foreign_text)


def score(text: str) -> SentimentResult:
    """VADER scores of the English sentences of ``text`` as a ``SentimentResult``."""
    language, probability = _language(text)
    foreign = language != "en" and probability >= FOREIGN_TEXT
    sentences = [m.group().strip() for m in _SENTENCE.finditer(text) if m.group().strip()]
    english = [sentence for sentence in sentences if _english(sentence, in_foreign_text=foreign)]
    unscored = len(sentences) - len(english)
    if not foreign and not unscored:
        language = "en"  # every sentence was scored as English (a short text the model could not place)
    if not english:
        return SentimentResult(compound=0.0, label="neutral", positive=0.0, neutral=1.0, negative=0.0,
                               language=language, scored=False, unscored=unscored)
    raw = _analyzer().polarity_scores(" ".join(english))
    compound = float(raw["compound"])
    label: Literal["positive", "neutral", "negative"] = (
        "positive" if compound >= POSITIVE_AT else "negative" if compound <= NEGATIVE_AT else "neutral"
    )
    return SentimentResult(compound=compound, label=label, positive=raw["pos"], neutral=raw["neu"],
                           negative=raw["neg"], language=language, unscored=unscored)


def sentiment_tool(*, name: str = "sentiment", timeout: float = 10.0) -> Tool[SentimentArgs, SentimentResult]:
    """The sentiment tool (read-only, offline)."""
    return Tool(
        name=name,
        description="Score the sentiment of an English text: compound in [-1, 1] and a positive/neutral/negative "
                    "label. Sentences in other languages are left out (the lexicon is English); a text with "
                    "none in English is neutral with scored=false.",
        args_model=SentimentArgs,
        result_model=SentimentResult,
        side_effect="read_only",
        timeout=timeout,
        func=lambda args: score(args.text),
        tags=("builtin", "nlp"),
    )
