"""The index at scale: IVF-SQ8 above the exact threshold, its manifest record, filtered search,
and sentence vectors stored as int8 and memory-mapped (older float32 builds still load)."""

from __future__ import annotations

import json
from pathlib import Path

import faiss
import numpy as np
import pytest

from index.backends.local import FaissDense
from index.dense import build_dense, build_dense_index, dense_index_kind, dense_index_params, load_dense_index, save_dense_index
from index.sentence_vectors import SCALES_FILE, VECTORS_FILE, SentenceVectors, quantise
from index.store import IndexUnavailableError, load_index
from tests.test_index import _build, _FakeEmbedder

RNG = np.random.default_rng(11)


def _clustered(n: int, dim: int, centres: int = 300) -> np.ndarray:
    """Unit vectors around random centres: embeddings of text are clustered, not uniform on the sphere."""
    middle = RNG.standard_normal((centres, dim)).astype(np.float32)
    middle /= np.linalg.norm(middle, axis=1, keepdims=True)
    out = middle[RNG.integers(0, centres, n)] + RNG.normal(0, 0.6 / np.sqrt(dim), (n, dim)).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def _recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / exact.shape[1] for a, b in zip(found, exact, strict=True)]))


def test_ivf_sq8_beyond_threshold_keeps_recall_and_its_parameters(tmp_path: Path) -> None:
    both = _clustered(8200, 64)
    vectors, queries = both[:8000], both[8000:]  # questions near the library's topics
    index, params = build_dense(vectors, exact_max=1000)
    assert dense_index_kind(index) == "ivf-sq8" and dense_index_params(index).items() <= params.items()
    assert params["nlist"] == 200 and 8 <= params["nprobe"] <= 200 and params["recall_at_10"] >= 0.95
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    _, rows = index.search(queries, 10)
    assert _recall(rows, exact) >= 0.95
    save_dense_index(index, tmp_path / "dense.faiss")
    assert load_dense_index(tmp_path / "dense.faiss", {"nlist": 200, "nprobe": 5}).nprobe == 5
    assert build_dense_index(vectors[:1000], exact_max=1000).ntotal == 1000  # at the threshold: exact
    assert dense_index_kind(build_dense_index(vectors[:1000], exact_max=1000)) == "flat"


def _many_paragraphs(doc: str, n: int) -> str:
    return "\n\n".join(f"{i}. Paragraph {i} of {doc} on topic {i * 7 % 13}. It has a second sentence." for i in range(1, n + 1)) + "\n"


@pytest.fixture
def ivf_index_dir(tmp_path: Path) -> Path:
    docs = {f"d{j}": _many_paragraphs(f"d{j}", 60) for j in range(4)}
    _build(tmp_path, docs, _FakeEmbedder(), exact_max=50)
    return tmp_path


def test_build_records_the_dense_type_and_loading_honours_it(ivf_index_dir: Path) -> None:
    loaded = load_index(ivf_index_dir)
    manifest = json.loads((loaded.path / "manifest.json").read_text())
    assert manifest["dense_index"] == "ivf-sq8" == dense_index_kind(loaded.dense)
    assert dense_index_params(loaded.dense).items() <= manifest["dense_params"].items() and manifest["dense_params"]["nprobe"] >= 1
    assert manifest["sentence_vectors"] == "int8" and isinstance(loaded.sentence_vectors, SentenceVectors)
    assert isinstance(loaded.vectors, np.memmap)
    manifest["dense_params"]["nprobe"] = 1
    (loaded.path / "manifest.json").write_text(json.dumps(manifest))
    assert load_index(ivf_index_dir).dense.nprobe == 1


@pytest.mark.parametrize("exact_rows", [0, 10**9])
def test_filtered_search_returns_only_allowed_documents(ivf_index_dir: Path, exact_rows: int) -> None:
    """exact_rows=0: the filter runs inside IVF as an ID bitmap; 10**9: allowed rows scored exactly."""
    loaded = load_index(ivf_index_dir)
    unit_docs = {u.id: u.doc for u in loaded.units.values()}
    dense = FaissDense(loaded.dense, loaded.chunks, loaded.vectors, unit_docs, exact_rows=exact_rows)
    queries = np.asarray(loaded.vectors[:5], dtype=np.float32)
    for hits, query in zip(dense.search(queries, 8, docs=frozenset({"d1", "d3"})), queries, strict=True):
        assert len(hits) == 8 and {unit_docs[u] for u in hits.units} <= {"d1", "d3"}
        allowed = [i for i, c in enumerate(loaded.chunks) if unit_docs[c.unit_id] in {"d1", "d3"}]
        best = max(allowed, key=lambda i: float(loaded.vectors[i] @ query))
        assert hits.ids[0] == loaded.chunks[best].id or (exact_rows == 0 and loaded.chunks[best].id in hits.ids)


def test_sentence_vectors_are_int8_and_match_the_float_vectors(tmp_path: Path) -> None:
    vectors = _clustered(500, 384)
    codes, scales = quantise(vectors)
    stored = SentenceVectors(codes, scales)
    assert codes.dtype == np.int8 and stored.shape == (500, 384) and stored.dtype == np.float32
    assert np.max(np.abs(stored[:] - vectors)) <= np.max(scales) / 2 + 1e-7
    queries = vectors[:20]
    assert np.max(np.abs(stored[np.arange(0, 500, 7)] @ queries.T - vectors[::7] @ queries.T)) < 0.005
    assert np.array_equal(quantise(stored[:])[0], codes)  # a reused (dequantised) vector re-quantises to itself
    np.testing.assert_array_equal(stored[3], stored[3:4][0])
    np.testing.assert_allclose(stored @ queries[0], stored[:] @ queries[0], rtol=1e-6, atol=1e-6)


def test_build_before_int8_sentence_vectors_still_loads(tmp_path: Path) -> None:
    _build(tmp_path, {"d1": _many_paragraphs("d1", 5)}, _FakeEmbedder())
    build = load_index(tmp_path).path
    floats = np.asarray(load_index(tmp_path).sentence_vectors)
    np.save(build / VECTORS_FILE, floats)
    (build / SCALES_FILE).unlink()
    manifest = json.loads((build / "manifest.json").read_text())
    del manifest["sentence_vectors"], manifest["dense_params"]
    (build / "manifest.json").write_text(json.dumps(manifest))
    old = load_index(tmp_path)
    assert not old.sentence_vectors.quantised
    np.testing.assert_array_equal(old.sentence_vectors[:], floats)


def test_float_sentence_vectors_where_int8_are_expected_is_a_clear_error(tmp_path: Path) -> None:
    _build(tmp_path, {"d1": _many_paragraphs("d1", 5)}, _FakeEmbedder())
    build = load_index(tmp_path).path
    np.save(build / VECTORS_FILE, np.asarray(load_index(tmp_path).sentence_vectors))
    with pytest.raises(IndexUnavailableError, match=f"{VECTORS_FILE} cannot be read.*rag build --index-dir"):
        load_index(tmp_path)


def test_hnsw_sq8_from_its_threshold_keeps_recall_and_its_parameters(tmp_path: Path) -> None:
    both = _clustered(6200, 64)
    vectors, queries = both[:6000], both[6000:]
    index, params = build_dense(vectors, exact_max=1000, hnsw_min=5000)
    assert dense_index_kind(index) == "hnsw-sq8" and params["M"] == 16 and params["recall_at_10"] >= 0.95
    assert faiss.serialize_index(index).size < 6000 * (64 + 2 * 16 * 4 + 64)  # 8-bit codes and the links, no float copy
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    _, rows = index.search(queries, 10)
    assert _recall(rows, exact) >= 0.95
    save_dense_index(index, tmp_path / "dense.faiss")
    assert load_dense_index(tmp_path / "dense.faiss", {"M": 16, "efSearch": 200}).hnsw.efSearch == 200
    assert dense_index_kind(build_dense_index(vectors[:4000], exact_max=1000, hnsw_min=5000)) == "ivf-sq8"  # below it: IVF
