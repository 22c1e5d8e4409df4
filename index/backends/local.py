"""The embedded default behind the storage interface: FAISS for dense, bm25s for lexical.

Both wrap the immutable arrays of one local build (:mod:`index.store`) and translate row
numbers into chunk ids, so results are exactly those of the arrays they wrap. Writes go through
``rag build`` (an atomic rebuild that re-embeds only new text), so these are read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from index.backends import Candidates, TranslatedConcept
from index.dense import FilteredSearch, filtered_search_parameters
from index.docstore import DocumentStore
from rag.chunking import Chunk
from rag.lexical import LexicalIndex as Bm25Index
from rag.translated_scoring import translated_scores

__all__ = ["Bm25Lexical", "FaissDense"]


_FILTER_CACHE = 32  # allowed-row arrays kept per store (one per distinct filter)


def _top(scores: np.ndarray, depth: int) -> np.ndarray:
    """Positions of the ``depth`` highest scores, best first (ties: lower position first)."""
    if scores.size > depth:
        part = np.argpartition(-scores, depth - 1)[:depth]
        return part[np.lexsort((part, -scores[part]))]
    return np.lexsort((np.arange(scores.size), -scores))


class _RowIds:
    """Row number -> (chunk id, unit id) of one build, and the rows of a set of documents.

    Given a build's chunks as loaded (index.views.SpansView), the ids come from its document
    store's row maps, shared, never copied; a plain list of chunks is read once.
    """

    def __init__(self, chunks: Sequence[Chunk], unit_docs: Mapping[str, str]) -> None:
        store = getattr(chunks, "store", None)
        self._store = store if isinstance(store, DocumentStore) else None
        if self._store is not None:
            self.ids, self.units = self._store.chunk_ids, self._store.chunk_units
        else:
            self.ids = [c.id for c in chunks]
            self.units = [c.unit_id for c in chunks]
        self._unit_docs = unit_docs
        self._doc_codes: dict[str, int] = {}
        self._chunk_docs: np.ndarray | None = None
        self._allowed: dict[frozenset[str], np.ndarray] = {}

    def candidates(self, rows: np.ndarray, scores: np.ndarray) -> Candidates:
        keep = np.asarray(rows) >= 0  # FAISS pads with -1
        picked = np.asarray(rows)[keep].tolist()
        ids, units = self.ids, self.units
        return Candidates(
            tuple([ids[r] for r in picked]),
            tuple([units[r] for r in picked]),
            np.asarray(scores, dtype=np.float32)[keep],
        )

    def allowed(self, docs: frozenset[str]) -> np.ndarray:
        """Rows of the chunks of ``docs`` (cached per filter)."""
        rows = self._allowed.get(docs)
        if rows is None:
            if self._chunk_docs is None and self._store is not None:
                self._doc_codes = {doc: code for code, doc in enumerate(self._store.doc_names)}
                self._chunk_docs = self._store.chunk_doc_codes()
            if self._chunk_docs is None:
                self._doc_codes = {doc: code for code, doc in enumerate(sorted(set(self._unit_docs.values())))}
                self._chunk_docs = np.fromiter(
                    (self._doc_codes.get(self._unit_docs.get(u, ""), -1) for u in self.units), dtype=np.int32, count=len(self.units)
                )
            codes = np.fromiter((self._doc_codes[d] for d in docs if d in self._doc_codes), dtype=np.int32)
            rows = np.flatnonzero(np.isin(self._chunk_docs, codes))
            if len(self._allowed) >= _FILTER_CACHE:
                self._allowed.pop(next(iter(self._allowed)))
            self._allowed[docs] = rows
        return rows

    def top_of(self, row_scores: np.ndarray, rows: np.ndarray, k: int, *, positive: bool = False) -> Candidates:
        """The ``k`` best of ``rows`` given their scores (``positive``: drop zero scores)."""
        top = _top(row_scores, k)
        if positive:
            top = top[row_scores[top] > 0]
        return self.candidates(rows[top], row_scores[top])


class FaissDense:
    """A FAISS index over a build's chunk vectors (flat, or IVF-SQ8 above ``exact_max``: index.dense).

    A filtered search that allows few rows (up to ``exact_rows``) scores them exactly from
    ``vectors`` (memory-mapped: only those rows are read) instead of asking FAISS for a deeper
    list and dropping most of it; a broad filter is applied inside the approximate index by an
    ID bitmap, so it costs what an unfiltered search does.
    """

    def __init__(
        self, index: object, chunks: Sequence[Chunk], vectors: np.ndarray, unit_docs: Mapping[str, str], *, exact_rows: int = 20_000
    ) -> None:
        self.index = index
        self.vectors = vectors
        self.exact_rows = exact_rows
        self._rows = _RowIds(chunks, unit_docs)
        self._selectors: dict[frozenset[str], FilteredSearch] = {}

    def count(self) -> int:
        return int(self.index.ntotal)  # type: ignore[attr-defined]

    def search(self, vectors: np.ndarray, k: int, *, docs: frozenset[str] | None = None) -> list[Candidates]:
        queries = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        params = None
        if docs is not None:
            rows = self._rows.allowed(docs)
            if len(rows) <= self.exact_rows:
                allowed = np.asarray(self.vectors[rows], dtype=np.float32)
                return [self._rows.top_of(allowed @ q, rows, k) for q in queries]
            params = self._selector(docs, rows).params
        scores, rows = self.index.search(queries, k, params=params)  # type: ignore[attr-defined]
        return [self._rows.candidates(rows[i], scores[i]) for i in range(len(queries))]

    def _selector(self, docs: frozenset[str], rows: np.ndarray) -> FilteredSearch:
        params = self._selectors.get(docs)
        if params is None:
            allowed = np.zeros(self.count(), dtype=bool)
            allowed[rows] = True
            params = filtered_search_parameters(self.index, allowed)  # type: ignore[arg-type]
            if len(self._selectors) >= _FILTER_CACHE:
                self._selectors.pop(next(iter(self._selectors)))
            self._selectors[docs] = params
        return params


class Bm25Lexical:
    """A bm25s index (rag.lexical) over a build's chunk passages."""

    def __init__(self, index: Bm25Index, chunks: Sequence[Chunk], unit_docs: Mapping[str, str]) -> None:
        self.index = index
        self._rows = _RowIds(chunks, unit_docs)

    def count(self) -> int:
        return len(self.index)

    def analyse(self, query: str) -> list[str]:
        """The query's tokens with this index's analyser, to hand to :meth:`coverage` and
        :meth:`search` so that one request analyses its question once."""
        return self.index.analyzer(query)

    def coverage(self, query: str, *, tokens: Sequence[str] | None = None) -> float:
        return self.index.coverage(query, tokens=tokens)

    def search(
        self, queries: Sequence[str], k: int, *, docs: frozenset[str] | None = None, tokens: Sequence[Sequence[str]] | None = None
    ) -> list[Candidates]:
        """``tokens``: the queries already analysed (:meth:`analyse`), one list per query."""
        analysed = [None] * len(queries) if tokens is None else list(tokens)
        if docs is None:
            return [self._rows.candidates(*self.index.search(q, k, tokens=t)) for q, t in zip(queries, analysed, strict=True)]
        rows = self._rows.allowed(docs)
        return [
            self._rows.top_of(self.index.scores(q, tokens=t)[rows], rows, k, positive=True)
            for q, t in zip(queries, analysed, strict=True)
        ]

    def translated(
        self, concepts: Iterable[TranslatedConcept], *, max_translations: int, k: int, docs: frozenset[str] | None = None
    ) -> tuple[Candidates, float]:
        scores, share = translated_scores(self.index, concepts, max_translations=max_translations)  # type: ignore[arg-type]
        if scores is None:
            return Candidates((), (), np.empty(0, np.float32)), 0.0
        if docs is not None:
            kept = np.zeros_like(scores)
            allowed = self._rows.allowed(docs)
            kept[allowed] = scores[allowed]
            scores = kept
        rows = np.flatnonzero(scores > 0)
        if rows.size > k:
            rows = rows[np.argsort(-scores[rows], kind="stable")[:k]]
        return self._rows.candidates(rows, scores[rows]), share
