"""Small sentence-vector matrices are dequantised once; the scores must be bit-for-bit the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import index.sentence_vectors as sv
from index.sentence_vectors import SentenceVectors, quantise, save_sentence_vectors


def _stored(tmp_path: Path, n: int = 300) -> tuple[SentenceVectors, np.ndarray]:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    save_sentence_vectors(tmp_path, vectors)
    return SentenceVectors.open(tmp_path, "int8"), vectors


def test_cached_matrix_gives_the_same_bits_as_decoding_rows(tmp_path: Path) -> None:
    stored, vectors = _stored(tmp_path)
    query = vectors[7]
    rows = np.array([5, 6, 7, 100, 299])
    decoded = stored._decode(rows)  # what every read gave before the cache
    assert stored._dequantised() is not None
    assert np.array_equal(stored[rows], decoded)
    assert np.array_equal(stored[rows] @ query, decoded @ query)
    assert np.array_equal(stored[10:14] @ query, stored._decode(slice(10, 14)) @ query)
    assert np.array_equal(stored @ query, stored._decode(slice(0, len(stored))) @ query)
    assert np.array_equal(stored[3], stored._decode(3))
    with pytest.raises(ValueError):  # the shared copy cannot be changed by a caller
        stored[2:4][0, 0] = 1.0


def test_large_matrix_stays_memory_mapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stored, vectors = _stored(tmp_path)
    monkeypatch.setattr(sv, "DEQUANTISED_CACHE_BYTES", 300 * 384 * 4 - 1)
    assert stored._dequantised() is None
    assert isinstance(stored._codes, np.ndarray) and not isinstance(stored._codes, np.memmap)
    assert isinstance(stored._codes.base, np.memmap)  # a view of the mapping, not a copy in RAM
    codes, _ = quantise(vectors)
    assert np.array_equal(stored._codes, codes)
    np.testing.assert_allclose(stored @ vectors[0], stored[:] @ vectors[0], rtol=1e-6, atol=1e-6)


def test_decoded_rows_are_codes_times_scales(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows dequantised in place are the float32 products ``code · scale``, for every kind of key."""
    stored, _ = _stored(tmp_path)
    monkeypatch.setattr(sv, "DEQUANTISED_CACHE_BYTES", 0)  # memory-mapped: every read decodes
    codes, scales = np.asarray(stored._codes), stored._scales
    for key in (np.array([3, 250, 3, 17]), [0, 299], slice(20, 60), 42):
        want = codes[key].astype(np.float32) * (scales[key][..., None] if np.ndim(scales[key]) else scales[key])
        got = stored[key]
        assert got.dtype == np.float32 and np.array_equal(got, want)
    assert np.array_equal(codes[5], np.asarray(stored._codes)[5])  # the codes themselves untouched
