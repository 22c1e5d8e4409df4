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

An English question over Chinese text gets a third channel: BM25 over its dictionary
translation (:mod:`rag.crosslingual`), max-normalised like BM25, with weight
``translation_alpha`` x the share of its words that translated into the index; the dense
weight is what is left. Measured on XQuAD (240 contexts, 1190 questions), R@1/R@5 en->zh:
dense 0.713/0.930 -> hybrid with translation 0.810/0.961 (translation_alpha 0.2-0.4 within
0.01; 0.55 drops to 0.818 with sentence evidence on, so 0.35). zh->zh and en->en unchanged:
a Chinese question is never translated, and an English question over English text finds no
Chinese translation in the index (weight 0).

``sentence_weight`` mixes each unit's best-sentence cosine into its dense score (see
``Retriever._with_sentences``): dense en->zh 0.713 -> 0.802 R@1, zh->zh 0.907 -> 0.932,
en->en 0.949 -> 0.957 at 0.5 (0.3 and 0.7 within 0.01 of it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["FusionParams", "fuse_scores", "lexical_weight", "translation_weight"]


@dataclass(frozen=True, slots=True)
class FusionParams:
    """``alpha``: lexical weight at full confidence; ``min_coverage``: below it, lexical is ignored."""

    alpha: float = 0.5
    min_coverage: float = 0.35
    translation_alpha: float = 0.35
    max_translations: int = 4
    sentence_weight: float = 0.5
    answer_type_bonus: float = 0.06  # added to a candidate whose best sentence has the number a question asks for

    def as_dict(self) -> dict[str, float]:
        return {
            "answer_type_bonus": self.answer_type_bonus,
            "alpha": self.alpha,
            "min_coverage": self.min_coverage,
            "translation_alpha": self.translation_alpha,
            "max_translations": self.max_translations,
            "sentence_weight": self.sentence_weight,
        }


def lexical_weight(coverage: float, params: FusionParams) -> float:
    """Weight of the lexical score for a query whose token coverage is ``coverage`` (0..1)."""
    if coverage < params.min_coverage:
        return 0.0
    return params.alpha * coverage


def translation_weight(share: float, params: FusionParams) -> float:
    """Weight of the translated-query (cross-lingual BM25) score: ``translation_alpha`` times the
    share of the question's concepts that found a translation in the index."""
    return params.translation_alpha * share


def fuse_scores(
    dense: Mapping[str, float],
    lexical: Mapping[str, float],
    weight: float,
    translated: Mapping[str, float] | None = None,
    translated_weight: float = 0.0,
) -> dict[str, float]:
    """``(1 - w - wt) · minmax(dense) + w · lexical / max(lexical) + wt · translated / max(translated)``
    over the union of candidates.

    A candidate missing from one list scores 0 there (below every retrieved score after
    normalisation). BM25 scores are divided by their maximum rather than min-max normalised:
    a BM25 score of 0 means "no shared term", a natural zero. ``translated`` is the BM25 score
    of the dictionary-translated question (:mod:`rag.translated_scoring`), the same kind of evidence
    as ``lexical`` for a question in the other language.
    """
    translated = translated or {}
    if not translated:
        translated_weight = 0.0
    dense_weight = max(0.0, 1.0 - weight - translated_weight)
    # One pass per channel, adding into one dict (a candidate's terms in the same order as the
    # formula; a missing term's 0.0 adds nothing): the same floats as summing the three normalised
    # maps over their union, at a third of the Python work (bench/scale.py's hybrid path).
    fused: dict[str, float] = {}
    if dense:
        low, high = min(dense.values()), max(dense.values())
        if high <= low:
            fused = dict.fromkeys(dense, dense_weight * 1.0)
        else:
            span = high - low
            fused = {key: dense_weight * ((value - low) / span) for key, value in dense.items()}
    for scores, channel_weight in ((lexical, weight), (translated, translated_weight)):
        top = max(scores.values(), default=0.0)
        if top > 0:  # max-normalised; a channel without a positive score adds no candidate
            get = fused.get
            for key, value in scores.items():
                fused[key] = get(key, 0.0) + channel_weight * (value / top)
    return fused
