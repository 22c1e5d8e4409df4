"""Dense index at scale: synthetic corpora of perturbed copies of real e5 vectors.

Real passage and query vectors come from an index built by the product (``--index-dir``, the
seed by default under RAG_HOME); each synthetic unit is a real passage vector plus Gaussian
noise, re-normalised (cosine to its source about 0.85), so the corpus keeps e5's anisotropic
distribution instead of uniform noise. For each size and index type: build time, bytes per unit
(the serialised index), search latency p50/p95 (one query at a time, one thread) and recall@10
against exact search. Index types: what the product picks (``index.dense.build_dense_index``:
flat below 50,000 vectors, HNSW above) and HNSW over 8-bit scalar-quantised vectors.
Writes bench/results/scale.json and scale.md. Usage:
``RAG_HOME=/tmp/x python bench/scale.py --sizes 10000 100000``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from index.dense import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_NEIGHBOURS, build_dense_index, dense_index_kind

ROOT = Path(__file__).resolve().parents[1]


def real_vectors(index_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    from index.store import load_index

    index = load_index(index_dir)
    passages = np.vstack([index.vectors, index.sentence_vectors]).astype(np.float32)
    return passages, passages[: min(len(passages), 400)]


def synthetic(base: np.ndarray, n: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    rows = base[rng.integers(0, len(base), n)]
    out = rows + rng.normal(0, noise, rows.shape).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return np.ascontiguousarray(out, dtype=np.float32)


def serialized_bytes(index: faiss.Index) -> int:
    return int(faiss.serialize_index(index).size)


def hnsw_sq8(vectors: np.ndarray) -> faiss.Index:
    index = faiss.IndexHNSWSQ(vectors.shape[1], faiss.ScalarQuantizer.QT_8bit, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.train(vectors)
    index.add(vectors)
    index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def measure(index: faiss.Index, queries: np.ndarray, exact: np.ndarray) -> dict[str, float]:
    for q in queries[:20]:
        index.search(q[None, :], 10)
    latencies, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        _, rows = index.search(q[None, :], 10)
        latencies.append((time.perf_counter() - t0) * 1000)
        found.append(rows[0])
    recall = statistics.mean(len(set(f.tolist()) & set(e.tolist())) / 10 for f, e in zip(found, exact))
    latencies.sort()
    return {"search_p50_ms": round(statistics.median(latencies), 3), "search_p95_ms": round(latencies[int(0.95 * len(latencies))], 3),
            "recall_at_10": round(recall, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--noise", type=float, default=0.03, help="per-dimension Gaussian noise before re-normalising")
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    from rag.config import Settings

    faiss.omp_set_num_threads(1)  # latency of one query on one thread; builds below use the cores
    passages, query_base = real_vectors(args.index_dir or Settings().resolved_index_dir)
    rng = np.random.default_rng(0)
    queries = synthetic(query_base, args.queries, args.noise, rng)
    rows = []
    for n in args.sizes:
        vectors = synthetic(passages, n, args.noise, rng)
        cosine = float(np.mean(np.sum(vectors[:1000] * passages[rng.integers(0, len(passages), 1)], axis=1)))
        exact_index = faiss.IndexFlatIP(vectors.shape[1])
        exact_index.add(vectors)
        _, exact = exact_index.search(queries, 10)
        faiss.omp_set_num_threads(2)
        builders = {"product": build_dense_index, "hnsw-sq8": hnsw_sq8}
        for name, build in builders.items():
            faiss.omp_set_num_threads(2)
            t0 = time.perf_counter()
            index = build(vectors)
            build_s = time.perf_counter() - t0
            faiss.omp_set_num_threads(1)
            kind = dense_index_kind(index) if name == "product" else name
            row = {"units": n, "index": name, "kind": kind, "build_s": round(build_s, 2),
                   "bytes_per_unit": round(serialized_bytes(index) / n), **measure(index, queries, exact)}
            rows.append(row)
            print(row, flush=True)
            del index
        del vectors, exact_index
        _ = cosine
    result = {"created": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
              "noise": args.noise, "queries": args.queries, "hnsw": {"M": HNSW_NEIGHBOURS, "efConstruction": HNSW_EF_CONSTRUCTION,
                                                                     "efSearch": HNSW_EF_SEARCH}, "rows": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scale.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    lines = ["# Dense index at scale (synthetic: perturbed copies of real e5 vectors)", "",
             f"{result['machine']}; {args.queries} queries, one at a time on one thread; recall@10 against exact search.", "",
             "| units | index | build s | bytes/unit | search p50 ms | p95 ms | recall@10 |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['units']:,} | {r['kind']} | {r['build_s']} | {r['bytes_per_unit']} | {r['search_p50_ms']} | {r['search_p95_ms']} | {r['recall_at_10']} |"
              for r in rows]
    (args.out / "scale.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
