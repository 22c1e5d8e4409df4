"""What a build folder holds: the manifest, the loaded index, and the records of its JSONL files."""

from __future__ import annotations

import json
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
from rag.units import SourceSpan, Unit, UnitKind

__all__ = [
    "FORMAT_VERSION",
    "IndexManifest",
    "IndexMismatchError",
    "LoadedIndex",
    "read_manifest",
    "read_spans",
    "unit_from_record",
    "unit_record",
    "write_spans",
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


def unit_record(unit: Unit) -> dict[str, object]:
    record = unit.to_record()
    record.update(
        spans=[[s.text_start, s.start, s.end] for s in unit.spans],
        marker=list(unit.marker) if unit.marker else None,
        parent=unit.parent,
    )
    return record


def unit_from_record(record: dict) -> Unit:
    return Unit(
        id=record["id"],
        doc=record["doc"],
        kind=UnitKind(record["kind"]),
        para=record["para"],
        sub=record["sub"],
        section=tuple(record["section"]),
        text=record["text"],
        start=record["start"],
        end=record["end"],
        spans=tuple(SourceSpan(*s) for s in record["spans"]),
        marker=tuple(record["marker"]) if record["marker"] else None,
        parent=record["parent"],
        label=record["label"],
        page=record.get("page"),  # absent in indexes built before pages were recorded
    )


def write_spans(path: Path, spans: Sequence[Chunk]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for span in spans:
            record = {"id": span.id, "unit": span.unit_id, "start": span.start, "end": span.end, "hash": span.content_hash}
            if span.context:
                record["context"] = span.context
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_spans(path: Path, units: dict[str, Unit]) -> list[Chunk]:
    spans = []
    for line in path.open(encoding="utf-8"):
        record = json.loads(line)
        unit = units[record["unit"]]
        text = unit.text[record["start"] : record["end"]]
        spans.append(Chunk(record["id"], record["unit"], text, record["start"], record["end"], record.get("context", "")))
    return spans

