"""bench/scale.py's lexical and hybrid search figures: BM25 candidates, and the product's fused path.

Why its own module: bench/scale.py builds every structure of a synthetic library and writes the
tables; the two search measurements are the bulk of its code and the part bench/hybrid_steps.py
re-times step by step, so they live here beside it (bench/ is on the path when a bench script
runs, as for bench/scale_synthesis.py). What they measure is described in bench/scale.py.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
from scale_synthesis import SENTENCES_PER_UNIT, Real, exact_topk, perturbed

__all__ = ["DEPTH", "hybrid_figures", "lexical_figures", "pct", "timed"]

DEPTH = 200  # candidates per channel (rag.retriever.MIN_CANDIDATES)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 3)


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def lexical_figures(real: Real, n: int, work: Path, rng: np.random.Generator, state: dict) -> dict:
    import bm25s

    from rag.lexical import LexicalIndex

    vocab = dict(real.vocab)
    new_terms = iter(range(len(vocab), len(vocab) + n))
    corpus: list[list[int]] = []
    replace_pool = rng.choice(len(real.term_p), size=n * 8, p=real.term_p)
    pool_at = 0
    for source in state["sources"]:
        ids = real.token_ids[source]
        ids = ids[rng.random(len(ids)) >= 0.1].copy()  # drop 10%
        swap = np.flatnonzero(rng.random(len(ids)) < 0.1)  # replace 10% by corpus draws
        take = replace_pool[pool_at : pool_at + len(swap)]
        if len(take) == len(swap):
            ids[swap] = take
            pool_at += len(swap)
        doc = ids.tolist()
        if rng.random() < 0.25:
            doc.append(next(new_terms))
        corpus.append(doc)
    top = max(max(d) for d in corpus if d)
    for term in range(len(vocab), top + 1):
        vocab[f"sym{term}"] = term
    t0 = time.perf_counter()
    bm25 = bm25s.BM25(k1=LexicalIndex.K1, b=LexicalIndex.B, method=LexicalIndex.METHOD)
    bm25.index((corpus, vocab), show_progress=False)
    build_s = time.perf_counter() - t0
    postings = int(bm25.scores["data"].size)
    del corpus
    folder = work / "lexical"
    LexicalIndex(bm25, n).save(folder)
    del bm25
    gc.collect()
    disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    tracemalloc.start()
    loaded = LexicalIndex.load(folder)
    resident = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    questions = real.question_texts or [real.questions[i] for i in rng.integers(0, len(real.questions), 100)]
    for q in questions[:10]:
        loaded.search(q, DEPTH)
    # the product's search (candidate rows only, from PRUNE_MIN_DOCS rows) and the dense score array
    # over the same pruned terms, interleaved, at the retriever's depth
    # and the same reading the long lists in full (SCORE_LONG_LISTS: exact candidate scores)
    fast, full, longs, found, found_long, exact_share = [], [], [], [], [], 0
    product_mode = loaded.SCORE_LONG_LISTS
    for q in questions:
        ids = loaded.pruned_ids(loaded._query_ids(q))
        loaded.SCORE_LONG_LISTS = False
        fast += timed(lambda q=q: loaded.search(q, DEPTH), 1)
        rows = loaded.search(q, DEPTH)[0]
        full += timed(lambda ids=ids: _dense_array_top(loaded, ids, DEPTH), 1)
        loaded.SCORE_LONG_LISTS = True
        longs += timed(lambda q=q: loaded.search(q, DEPTH), 1)
        long_rows, long_scores = loaded.search(q, DEPTH)
        truth = _dense_array_top(loaded, ids, DEPTH)[0]
        found.append(len(set(rows.tolist()) & set(truth.tolist())) / max(1, len(truth)))
        found_long.append(len(set(long_rows.tolist()) & set(truth.tolist())) / max(1, len(truth)))
        exact_share += int(len(long_scores) == 0 or long_scores[-1] > loaded.safe_bound(ids))
    loaded.SCORE_LONG_LISTS = product_mode
    state["lexical"] = loaded
    return {"build_s": round(build_s, 1), "postings_per_unit": round(postings / n, 1), "vocabulary": len(vocab),
            "resident_bytes_per_unit": round(resident / n), "disk_bytes_per_unit": round(disk / n),
            "search_p50_ms": pct(fast, 0.5), "search_p95_ms": pct(fast, 0.95), "head": loaded.HEAD,
            "score_array_p50_ms": pct(full, 0.5), "score_array_p95_ms": pct(full, 0.95),
            "recall_at_200_vs_score_array": round(float(np.mean(found)), 4),
            "long_lists_p50_ms": pct(longs, 0.5), "long_lists_p95_ms": pct(longs, 0.95),
            "long_lists_recall_at_200": round(float(np.mean(found_long)), 4), "provably_exact_share": round(exact_share / len(questions), 3)}


def _dense_array_top(lexical: object, ids: list[int], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The top ``k`` from a score array of every row (rag.lexical before candidate search): the reference."""
    s = lexical.scores_of_ids(ids)  # type: ignore[attr-defined]
    cand = np.flatnonzero(s > 0)
    if cand.size > k:
        cand = cand[s[cand] >= np.partition(s[cand], cand.size - k)[cand.size - k]]
    order = np.lexsort((cand, -s[cand]))[:k]
    return cand[order], s[cand[order]]


def hybrid_figures(real: Real, n: int, args: argparse.Namespace, rng: np.random.Generator, state: dict) -> dict:
    """The product's hybrid path (without the encoder) against the same fusion over exact candidates."""
    from rag.fusion import FusionParams, fuse_scores, lexical_weight

    params = FusionParams()
    index, vectors, lexical, store = state["dense"], state["vectors"], state["lexical"], state["store"]
    sentences = state.get("sentences")
    if real.question_texts is not None:
        texts, queries = real.question_texts, real.questions_vectors
    else:  # no model: passage prefixes with their units' perturbed vectors
        picks = rng.integers(0, n, args.queries)
        texts = [real.units[state["sources"][p]].text[:60] for p in picks]
        queries = perturbed(real, vectors, len(picks), state["noise"], rng, picks=picks)
    exact_rows, exact_scores = exact_topk(vectors, queries, DEPTH)

    def with_sentences(rows: np.ndarray, scores: np.ndarray, query: np.ndarray) -> dict[int, float]:
        pooled = dict(zip(rows.tolist(), scores.tolist(), strict=True))
        if sentences is None or params.sentence_weight <= 0 or not pooled:
            return pooled
        units = np.fromiter(pooled, dtype=np.int64, count=len(pooled))
        best = np.maximum.reduceat(sentences[(units[:, None] * SENTENCES_PER_UNIT + np.arange(SENTENCES_PER_UNIT)).ravel()] @ query,
                                   np.arange(0, len(units) * SENTENCES_PER_UNIT, SENTENCES_PER_UNIT))
        w = params.sentence_weight
        return {u: (1 - w) * pooled[u] + w * b for u, b in zip(pooled, best.tolist(), strict=True)}

    def fused(query_text: str, query: np.ndarray, dense: tuple[np.ndarray, np.ndarray], lex: tuple[np.ndarray, np.ndarray],
              tokens: list[str]) -> list[int]:
        weight = lexical_weight(lexical.coverage(query_text, tokens=tokens), params)
        keep = dense[0] >= 0
        scores = fuse_scores(with_sentences(dense[0][keep], dense[1][keep], query),
                             dict(zip(lex[0].tolist(), lex[1].tolist(), strict=True)) if weight > 0 else {}, weight)
        return [row for row, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:10]]

    def product(i: int) -> list[int]:
        tokens = lexical.analyzer(texts[i])  # analysed once per question, as rag.retriever does
        scores, rows = index.search(queries[i : i + 1], DEPTH)
        top = fused(texts[i], queries[i], (rows[0], scores[0]), lexical.search(texts[i], DEPTH, tokens=tokens), tokens)
        store.unit.cache_clear()
        for row in top:
            store.unit(f"u{row}")
        return top

    faiss.omp_set_num_threads(1)
    for i in range(min(20, len(texts))):
        product(i)
    times: list[list[float]] = [[] for _ in texts]
    recalls = []
    for p in range(3):
        for i in range(len(texts)):
            t0 = time.perf_counter()
            top = product(i)
            times[i].append((time.perf_counter() - t0) * 1000)
            if p == 0:
                tokens = lexical.analyzer(texts[i])
                truth = fused(texts[i], queries[i], (exact_rows[i], exact_scores[i]), lexical.search(texts[i], DEPTH, tokens=tokens, exhaustive=True),
                              tokens)
                recalls.append(len(set(top) & set(truth)) / max(1, len(truth)))
    latencies = [statistics.median(t) for t in times]
    figures = {"queries": len(texts), "real_questions": real.question_texts is not None, "search_p50_ms": pct(latencies, 0.5),
               "search_p95_ms": pct(latencies, 0.95), "recall_at_10": round(float(np.mean(recalls)), 4),
               "common_share": lexical.COMMON_SHARE}
    product_share, by_share = lexical.COMMON_SHARE, {}
    for share in args.common_shares:  # the same, leaving out other shares of common terms (recall and p50 only)
        lexical.COMMON_SHARE = share
        spent, found = [], []
        for i in range(len(texts)):
            t0 = time.perf_counter()
            top = product(i)
            spent.append((time.perf_counter() - t0) * 1000)
            tokens = lexical.analyzer(texts[i])
            truth = fused(texts[i], queries[i], (exact_rows[i], exact_scores[i]), lexical.search(texts[i], DEPTH, tokens=tokens, exhaustive=True),
                          tokens)
            found.append(len(set(top) & set(truth)) / max(1, len(truth)))
        by_share[str(share)] = {"search_p50_ms": pct(spent, 0.5), "recall_at_10": round(float(np.mean(found)), 4)}
    lexical.COMMON_SHARE = product_share
    if by_share:
        figures["by_common_share"] = by_share
    return figures
