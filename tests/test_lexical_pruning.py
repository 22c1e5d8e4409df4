"""Common-term pruning of lexical search on large indexes (rag.lexical.LexicalIndex.pruned_ids)."""

from __future__ import annotations

import numpy as np

from rag.lexical import LexicalIndex

# 400 texts: "report" in all, "climate" in a quarter, "rare" in one in twenty, a unique symbol in each
TEXTS = [
    " ".join(["report", *(["climate"] if i % 4 == 0 else []), *(["rare"] if i % 20 == 0 else []), f"A/{i}/1"])
    for i in range(400)
]


def _index(prune_from: int) -> LexicalIndex:
    index = LexicalIndex.build(TEXTS)
    index.PRUNE_MIN_DOCS = prune_from  # an instance setting: the class default keeps small indexes exhaustive
    return index


def test_small_indexes_are_never_pruned() -> None:
    index = LexicalIndex.build(TEXTS)
    assert len(index) < LexicalIndex.PRUNE_MIN_DOCS
    for query in ("report climate", "climate rare", "report"):
        rows, scores = index.search(query, 50)
        exact = index.search(query, 50, exhaustive=True)
        assert np.array_equal(rows, exact[0]) and np.array_equal(scores, exact[1])


def test_common_terms_are_left_out_on_large_indexes_but_never_all() -> None:
    index = _index(prune_from=100)
    ids = index._query_ids("report climate rare")
    kept = index.pruned_ids(ids)
    # "report" (every row) and "climate" (a quarter) exceed 20 %; the rare word stays
    assert kept == index._query_ids("rare")
    rows, _ = index.search("report climate rare", 50)
    assert sorted(rows.tolist()) == list(range(0, 400, 20))
    # only common terms: the rarest is kept, so the query still finds its documents
    assert index.pruned_ids(index._query_ids("report climate")) == index._query_ids("climate")
    assert len(index.search("report climate", 500)[0]) == 100
    # exhaustive search still scores every term
    assert len(index.search("report climate", 500, exhaustive=True)[0]) == 400
    # filtered scoring (index.backends.local) prunes the same way
    assert np.count_nonzero(index.scores("report climate")) == 100
