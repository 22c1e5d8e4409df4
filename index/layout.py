"""What a build folder holds: the manifest and the loaded index (records are in index.docstore)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from index.builds import IndexUnavailableError
from index.docstore import DocumentStore
from index.sentence_vectors import SentenceVectors
from rag.catalogue import DocumentMeta
from rag.chunking import Chunk
from rag.lexical import LexicalIndex
from rag.units import Unit

__all__ = [
    "FORMAT_VERSION",
    "IndexManifest",
    "IndexMismatchError",
    "LoadedIndex",
    "read_manifest",
]

FORMAT_VERSION = 2  # 2: units, chunk and sentence spans in store.sqlite (index.docstore) instead of JSONL


class IndexMismatchError(IndexUnavailableError):
    """The index was built with another model, chunking or format than the one asked for."""


class IndexManifest(BaseModel):
    model_config = ConfigDict(frozen=True)

    format_version: int
    package_version: str
    created: str
    model_id: str
    dimension: int
    chunking: dict[str, object]
    lexical_analyzer_version: int
    corpus_hash: str
    documents: int
    units: int
    chunks: int
    sentences: int
    dense_index: str
    dense_params: dict[str, int | float] = {}  # index.dense.dense_index_params; empty in older builds
    sentence_vectors: str = "float32"  # storage of sentence_vectors.npy: "int8" (+ scales) since issue 12


@dataclass(frozen=True)
class LoadedIndex:
    """Everything search needs, read from one build directory."""

    path: Path
    manifest: IndexManifest
    documents: dict[str, DocumentMeta]
    units: Mapping[str, Unit]  # index.views.UnitsView: records read from the store on demand
    chunks: Sequence[Chunk]  # row i = FAISS row i (index.views.SpansView)
    vectors: np.ndarray  # memory-mapped: rows are read when a filtered search scores them
    dense: object  # faiss.Index
    lexical: LexicalIndex
    sentences: Sequence[Chunk]  # sentence spans of retrievable units, same shape as chunks
    sentence_vectors: SentenceVectors  # memory-mapped; indexing returns float32 rows
    sentence_rows: Mapping[str, range]  # unit id -> rows of its sentences
    paragraphs: Mapping[str, dict[int, Unit]]  # doc -> paragraph number -> paragraph (first of duplicates), in order
    sub_units: Mapping[str, tuple[Unit, ...]]  # paragraph id -> its sub-units, in order
    store: DocumentStore  # the records on disk, and the compact row maps ranking uses

    def unit_sentences(self, unit_id: str) -> list[tuple[Chunk, np.ndarray]]:
        rows = self.sentence_rows.get(unit_id, range(0))
        if not rows:
            return []
        spans = self.sentences[rows.start : rows.stop]
        vectors = self.sentence_vectors[rows.start : rows.stop]
        return list(zip(spans, vectors, strict=True))


def read_manifest(build: Path) -> IndexManifest:
    return IndexManifest.model_validate_json((build / "manifest.json").read_text(encoding="utf-8"))
