"""Common-term pruning of lexical search on large indexes (rag.lexical.LexicalIndex.pruned_ids)."""

from __future__ import annotations

import numpy as np
import pytest

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


def _zipf_index() -> tuple[LexicalIndex, list[str]]:
    """3,000 texts over a Zipf vocabulary: a few terms in most rows, many in few."""
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(600)]
    p = 1 / np.arange(1, 601)
    p /= p.sum()
    texts = [" ".join(rng.choice(words, 20, p=p)) for _ in range(3000)]
    queries = [" ".join(rng.choice(words, 4, p=p)) for _ in range(60)]
    index = LexicalIndex.build(texts)
    index.PRUNE_MIN_DOCS = 100  # take the large-index path
    index.COMMON_SHARE = 1.0  # no term left out: compare with the exhaustive search
    return index, queries


def test_candidate_search_equals_the_dense_array_when_no_list_is_truncated() -> None:
    index, queries = _zipf_index()
    index.HEAD = 10_000  # longer than every posting list
    for query in queries:
        rows, scores = index.search(query, 50)
        exact_rows, exact_scores = index.search(query, 50, exhaustive=True)
        assert np.array_equal(rows, exact_rows) and np.array_equal(scores, exact_scores)  # same float32 sums, same ties


@pytest.mark.parametrize("score_long_lists", [True, False])
def test_truncated_lists_stay_close_and_are_exact_when_safe(tmp_path, score_long_lists: bool) -> None:
    index, queries = _zipf_index()
    index.HEAD = 200  # the common terms' lists are truncated to their 200 heaviest rows
    index.SCORE_LONG_LISTS = score_long_lists
    assert len(index.impact_heads()[0]) > 0
    safe, found = 0, []
    for query in queries:
        rows, scores = index.search(query, 20)
        exhaustive = index.scores(query, exhaustive=True)
        exact_rows, _ = index.search(query, 20, exhaustive=True)
        found.append(len(set(rows.tolist()) & set(exact_rows.tolist())) / max(1, len(exact_rows)))
        if not score_long_lists:
            assert np.all(scores <= exhaustive[rows] * (1 + 1e-6))  # a head-only score never overshoots
            continue
        assert np.allclose(scores, exhaustive[rows], rtol=1e-6)  # every returned row has its exact score
        if len(scores) and scores[-1] > index.safe_bound(index._query_ids(query)):
            safe += 1
            assert np.array_equal(rows, exact_rows)
    assert np.mean(found) >= (0.8 if score_long_lists else 0.5)  # a corpus of common words and 200-row heads: the hard case
    assert safe > 0 or not score_long_lists
    # the heads are saved with a large index and read back memory-mapped
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert loaded._heads is not None and loaded.HEAD == 200  # the saved width
    loaded.PRUNE_MIN_DOCS, loaded.COMMON_SHARE, loaded.SCORE_LONG_LISTS = 100, 1.0, score_long_lists
    for query in queries[:10]:
        assert np.array_equal(loaded.search(query, 20)[0], index.search(query, 20)[0])
