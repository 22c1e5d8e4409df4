"""Sentence vectors on disk: 8-bit codes with one scale per row, read memory-mapped.

Every sentence of every paragraph has a vector (about four per paragraph), used to pick and
score the evidence sentence of a candidate. As float32 in RAM that is ~6 KB per paragraph, GBs
for a million paragraphs. Stored as int8 codes ``round(x / s)`` with ``s = max|x| / 127`` per row
(388 bytes a sentence) and opened with ``np.load(mmap_mode="r")``, only the rows of the
candidates scored are read, and the OS pages them out again under pressure. The meaning of a
vector does not change: a dequantised cosine differs from the float32 one by at most ~0.0015
(measured on XQuAD zh), far below the gaps the verifier was trained on.

:class:`SentenceVectors` indexes like the float32 array it replaces (``v[rows] @ query``,
``v @ query``, ``v[start:stop]``, ``v[i]``, ``len``, ``shape``), so callers did not change. Builds written before
this format (a float32 ``sentence_vectors.npy`` and no scales file) are read as they are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["SCALES_FILE", "VECTORS_FILE", "SentenceVectors", "quantise", "save_sentence_vectors"]

VECTORS_FILE = "sentence_vectors.npy"
SCALES_FILE = "sentence_scales.npy"
_BLOCK = 65_536
DEQUANTISED_CACHE_BYTES = 32 << 20  # a matrix this small (the seed, a few thousand paragraphs) is also kept as float32
CODEC = "int8"  # recorded in the manifest as ``sentence_vectors``; "float32" in older builds


def quantise(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes and float32 per-row scales of float ``vectors`` ([n, dim]); re-quantising a dequantised row gives it back."""
    vectors = np.asarray(vectors, dtype=np.float32)
    scales = (np.abs(vectors).max(axis=1) / 127.0).astype(np.float32) if len(vectors) else np.zeros(0, np.float32)
    safe = np.where(scales > 0, scales, 1.0).astype(np.float32)
    codes = np.clip(np.rint(vectors / safe[:, None]), -127, 127).astype(np.int8)
    return codes, scales


def save_sentence_vectors(directory: Path, vectors: np.ndarray) -> None:
    """Write ``vectors`` (float, [n, dim]) as int8 codes and scales into a build folder, in blocks
    of rows straight into the memory-mapped file (no full-size float temporaries: at 10^6
    paragraphs the float32 sentence matrix alone is ~6 GB)."""
    rows, dim = (vectors.shape[0], vectors.shape[1]) if vectors.ndim == 2 else (0, 0)
    if rows == 0:
        codes, scales = quantise(vectors.reshape(0, dim))
        np.save(directory / VECTORS_FILE, codes)
        np.save(directory / SCALES_FILE, scales)
        return
    codes = np.lib.format.open_memmap(directory / VECTORS_FILE, mode="w+", dtype=np.int8, shape=(rows, dim))
    scales = np.empty(rows, np.float32)
    for start in range(0, rows, _BLOCK):
        codes[start : start + _BLOCK], scales[start : start + _BLOCK] = quantise(vectors[start : start + _BLOCK])
    codes.flush()
    del codes
    np.save(directory / SCALES_FILE, scales)


class SentenceVectors:
    """Read-only float32 view of stored sentence vectors; indexing dequantises only the rows asked for."""

    def __init__(self, codes: np.ndarray, scales: np.ndarray | None = None) -> None:
        if codes.ndim != 2:
            raise ValueError(f"expected a 2-d array, got shape {codes.shape}")
        if scales is None and codes.dtype != np.float32:
            raise ValueError(f"{codes.dtype} vectors without scales")
        if scales is not None and (codes.dtype != np.int8 or scales.shape != (len(codes),)):
            raise ValueError(f"{codes.dtype} codes of shape {codes.shape} do not match scales of shape {scales.shape}")
        # a plain ndarray view of the mapping: slicing the np.memmap subclass costs microseconds per call
        # (__array_finalize__), and the query path slices it a few dozen times per question
        self._codes = codes.view(np.ndarray) if isinstance(codes, np.memmap) else codes
        self._scales = scales
        self._dense: np.ndarray | None = None  # the dequantised matrix, once, when small (see _dequantised)

    @classmethod
    def open(cls, directory: Path, codec: str) -> SentenceVectors:
        """Memory-map the vectors of a build written with ``codec`` ("int8", or "float32" before)."""
        codes = np.load(directory / VECTORS_FILE, mmap_mode="r", allow_pickle=False)
        if codec == "float32":
            return cls(codes)
        if codec != CODEC:
            raise ValueError(f"unknown sentence vector format {codec!r}")
        return cls(codes, np.load(directory / SCALES_FILE, allow_pickle=False))

    @property
    def shape(self) -> tuple[int, int]:
        return self._codes.shape  # type: ignore[return-value]

    @property
    def ndim(self) -> int:
        return 2

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float32)

    @property
    def quantised(self) -> bool:
        return self._scales is not None

    def __len__(self) -> int:
        return len(self._codes)

    def __getitem__(self, key: int | slice | np.ndarray | list[int]) -> np.ndarray:
        dense = self._dequantised()
        if dense is not None:
            return dense[key]
        return self._decode(key)

    def _decode(self, key: int | slice | np.ndarray | list[int]) -> np.ndarray:
        rows = np.asarray(self._codes[key], dtype=np.float32)
        if self._scales is None:
            return rows
        scales = self._scales[key]
        # int8 codes: ``rows`` is a fresh float32 copy, scaled in place (the same products, one
        # temporary fewer: a question's ~800 candidate sentence rows are 1.2 MB of float32)
        return np.multiply(rows, scales[..., None] if np.ndim(scales) else scales, out=rows)

    def _dequantised(self) -> np.ndarray | None:
        """The whole matrix as float32 (read-only), made on first use, when it takes at most
        ``DEQUANTISED_CACHE_BYTES``: a small library's every query multiplies most of its sentences,
        and dequantising them again each time was a tenth of the query path. The values are the
        ones ``_decode`` gives, so scores do not change; a large library stays memory-mapped."""
        if self._dense is None and self._scales is not None and self._codes.size * 4 <= DEQUANTISED_CACHE_BYTES:
            dense = self._decode(slice(None))
            dense.setflags(write=False)
            self._dense = dense  # a race makes it twice, identically
        return self._dense

    def __matmul__(self, other: np.ndarray) -> np.ndarray:
        """Every row times ``other``, dequantised in blocks (never a float copy of a large matrix)."""
        other = np.asarray(other, dtype=np.float32)
        dense = self._dequantised()
        if dense is not None:
            return dense @ other
        blocks = [self[start : start + _BLOCK] @ other for start in range(0, len(self), _BLOCK)]
        return np.concatenate(blocks) if blocks else np.zeros((0, *other.shape[1:]), np.float32)

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        full = self[:]
        return full if dtype is None else full.astype(dtype)
