"""Storage interfaces: where dense and lexical candidates come from, addressed by chunk id.

The retriever asks a :class:`DenseIndex` and a :class:`LexicalIndex` for candidates and fuses
them itself (:mod:`rag.fusion`), so ranking never depends on a store's own rankers. Results
carry string chunk ids and their unit ids, not row numbers, so a store that adds and removes
chunks in place (Milvus) and the immutable local build (FAISS + bm25s, :mod:`index.backends.local`)
answer through one interface. ``docs`` (the documents a filter allows; None = all) is applied
by the store before ranking, so a narrow filter still fills k; the retriever checks candidates
again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Candidates", "ChunkRecord", "ChunkWriter", "DenseIndex", "LexicalIndex", "TranslatedConcept"]


@dataclass(frozen=True, slots=True)
class Candidates:
    """Ranked chunks, best first: ``ids[i]`` is a chunk id, ``units[i]`` its unit, ``scores[i]`` its score."""

    ids: tuple[str, ...]
    units: tuple[str, ...]
    scores: np.ndarray  # float32, same length as ids

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    """One indexed chunk with the document metadata a store keeps beside it (for filters)."""

    id: str
    unit: str
    doc: str
    body: str  # what is embedded and lexically indexed (Chunk.passage)
    language: str  # "zh" or "en": picks the lexical analyser
    symbol: str = ""
    session: int = -1  # -1: unknown
    date: str = ""


class TranslatedConcept(Protocol):
    """One English word's Chinese translations with weights (rag.crosslingual.Concept)."""

    translations: Sequence[tuple[str, float]]


@runtime_checkable
class DenseIndex(Protocol):
    """Nearest chunks by inner product of L2-normalised vectors (cosine)."""

    def count(self) -> int: ...

    def search(self, vectors: np.ndarray, k: int, *, docs: frozenset[str] | None = None) -> list[Candidates]:
        """Top ``k`` chunks for each row of ``vectors`` (float32 [n, dim])."""
        ...


@runtime_checkable
class LexicalIndex(Protocol):
    """BM25 candidates, the query's lexical coverage, and the translated-question channel."""

    def count(self) -> int: ...

    def search(self, queries: Sequence[str], k: int, *, docs: frozenset[str] | None = None) -> list[Candidates]: ...

    def coverage(self, query: str) -> float:
        """Share of the query's terms that occur in the indexed text (0 when none)."""
        ...

    def translated(
        self, concepts: Iterable[TranslatedConcept], *, max_translations: int, k: int, docs: frozenset[str] | None = None
    ) -> tuple[Candidates, float]:
        """Structured BM25 of a dictionary-translated question (rag.translated_scoring) and its share."""
        ...


@runtime_checkable
class ChunkWriter(Protocol):
    """Incremental writes; a store that keeps dense and lexical data in one row takes both at once."""

    def add(self, records: Sequence[ChunkRecord], vectors: np.ndarray) -> None: ...

    def remove_units(self, unit_ids: Sequence[str]) -> int:
        """Remove every chunk of these units; returns how many chunks were removed."""
        ...

