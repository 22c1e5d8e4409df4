"""Scoring a dictionary-translated English question against the lexical (BM25) index.

:func:`translated_scores` treats the translations of one English word (a
:class:`rag.crosslingual.Concept`) as one query concept, the structured-query idea of Pirkola (1998, "The effects of query structure
and dictionary setups in dictionary-based cross-language information retrieval", SIGIR):
a chunk gets, per concept, the best BM25 score over that concept's translations (weighted by
the translation weight), and the concepts are summed. Without the structure a word with
six translations would count six times and swamp the rarer, more specific words. BM25's IDF
already makes generic translations (年, 国家) count for little. Only translations whose
tokens all occur in the index are used, at most ``max_translations`` per concept.

The question's concepts come from :meth:`rag.crosslingual.BilingualLexicon.translate`. The
retriever fuses this score as a third channel whose weight grows with the share of the
question's content words that found a translation in the index (see :mod:`rag.fusion`).

Measurements (XQuAD, 240 Chinese contexts, 1190 English questions; R@1 of the hybrid without
sentence evidence, 0.810-0.813 with everything on): summing a concept's translations instead of
taking the max 0.806; ``max_translations`` 2/4/8: 0.801/0.813/0.813 at weight 0.3.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np

from rag.crosslingual import Concept

__all__ = ["translated_scores"]


class _Scorer(Protocol):
    def known_term_ids(self, term: str) -> Sequence[int] | None: ...

    def scores_of_ids(self, ids: Sequence[int]) -> np.ndarray: ...


def translated_scores(
    lexical: _Scorer,
    concepts: Iterable[Concept],
    *,
    max_translations: int = 4,
    pooling: str = "max",
) -> tuple[np.ndarray | None, float]:
    """Structured BM25 score of each indexed chunk for a translated question, and the share of
    the question's concepts that found a translation in the index (its lexical confidence).

    Per concept: ``max_t w_t · BM25(t, chunk)`` over its best ``max_translations`` in-index
    translations (Pirkola 1998's one-concept-one-term structure; ``pooling="sum"`` adds them
    instead, the unstructured baseline). Concepts are summed. ``(None, 0.0)`` when nothing
    translated into the index.
    """
    total: np.ndarray | None = None
    concepts = list(concepts)
    counted = found = 0
    for concept in concepts:
        counted += 1
        kept = 0
        best: np.ndarray | None = None
        for target, weight in concept.translations:
            if kept >= max_translations:
                break
            ids = lexical.known_term_ids(target)  # None unless every token of it is in the index
            if ids is None:
                continue
            kept += 1
            s = lexical.scores_of_ids(ids) * np.float32(weight)
            if best is None:
                best = s
            elif pooling == "max":
                best = np.maximum(best, s)
            else:
                best = best + s
        if best is None:
            continue
        found += 1
        total = best if total is None else total + best
    share = found / counted if counted else 0.0
    return total, share
