"""Where bench/scale.py's hybrid search time goes: each step of its ``product`` path timed apart.

One command (10^5: about a minute and a half of set-up; 10^6: several minutes)::

    PYTHONPATH=. python bench/hybrid_steps.py --size 100000

Builds the same synthetic library as bench/scale.py (its dense, sentence, lexical and store parts,
whose own figures it does not print), then runs the hybrid path of ``hybrid_figures`` on the real
questions, one at a time on one thread, 3 passes, and prints p50 and mean per step: analysing the
question, dense candidates, lexical candidates, coverage, best sentence of every dense candidate,
the lexical dict, fusion, the sort of the fused candidates and fetching the 10 hits. The steps add
up to the total (timing each costs about a microsecond); prints only, writes nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import scale  # bench/ is on the path when a bench script runs
import scale_search
import scale_synthesis as synthesis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--max-paragraphs", type=int, default=None, help="only the first N real paragraphs (a quick smoke)")
    parser.add_argument("--questions", type=int, default=300)
    cli = parser.parse_args()
    from rag.config import Settings
    from rag.fusion import FusionParams, fuse_scores, lexical_weight

    args = argparse.Namespace(queries=300, questions=cli.questions, noise=None, exact_max=scale.DEFAULT_EXACT_MAX, datasets=list(synthesis.DATASETS),
                              max_paragraphs=cli.max_paragraphs, recall_target=scale.RECALL_TARGET, hnsw_min=scale.HNSW_MIN, common_shares=[])
    embedder = synthesis.load_embedder()
    real = synthesis.Real(Settings().home, embedder, tuple(args.datasets), cli.max_paragraphs)
    asked = synthesis.question_vectors(cli.questions, embedder)
    if asked is None:
        raise SystemExit("no converted model: the steps are timed on real questions (rag models)")
    texts, queries = asked
    real.question_texts, real.questions_vectors = asked  # as bench/scale.py's main sets them
    del embedder
    n, rng = cli.size, np.random.default_rng(cli.size)
    work = Path(tempfile.mkdtemp(prefix=f"hybrid-steps-{n}-"))
    state: dict = {"sources": rng.integers(0, len(real.units), n)}
    state["noise"], state["real_nn"] = synthesis.calibrate_noise(real, n, rng)
    for part in ("dense", "sentences", "lexical", "store"):
        scale.measure(part, real, n, args, work, rng, state)
    params, spu, depth = FusionParams(), synthesis.SENTENCES_PER_UNIT, scale_search.DEPTH
    index, lexical, store, sentences = state["dense"], state["lexical"], state["store"], state["sentences"]
    steps: dict[str, list[float]] = {}

    def timed(name: str, fn, *a, **k):
        t0 = time.perf_counter()
        out = fn(*a, **k)
        steps.setdefault(name, []).append((time.perf_counter() - t0) * 1000)
        return out

    def best_sentences(rows: np.ndarray, scores: np.ndarray, query: np.ndarray) -> dict[int, float]:  # as hybrid_figures.with_sentences
        pooled = dict(zip(rows.tolist(), scores.tolist(), strict=True))
        units = np.fromiter(pooled, dtype=np.int64, count=len(pooled))
        best = np.maximum.reduceat(sentences[(units[:, None] * spu + np.arange(spu)).ravel()] @ query, np.arange(0, len(units) * spu, spu))
        w = params.sentence_weight
        return {u: (1 - w) * pooled[u] + w * b for u, b in zip(pooled, best.tolist(), strict=True)}

    def fetch(top: list[int]) -> None:
        store.unit.cache_clear()
        for row in top:
            store.unit(f"u{row}")

    def product(i: int) -> None:
        tokens = timed("analyse question", lexical.analyzer, texts[i])
        scores, rows = timed("dense candidates", index.search, queries[i : i + 1], depth)
        lex = timed("lexical candidates", lexical.search, texts[i], depth, tokens=tokens)
        weight = timed("coverage", lambda: lexical_weight(lexical.coverage(texts[i], tokens=tokens), params))
        keep = rows[0] >= 0
        dense = timed("best sentence (all dense cand.)", best_sentences, rows[0][keep], scores[0][keep], queries[i])
        lex_scores = timed("lexical dict", lambda: dict(zip(lex[0].tolist(), lex[1].tolist(), strict=True)) if weight > 0 else {})
        fused = timed("fuse_scores", fuse_scores, dense, lex_scores, weight)
        top = timed("sort fused", lambda: [row for row, _ in sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:10]])
        timed("fetch 10 records", fetch, top)

    faiss.omp_set_num_threads(1)
    for i in range(min(20, len(texts))):
        product(i)
    steps.clear()
    total = []
    for _ in range(3):
        for i in range(len(texts)):
            t0 = time.perf_counter()
            product(i)
            total.append((time.perf_counter() - t0) * 1000)
    print(f"{n:,} units, {len(texts)} questions x 3: hybrid p50 {statistics.median(total):.3f} ms, mean {statistics.mean(total):.3f}")
    for name, values in steps.items():
        print(f"  {name:32s} p50 {statistics.median(values):.3f}  mean {statistics.mean(values):.3f}")


if __name__ == "__main__":
    main()
