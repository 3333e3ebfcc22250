"""Ranking metrics over judged queries: nDCG@k, average precision@k, recall@k.

Small and dependency-free so that the tests and the bench compute exactly the same numbers
for casepilot and for its peers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["average_precision", "ndcg", "recall"]


def ndcg(ranked: Sequence[str], gains: Mapping[str, float], k: int = 10) -> float:
    """Normalised discounted cumulative gain of the first ``k`` ranked ids (graded ``gains``)."""
    dcg = sum(gains.get(doc, 0.0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in gains.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def average_precision(ranked: Sequence[str], relevant: set[str], k: int = 100) -> float:
    """Average precision at ``k`` (divided by ``min(len(relevant), k)``)."""
    if not relevant:
        return 0.0
    found = 0
    total = 0.0
    for i, doc in enumerate(ranked[:k], start=1):
        if doc in relevant:
            found += 1
            total += found / i
    return total / min(len(relevant), k)


def recall(ranked: Sequence[str], relevant: set[str], k: int = 100) -> float:
    """Share of the relevant ids found in the first ``k``."""
    if not relevant:
        return 0.0
    return len(relevant & set(ranked[:k])) / len(relevant)
