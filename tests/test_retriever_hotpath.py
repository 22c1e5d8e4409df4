"""Hot-path rewrites of the retriever give the same scores as the straightforward code."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.slow
def test_sentence_scores_match_the_per_unit_loop(retriever):
    index = retriever.index
    rng = np.random.default_rng(0)
    units = sorted(index.units)
    for _ in range(10):
        query = rng.normal(size=index.sentence_vectors.shape[1]).astype(np.float32)
        query /= np.linalg.norm(query)
        pooled = {u: float(rng.random()) for u in rng.choice(units, min(60, len(units)), replace=False)}
        fast = retriever._with_sentences(pooled, query, 0.4)
        slow = {}
        for unit_id, score in pooled.items():
            rows = index.sentence_rows.get(unit_id)
            if not rows:
                slow[unit_id] = score
            else:
                slow[unit_id] = 0.6 * score + 0.4 * float(np.max(index.sentence_vectors[rows.start : rows.stop] @ query))
        assert list(fast) == list(slow)
        assert max(abs(fast[u] - slow[u]) for u in slow) < 1e-6


@pytest.mark.slow
def test_known_term_memo_agrees_with_coverage(retriever):
    for term in ("气候变化", "缔约方", "不存在的词语组合xyz"):
        expected = retriever.index.lexical.coverage(term) >= 1.0
        assert retriever._known_term(term) is expected
        assert retriever._known_term(term) is expected  # second answer from the memo
    assert "气候变化" in retriever._known_terms
