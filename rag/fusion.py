"""Fusing dense and lexical evidence so that hybrid is never worse than its better half.

Plain reciprocal-rank fusion (Cormack, Clarke & Büttcher 2009) gives both rankings equal say.
That is right when both are good (Chinese question, Chinese text) and ruinous when one is
noise: an English question over Chinese text shares almost no tokens with it, its BM25
ranking is near random, and RRF drags dense R@1 on XQuAD from 0.72 down to 0.22.

We use a convex combination of normalised scores (Bruch, Gai & Ingber 2023, "An Analysis of
Fusion Functions for Hybrid Retrieval", ACM TOIS 42(1)), whose lexical weight is scaled by the
*lexical confidence* of the query: the share of its analysed tokens that occur in the corpus
at all. A cross-lingual question keeps only the weight its shared symbols and numbers earn
("67/211", "2020", "Garrity"); a same-language question gets the full weight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["FusionParams", "fuse_scores", "lexical_weight"]


@dataclass(frozen=True, slots=True)
class FusionParams:
    """``alpha``: lexical weight at full confidence; ``min_coverage``: below it, lexical is ignored."""

    alpha: float = 0.5
    min_coverage: float = 0.35

    def as_dict(self) -> dict[str, float]:
        return {"alpha": self.alpha, "min_coverage": self.min_coverage}


def lexical_weight(coverage: float, params: FusionParams) -> float:
    """Weight of the lexical score for a query whose token coverage is ``coverage`` (0..1)."""
    if coverage < params.min_coverage:
        return 0.0
    return params.alpha * coverage


def _min_max(scores: Mapping[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high <= low:
        return {key: 1.0 for key in scores}
    return {key: (value - low) / (high - low) for key, value in scores.items()}


def fuse_scores(dense: Mapping[str, float], lexical: Mapping[str, float], weight: float) -> dict[str, float]:
    """``(1 - weight) · minmax(dense) + weight · lexical / max(lexical)`` over the union of candidates.

    A candidate missing from one list scores 0 there (below every retrieved score after
    normalisation). BM25 scores are divided by their maximum rather than min-max normalised:
    a BM25 score of 0 means "no shared term", a natural zero.
    """
    dense_norm = _min_max(dense)
    top_lexical = max(lexical.values(), default=0.0)
    lexical_norm = {key: value / top_lexical for key, value in lexical.items()} if top_lexical > 0 else {}
    keys = dense_norm.keys() | lexical_norm.keys()
    return {key: (1 - weight) * dense_norm.get(key, 0.0) + weight * lexical_norm.get(key, 0.0) for key in keys}
