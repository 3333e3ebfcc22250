"""Extractive summary, offline and deterministic: TextRank over TF-IDF sentence vectors.

Sentences are split by a regular expression (no NLTK data downloads), scored by PageRank
on the cosine-similarity graph of their TF-IDF vectors, and the best ``max_sentences`` are
returned in their original order. Ties go to the earlier sentence, so the same text
always gives the same summary — an auditor can re-run it.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from pydantic import BaseModel, Field

from casepilot.tools._model import Tool

__all__ = ["SummaryArgs", "SummaryResult", "split_sentences", "summarise", "summarise_tool"]

_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "no",
        "nr",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "approx",
        "dept",
        "inc",
        "ltd",
        "co",
        "corp",
        "fig",
        "art",
        "ref",
    ]
)
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9ÀÁÂÄÉÈÊÖÜÓÒÔÚÙÑ])")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "also",
        "may",
        "might",
        "must",
        "shall",
    ]
)
_DAMPING = 0.85
_ITERATIONS = 100
_TOLERANCE = 1e-9


class SummaryArgs(BaseModel):
    text: str = Field(min_length=1, max_length=500_000, description="The text to summarise")
    max_sentences: int = Field(default=3, ge=1, le=50, description="How many sentences to keep")


class SummaryResult(BaseModel):
    summary: str
    sentences: list[str]
    indices: list[int]
    """Positions of the chosen sentences in the original text (0-based), ascending."""
    sentence_count: int


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``: split after . ! ? … before a capital or digit, not after common abbreviations."""
    pieces: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        candidate = text[start : m.start()].strip()
        last = candidate.rsplit(None, 1)[-1].rstrip(".").lower() if candidate else ""
        if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
            continue  # "Dr. Smith", "J. Doe": not a boundary
        pieces.append(candidate)
        start = m.end()
    pieces.append(text[start:].strip())
    return [" ".join(p.split()) for p in pieces if p.strip()]


def _terms(sentence: str) -> list[str]:
    return [w for w in (t.lower() for t in _WORD.findall(sentence)) if w not in _STOPWORDS and len(w) > 1]


def _tfidf(docs: list[list[str]]) -> list[dict[str, float]]:
    df = Counter(t for doc in docs for t in set(doc))
    n = len(docs)
    vectors: list[dict[str, float]] = []
    for doc in docs:
        tf = Counter(doc)
        vec = (
            {t: (c / len(doc)) * (math.log((1 + n) / (1 + df[t])) + 1) for t, c in tf.items()} if doc else {}
        )
        norm = math.sqrt(sum(v * v for v in vec.values()))
        vectors.append({t: v / norm for t, v in vec.items()} if norm else {})
    return vectors


def _textrank(vectors: list[dict[str, float]]) -> list[float]:
    n = len(vectors)
    weights = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            small, big = (
                (vectors[i], vectors[j]) if len(vectors[i]) <= len(vectors[j]) else (vectors[j], vectors[i])
            )
            sim = sum(v * big.get(t, 0.0) for t, v in small.items())
            weights[i][j] = weights[j][i] = sim
    out_sum = [sum(row) for row in weights]
    scores = [1.0 / n] * n
    for _ in range(_ITERATIONS):
        new = [
            (1 - _DAMPING) / n
            + _DAMPING
            * sum(scores[j] * weights[j][i] / out_sum[j] for j in range(n) if out_sum[j] and weights[j][i])
            for i in range(n)
        ]
        done = max(abs(a - b) for a, b in zip(new, scores, strict=True)) < _TOLERANCE
        scores = new
        if done:
            break
    return scores


def summarise(text: str, max_sentences: int = 3) -> SummaryResult:
    """The ``max_sentences`` most central sentences of ``text``, in their original order."""
    sentences = split_sentences(text)
    if len(sentences) <= max_sentences:
        chosen = list(range(len(sentences)))
    else:
        scores = _textrank(_tfidf([_terms(s) for s in sentences]))
        ranked = sorted(range(len(sentences)), key=lambda i: (-round(scores[i], 12), i))
        chosen = sorted(ranked[:max_sentences])
    picked = [sentences[i] for i in chosen]
    return SummaryResult(
        summary=" ".join(picked), sentences=picked, indices=chosen, sentence_count=len(sentences)
    )


def summarise_tool(*, name: str = "summarise", timeout: float = 30.0) -> Tool[SummaryArgs, SummaryResult]:
    """The extractive summarisation tool (read-only, offline, deterministic)."""
    return Tool(
        name=name,
        description="Summarise a text by picking its most central sentences (extractive, keeps the original wording).",
        args_model=SummaryArgs,
        result_model=SummaryResult,
        side_effect="read_only",
        timeout=timeout,
        func=lambda args: summarise(args.text, args.max_sentences),
        tags=("builtin", "nlp"),
    )
