"""BM25 over the chunks of one collection (``bm25s``, English stop words, Snowball stemming).

Dense embeddings miss rare exact terms (part numbers, names, jargon); BM25 catches them. The
index is derived data: it is built from the chunks Chroma holds — so it always agrees with
the dense side, after ingestion, deletion, or reopening a persistent store in a new process —
and rebuilt when the store's revision of the collection changes. Building it for a few
thousand chunks takes well under a second, which is cheaper than keeping a second copy of
the collection on disk in sync.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import Stemmer

with warnings.catch_warnings():
    # bm25s imports tqdm.auto, which warns in a notebook without ipywidgets; we show no progress bars.
    warnings.filterwarnings("ignore", message="IProgress not found")
    import bm25s

__all__ = ["LexicalHit", "LexicalIndex", "tokenize"]

logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import and logs every index build


@cache
def _stemmer() -> Any:
    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased word tokens without English stop words, stemmed."""
    tokens: list[list[str]] = bm25s.tokenize(
        texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )
    return tokens


@dataclass(frozen=True, slots=True)
class LexicalHit:
    position: int
    """Index into the chunk lists the index was built from."""
    score: float


class LexicalIndex:
    """A BM25 index over a fixed list of chunk texts."""

    def __init__(self, texts: list[str]) -> None:
        self.size = len(texts)
        self._bm25 = bm25s.BM25()
        if texts:
            self._bm25.index(tokenize(texts), show_progress=False)

    def search(self, query: str, n: int) -> list[LexicalHit]:
        """The ``n`` best chunks with a positive score, best first."""
        if self.size == 0 or n <= 0:
            return []
        tokens = [t for t in tokenize([query])[0] if t in self._bm25.vocab_dict]
        if not tokens:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float64)
        n = min(n, self.size)
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [LexicalHit(int(i), float(scores[i])) for i in top if scores[i] > 0]
