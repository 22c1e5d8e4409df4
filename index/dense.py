"""The dense vector index: FAISS over L2-normalised vectors, so inner product is cosine.

The type is picked by size, here and only here. Up to ``exact_max`` vectors an exact flat
index: no recall loss, and at that size one scan is as fast as any graph. Above it an inverted
file over 8-bit scalar-quantised vectors (IVF-SQ8; Jégou et al. 2011, "Product quantization
for nearest neighbor search"): ``nlist ≈ 4·√N`` cells, ``nprobe`` of them scanned per query,
tuned at build on the library's own vectors for recall@10 ≥ 0.96 against exact search,
392 bytes per vector instead of 1,536, and a build of seconds rather than the hours an HNSW
graph took on two cores (bench/results/scale.md); HNSW over 8-bit codes is available
(``hnsw_min``) and measured, not chosen (:data:`HNSW_MIN`). The coarse centroids come from a spherical
k-means on a sample computed with NumPy's BLAS, and vectors are assigned to cells the same way:
FAISS's own k-means was about five times slower on this machine's cores (measured in
bench/scale.py's notes). The chosen type and parameters are written into the build manifest
(:func:`dense_index_params`) and set again on load, so a build searches as it was measured.
HNSW indexes of older builds still load. Recall against exact search: tests/test_index_scale.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from faiss.contrib.ivf_tools import add_preassigned

__all__ = [
    "DEFAULT_EXACT_MAX",
    "FilteredSearch",
    "build_dense",
    "build_dense_index",
    "dense_index_kind",
    "dense_index_params",
    "filtered_search_parameters",
    "hnsw_ef",
    "ivf_cells",
    "ivf_probes",
    "load_dense_index",
    "save_dense_index",
]

DEFAULT_EXACT_MAX = 20_000
#: Recall@10 of the tuning queries the probe count (or efSearch) is tuned for at build. They are harder
#: than real questions: bench/scale.py at 10^5 (IVF, nprobe 32 / 64 / 128): tuning queries 0.910 /
#: 0.948 / 0.971, real questions 0.946 / 0.964 / 0.978. At 10^6 a target of 0.95 chose nprobe 24
#: (real questions 0.959, hybrid recall@10 0.944) and 0.96 chose 32 (0.962, hybrid 0.951, dense
#: p50 1.5 ms): 0.96, where the earlier 0.975 (and ×2 steps) took 128-256 probes.
RECALL_TARGET = 0.96
PROBE_STEPS = (8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)  # ×1.5 apart, not ×2
TUNE_QUERIES = 256
TUNE_COSINE = 0.72  # how far the tuning queries are from the vectors they were made from
HNSW_EF_SEARCH = 128  # builds that recorded none (HNSW-Flat of older builds)
#: From this many vectors on, HNSW over 8-bit codes instead of IVF-SQ8; None: never (the default).
#: Measured at 10^6 (bench/scale.py synthesis, real questions, 2 cores under load): HNSW-SQ8 M 16,
#: efConstruction 40 built in 953 s against IVF-SQ8's ~70-390 s, 528 against 398 bytes/vector, and
#: reached recall@10 0.88 at efSearch 128 where IVF-SQ8 reached 0.962 at nprobe 32. Kept measurable.
HNSW_MIN: int | None = None
HNSW_M = 16  # links per node: 2·M·4 = 128 bytes per vector on the base layer
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_STEPS = (32, 48, 64, 96, 128, 192, 256, 384, 512)
KMEANS_ITERATIONS = 10
TRAIN_PER_CELL = 40  # k-means sample: 40 vectors per cell (FAISS's own lower bound is 39)
SQ_TRAIN = 20_000  # vectors used to fit the 8-bit quantiser's ranges
_BATCH = 16_384


def ivf_cells(n: int) -> int:
    """Number of IVF cells for ``n`` vectors: about 4·√n (the FAISS guidelines' low end)."""
    return max(1, min(n // TRAIN_PER_CELL, round(4 * math.sqrt(n))))


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return np.take_along_axis(part, np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1), axis=1)


def _tuning_set(vectors: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Question-like queries (indexed vectors moved to cosine ``TUNE_COSINE``), their sources and exact top 10 without them."""
    picks = rng.choice(len(vectors), min(TUNE_QUERIES, len(vectors)), replace=False)
    sigma = math.sqrt((1 / TUNE_COSINE**2 - 1) / vectors.shape[1])
    queries = vectors[picks] + rng.normal(0, sigma, (len(picks), vectors.shape[1])).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = np.concatenate([queries @ vectors[s : s + _BATCH * 4].T for s in range(0, len(vectors), _BATCH * 4)], axis=1)
    exact[np.arange(len(picks)), picks] = -np.inf
    return picks, queries, _top(exact, min(10, len(vectors) - 1))


def _recall_of(index: faiss.Index, picks: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> float:
    _, found = index.search(queries, 11)
    return float(np.mean([len(set(f[f != p][:10].tolist()) & set(t.tolist())) / len(t) for f, p, t in zip(found, picks, truth, strict=True)]))


def ivf_probes(index: faiss.IndexIVF, vectors: np.ndarray, rng: np.random.Generator, *, target: float = RECALL_TARGET) -> tuple[int, float]:
    """Fewest cells to scan (of :data:`PROBE_STEPS`, then all) for recall@10 ≥ ``target`` against exact search.

    Measured with question-like queries: indexed vectors moved by Gaussian noise to cosine
    ``TUNE_COSINE`` from where they were, each leaving its source out of both lists. Real
    questions sit that far from their passages (e5 question → best passage: median cosine 0.79
    on XQuAD), and nearer queries (cosine 0.86) reached the target with a quarter of the probes
    while real questions then missed it (recall 0.91; bench/results/scale.md). Returns the probe
    count and the recall it reached.
    """
    picks, queries, truth = _tuning_set(vectors, rng)
    for probes in [p for p in PROBE_STEPS if p < index.nlist] + [index.nlist]:
        index.nprobe = probes
        recall = _recall_of(index, picks, queries, truth)
        if recall >= target:
            break
    return int(index.nprobe), recall


def hnsw_ef(index: faiss.IndexHNSW, vectors: np.ndarray, rng: np.random.Generator, *, target: float = RECALL_TARGET) -> tuple[int, float]:
    """Smallest ``efSearch`` of :data:`HNSW_EF_STEPS` for recall@10 ≥ ``target``, with :func:`ivf_probes`'s queries."""
    picks, queries, truth = _tuning_set(vectors, rng)
    for ef in HNSW_EF_STEPS:
        index.hnsw.efSearch = ef
        recall = _recall_of(index, picks, queries, truth)
        if recall >= target:
            break
    return int(index.hnsw.efSearch), recall


def _hnsw_sq8(vectors: np.ndarray, seed: int, target: float = RECALL_TARGET) -> tuple[faiss.Index, float]:
    index = faiss.IndexHNSWSQ(vectors.shape[1], faiss.ScalarQuantizer.QT_8bit, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    rng = np.random.default_rng(seed)
    index.train(vectors[np.sort(rng.choice(len(vectors), min(len(vectors), SQ_TRAIN), replace=False))])
    index.add(vectors)
    index.hnsw.efSearch, recall = hnsw_ef(index, vectors, rng, target=target)
    return index, recall


def _nearest(vectors: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Row of the most similar centroid for each vector (int64), in batches to bound memory."""
    out = np.empty(len(vectors), dtype=np.int64)
    for start in range(0, len(vectors), _BATCH):
        out[start : start + _BATCH] = np.argmax(vectors[start : start + _BATCH] @ centroids.T, axis=1)
    return out


def _spherical_kmeans(sample: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` unit-length centroids of ``sample`` (Lloyd iterations; an empty cell takes a random point)."""
    centroids = sample[rng.choice(len(sample), k, replace=False)].copy()
    for _ in range(KMEANS_ITERATIONS):
        assign = _nearest(sample, centroids)
        order = np.argsort(assign, kind="stable")
        cells, starts = np.unique(assign[order], return_index=True)
        sums = np.add.reduceat(sample[order], starts, axis=0)
        empty = np.setdiff1d(np.arange(k), cells)
        centroids[cells] = sums
        centroids[empty] = sample[rng.choice(len(sample), len(empty), replace=False)]
        centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    return centroids


def _ivf_sq8(vectors: np.ndarray, seed: int, target: float = RECALL_TARGET) -> tuple[faiss.Index, float]:
    n, dim = vectors.shape
    cells = ivf_cells(n)
    rng = np.random.default_rng(seed)
    sample = vectors[np.sort(rng.choice(n, min(n, TRAIN_PER_CELL * cells), replace=False))]
    centroids = _spherical_kmeans(sample, cells, rng)
    quantizer = faiss.IndexFlatIP(dim)
    quantizer.add(centroids)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, cells, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    index.train(sample[:SQ_TRAIN])  # the quantiser is complete, so this fits only the 8-bit ranges
    for start in range(0, n, _BATCH * 4):
        chunk = vectors[start : start + _BATCH * 4]
        add_preassigned(index, chunk, _nearest(chunk, centroids))  # rows numbered in order of adding
    index.nprobe, recall = ivf_probes(index, vectors, rng, target=target)
    return index, recall


def build_dense(
    vectors: np.ndarray,
    *,
    exact_max: int = DEFAULT_EXACT_MAX,
    hnsw_min: int | None = HNSW_MIN,
    seed: int = 0,
    recall_target: float = RECALL_TARGET,
) -> tuple[faiss.Index, dict[str, float]]:
    """An inner-product index over ``vectors`` (float32, rows L2-normalised): flat up to ``exact_max``,
    else IVF-SQ8 (HNSW-SQ8 from ``hnsw_min`` on, when given).

    Returns the index and what the manifest records of it: its search parameters and, for
    IVF, the recall@10 measured when its probe count was tuned.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"expected a 2-d array of vectors, got shape {vectors.shape}")
    if len(vectors) <= exact_max or ivf_cells(len(vectors)) < 2:
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        return index, {}
    build = _hnsw_sq8 if hnsw_min is not None and len(vectors) >= hnsw_min else _ivf_sq8
    index, recall = build(vectors, seed, recall_target)
    return index, {**dense_index_params(index), "recall_at_10": round(recall, 4)}


def build_dense_index(
    vectors: np.ndarray, *, exact_max: int = DEFAULT_EXACT_MAX, hnsw_min: int | None = HNSW_MIN, seed: int = 0
) -> faiss.Index:
    """:func:`build_dense` without the record."""
    return build_dense(vectors, exact_max=exact_max, hnsw_min=hnsw_min, seed=seed)[0]


def dense_index_kind(index: faiss.Index) -> str:
    if isinstance(index, faiss.IndexIVFScalarQuantizer):
        return "ivf-sq8"
    if isinstance(index, faiss.IndexHNSWSQ):
        return "hnsw-sq8"
    return "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"


def dense_index_params(index: faiss.Index) -> dict[str, float]:
    """The search parameters of ``index`` (empty for flat)."""
    if isinstance(index, faiss.IndexIVF):
        return {"nlist": int(index.nlist), "nprobe": int(index.nprobe)}
    if isinstance(index, faiss.IndexHNSW):
        return {"M": int(index.hnsw.nb_neighbors(1)), "efSearch": int(index.hnsw.efSearch)}
    return {}


@dataclass(frozen=True)
class FilteredSearch:
    """Search parameters with an ID bitmap, and the objects FAISS only points to (kept alive here)."""

    params: faiss.SearchParameters
    bitmap: np.ndarray
    selector: faiss.IDSelector


def filtered_search_parameters(index: faiss.Index, allowed: np.ndarray) -> FilteredSearch:
    """Search parameters that keep only the rows where ``allowed`` (bool, one per row) is true."""
    bits = np.packbits(np.asarray(allowed, dtype=bool), bitorder="little")
    selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
    if isinstance(index, faiss.IndexIVF):
        params: faiss.SearchParameters = faiss.SearchParametersIVF(sel=selector, nprobe=int(index.nprobe))
    elif isinstance(index, faiss.IndexHNSW):
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=int(index.hnsw.efSearch))
    else:
        params = faiss.SearchParameters(sel=selector)
    return FilteredSearch(params, bits, selector)


def save_dense_index(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load_dense_index(path: Path, params: Mapping[str, float] | None = None) -> faiss.Index:
    """Read ``path`` and set the search parameters its build recorded (``params`` from the manifest)."""
    index = faiss.read_index(str(path))
    params = params or {}
    if isinstance(index, faiss.IndexIVF):
        index.nprobe = int(params.get("nprobe", index.nprobe))
    elif isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = int(params.get("efSearch", HNSW_EF_SEARCH))
    return index
