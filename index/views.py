"""Dict- and list-like views of a build's document store (:mod:`index.docstore`).

``LoadedIndex`` used to hold ``units``, ``chunks``, ``sentences``, ``paragraphs``, ``sub_units``
and ``sentence_rows`` as Python dicts and lists of every record. These views keep those shapes
(``index.units.get(id)``, ``index.paragraphs.get(doc, {})``, ``index.sentences[i]``…) but read
records from disk when asked: membership and sizes come from the store's row maps in RAM,
values from SQLite, the recent ones from small LRU caches.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import TypeVar

from index.docstore import BATCH, DocumentStore
from rag.chunking import Chunk
from rag.units import Unit

__all__ = ["ParagraphsView", "SentenceRowsView", "SpansView", "SubUnitsView", "UnitDocsView", "UnitsView"]

V = TypeVar("V")
_DOC_CACHE = 256  # documents whose paragraph tables are kept (a document holds at most a few hundred)
_SUB_CACHE = 4096


class _ByUnitId(Mapping[str, V]):
    """A mapping keyed by the store's unit ids: ``in``, ``len`` and iteration from the row maps in RAM."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self.store.unit_rows

    def __len__(self) -> int:
        return len(self.store)

    def __iter__(self) -> Iterator[str]:
        return iter(self.store.unit_ids)


class UnitDocsView(_ByUnitId[str]):
    """unit id → document id, read from the row maps (no dict of every unit)."""

    def __getitem__(self, unit_id: str) -> str:
        doc = self.store.doc_of(unit_id)
        if doc is None:
            raise KeyError(unit_id)
        return doc


class UnitsView(_ByUnitId[Unit]):
    """``dict[str, Unit]``-like access to a store: values fetched on demand."""

    def __getitem__(self, unit_id: str) -> Unit:
        unit = self.store.unit(unit_id) if unit_id in self.store.unit_rows else None
        if unit is None:
            raise KeyError(unit_id)
        return unit

    def get(self, unit_id: str, default: Unit | None = None) -> Unit | None:  # type: ignore[override]
        return self.store.unit(unit_id) if unit_id in self.store.unit_rows else default

    def values(self) -> Iterator[Unit]:  # type: ignore[override]
        return self.store.iter_units()

    def items(self) -> Iterator[tuple[str, Unit]]:  # type: ignore[override]
        return ((u.id, u) for u in self.store.iter_units())


class SpansView(Sequence[Chunk]):
    """``list[Chunk]``-like access to a store's chunks or sentences: rows fetched on demand."""

    def __init__(self, store: DocumentStore, table: str, count: int) -> None:
        self.store, self.table, self.count_ = store, table, count

    def __len__(self) -> int:
        return self.count_

    def __getitem__(self, key: int | slice) -> Chunk | list[Chunk]:  # type: ignore[override]
        if isinstance(key, slice):
            start, stop, step = key.indices(self.count_)
            spans = self.store.spans(self.table, start, stop) if stop > start else []
            return spans if step == 1 else spans[::step]
        row = key + self.count_ if key < 0 else key
        if not 0 <= row < self.count_:
            raise IndexError(key)
        return self.store.spans(self.table, row, row + 1)[0]

    def __iter__(self) -> Iterator[Chunk]:
        for start in range(0, self.count_, BATCH):
            yield from self.store.spans(self.table, start, min(start + BATCH, self.count_))


class ParagraphsView(Mapping[str, dict[int, Unit]]):
    """doc → paragraph number → paragraph (the first of duplicates), in order; one document read at a time."""

    def __init__(self, store: DocumentStore, docs: Sequence[str]) -> None:
        self.store = store
        self.docs = tuple(docs)
        self._known = frozenset(docs) | frozenset(store.doc_names)
        self._read = lru_cache(maxsize=_DOC_CACHE)(store.paragraphs)

    def __getitem__(self, doc: str) -> dict[int, Unit]:
        if doc not in self._known:
            raise KeyError(doc)
        return self._read(doc)

    def __contains__(self, doc: object) -> bool:
        return doc in self._known

    def __len__(self) -> int:
        return len(self._known)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys((*self.docs, *self.store.doc_names)))


class SubUnitsView(Mapping[str, tuple[Unit, ...]]):
    """paragraph id → its sub-units in order (only paragraphs that have some are keys)."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store
        self._read = lru_cache(maxsize=_SUB_CACHE)(store.sub_units)

    def __getitem__(self, parent: str) -> tuple[Unit, ...]:
        subs = self._read(parent) if parent in self.store.unit_rows else ()
        if not subs:
            raise KeyError(parent)
        return subs

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(p for p in self.store.parents if p is not None))


class SentenceRowsView(Mapping[str, range]):
    """unit id → rows of its sentence vectors (empty range for units without sentences)."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store

    def __getitem__(self, unit_id: str) -> range:
        if unit_id not in self.store.unit_rows:
            raise KeyError(unit_id)
        return self.store.sentence_rows(unit_id)

    def __len__(self) -> int:
        return len(self.store)

    def __iter__(self) -> Iterator[str]:
        return iter(self.store.unit_ids)
