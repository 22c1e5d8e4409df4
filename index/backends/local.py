"""The embedded default behind the storage interface: FAISS for dense, bm25s for lexical.

Both wrap the immutable arrays of one local build (:mod:`index.store`) and translate row
numbers into chunk ids, so results are exactly those of the arrays they wrap. Writes go through
``rag build`` (an atomic rebuild that re-embeds only new text), so these are read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from index.backends import Candidates, TranslatedConcept
from rag.chunking import Chunk
from rag.crosslingual import translated_scores
from rag.lexical import LexicalIndex as Bm25Index

__all__ = ["Bm25Lexical", "FaissDense"]


class _RowIds:
    """Row number -> (chunk id, unit id) of one build."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self.ids = [c.id for c in chunks]
        self.units = [c.unit_id for c in chunks]

    def candidates(self, rows: np.ndarray, scores: np.ndarray) -> Candidates:
        keep = [i for i, row in enumerate(rows.tolist()) if row >= 0]  # FAISS pads with -1
        picked = [int(rows[i]) for i in keep]
        return Candidates(
            tuple(self.ids[r] for r in picked),
            tuple(self.units[r] for r in picked),
            np.asarray(scores, dtype=np.float32)[keep],
        )


class FaissDense:
    """A FAISS index over a build's chunk vectors (flat = exact, HNSW above ``exact_max``)."""

    def __init__(self, index: object, chunks: Sequence[Chunk]) -> None:
        self.index = index
        self._rows = _RowIds(chunks)

    def count(self) -> int:
        return int(self.index.ntotal)  # type: ignore[attr-defined]

    def search(self, vectors: np.ndarray, k: int, *, doc: str | None = None) -> list[Candidates]:
        queries = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        scores, rows = self.index.search(queries, k)  # type: ignore[attr-defined]
        return [self._rows.candidates(rows[i], scores[i]) for i in range(len(queries))]


class Bm25Lexical:
    """A bm25s index (rag.lexical) over a build's chunk passages."""

    def __init__(self, index: Bm25Index, chunks: Sequence[Chunk]) -> None:
        self.index = index
        self._rows = _RowIds(chunks)

    def count(self) -> int:
        return len(self.index)

    def coverage(self, query: str) -> float:
        return self.index.coverage(query)

    def search(self, queries: Sequence[str], k: int, *, doc: str | None = None) -> list[Candidates]:
        return [self._rows.candidates(*self.index.search(q, k)) for q in queries]

    def translated(
        self, concepts: Iterable[TranslatedConcept], *, max_translations: int, k: int, doc: str | None = None
    ) -> tuple[Candidates, float]:
        scores, share = translated_scores(self.index, concepts, max_translations=max_translations)  # type: ignore[arg-type]
        if scores is None:
            return Candidates((), (), np.empty(0, np.float32)), 0.0
        rows = np.flatnonzero(scores > 0)
        if rows.size > k:
            rows = rows[np.argsort(-scores[rows], kind="stable")[:k]]
        return self._rows.candidates(rows, scores[rows]), share
