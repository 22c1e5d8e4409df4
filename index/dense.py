"""The dense vector index: FAISS over L2-normalised vectors, so inner product is cosine.

The type is picked by size, here and only here. Up to ``exact_max`` vectors an exact flat
index: no recall loss, and at that size one scan is as fast as any graph. Above it an inverted
file over 8-bit scalar-quantised vectors (IVF-SQ8; Jégou et al. 2011, "Product quantization
for nearest neighbor search"): ``nlist ≈ 4·√N`` cells, ``nprobe`` of them scanned per query,
392 bytes per vector instead of 1,536, and a build of seconds rather than the hours an HNSW
graph took on two cores (bench/results/scale.md). The coarse centroids come from a spherical
k-means on a sample computed with NumPy's BLAS, and vectors are assigned to cells the same way:
FAISS's own k-means was about five times slower on this machine's cores (measured in
bench/scale.py's notes). The chosen type and parameters are written into the build manifest
(:func:`dense_index_params`) and set again on load, so a build searches as it was measured.
HNSW indexes of older builds still load. Recall against exact search: tests/test_index.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import faiss
import numpy as np
from faiss.contrib.ivf_tools import add_preassigned

__all__ = [
    "DEFAULT_EXACT_MAX",
    "build_dense_index",
    "dense_index_kind",
    "dense_index_params",
    "filtered_search_parameters",
    "ivf_cells",
    "ivf_probes",
    "load_dense_index",
    "save_dense_index",
]

DEFAULT_EXACT_MAX = 20_000
HNSW_EF_SEARCH = 128  # older builds only
KMEANS_ITERATIONS = 10
TRAIN_PER_CELL = 40  # k-means sample: 40 vectors per cell (FAISS's own lower bound is 39)
SQ_TRAIN = 20_000  # vectors used to fit the 8-bit quantiser's ranges
_BATCH = 16_384


def ivf_cells(n: int) -> int:
    """Number of IVF cells for ``n`` vectors: about 4·√n (the FAISS guidelines' low end)."""
    return max(1, min(n // TRAIN_PER_CELL, round(4 * math.sqrt(n))))


def ivf_probes(cells: int) -> int:
    """Cells scanned per query: 1/32 of them, at least 32 (recall@10 ≥ 0.95 in bench/scale.py)."""
    return min(cells, max(32, cells // 32))


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


def _ivf_sq8(vectors: np.ndarray, seed: int) -> faiss.Index:
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
    index.nprobe = ivf_probes(cells)
    return index


def build_dense_index(vectors: np.ndarray, *, exact_max: int = DEFAULT_EXACT_MAX, seed: int = 0) -> faiss.Index:
    """An inner-product index over ``vectors`` (float32, rows L2-normalised): flat up to ``exact_max``, else IVF-SQ8."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"expected a 2-d array of vectors, got shape {vectors.shape}")
    if len(vectors) <= exact_max or ivf_cells(len(vectors)) < 2:
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        return index
    return _ivf_sq8(vectors, seed)


def dense_index_kind(index: faiss.Index) -> str:
    if isinstance(index, faiss.IndexIVFScalarQuantizer):
        return "ivf-sq8"
    return "hnsw" if isinstance(index, faiss.IndexHNSWFlat) else "flat"


def dense_index_params(index: faiss.Index) -> dict[str, int]:
    """The search parameters a build records in its manifest (empty for flat)."""
    if isinstance(index, faiss.IndexIVF):
        return {"nlist": int(index.nlist), "nprobe": int(index.nprobe)}
    if isinstance(index, faiss.IndexHNSWFlat):
        return {"efSearch": int(index.hnsw.efSearch)}
    return {}


def filtered_search_parameters(index: faiss.Index, allowed: np.ndarray) -> faiss.SearchParameters:
    """Search parameters that keep only the rows where ``allowed`` (bool, one per row) is true.

    The bitmap is kept on the returned object, which FAISS only points to.
    """
    bits = np.packbits(np.asarray(allowed, dtype=bool), bitorder="little")
    selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
    if isinstance(index, faiss.IndexIVF):
        params: faiss.SearchParameters = faiss.SearchParametersIVF(sel=selector, nprobe=int(index.nprobe))
    elif isinstance(index, faiss.IndexHNSWFlat):
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=int(index.hnsw.efSearch))
    else:
        params = faiss.SearchParameters(sel=selector)
    params.bitmap_ = bits  # type: ignore[attr-defined]
    params.selector_ = selector  # type: ignore[attr-defined]
    return params


def save_dense_index(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load_dense_index(path: Path, params: Mapping[str, int] | None = None) -> faiss.Index:
    """Read ``path`` and set the search parameters its build recorded (``params`` from the manifest)."""
    index = faiss.read_index(str(path))
    params = params or {}
    if isinstance(index, faiss.IndexIVF):
        index.nprobe = int(params.get("nprobe", index.nprobe))
    elif isinstance(index, faiss.IndexHNSWFlat):
        index.hnsw.efSearch = int(params.get("efSearch", HNSW_EF_SEARCH))
    return index
