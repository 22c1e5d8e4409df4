"""The index directory: build it atomically, reuse unchanged embeddings, load it with checks.

Layout of ``<index dir>``::

    CURRENT                 name of the live build (replaced atomically with os.replace)
    builds/<build id>/
        manifest.json       model id and dimension, chunking, corpus hash, versions, counts
        documents.json      catalogue metadata and parse notes of each indexed document
        units.jsonl         every unit (headings included, for section display)
        chunks.jsonl        chunk id, unit id, offsets, content hash; row i = FAISS row i
        vectors.npy         float32 [chunks, dim], L2-normalised
        dense.faiss         FAISS index over vectors.npy
        sentences.jsonl     unit id and offsets of each sentence (evidence for answers)
        sentence_vectors.npy float32 [sentences, dim]
        lexical/            bm25s files

A build is written into a fresh ``builds/`` folder and only then made live by replacing the
``CURRENT`` pointer, so a build killed midway leaves the previous index untouched and usable.
Embeddings are keyed by (model id, text hash), shared by chunks and sentences: a rebuild
embeds only text it has not seen, and a sentence identical to a chunk is embedded once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict

from index.dense import DEFAULT_EXACT_MAX, build_dense_index, dense_index_kind, load_dense_index, save_dense_index
from rag.catalogue import DocumentMeta
from rag.chunking import Chunk, ChunkingParams, chunk_units
from rag.lexical import ANALYZER_VERSION, LexicalIndex
from rag.sentences import split_sentences
from rag.units import ParsedDocument, SourceSpan, Unit, UnitKind

__all__ = [
    "FORMAT_VERSION",
    "BuildReport",
    "IndexManifest",
    "IndexMismatchError",
    "IndexUnavailableError",
    "LoadedIndex",
    "build_index",
    "load_index",
]

FORMAT_VERSION = 1
_CURRENT = "CURRENT"
_BUILDS = "builds"


class IndexUnavailableError(RuntimeError):
    """The index is missing or unreadable; the message says how to (re)build it."""


class IndexMismatchError(IndexUnavailableError):
    """The index was built with another model, chunking or format than the one asked for."""


def _package_version() -> str:
    try:
        return version("un-rag")
    except PackageNotFoundError:
        return "0+unknown"


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


@dataclass(frozen=True)
class LoadedIndex:
    """Everything search needs, read from one build directory."""

    path: Path
    manifest: IndexManifest
    documents: dict[str, DocumentMeta]
    units: dict[str, Unit]
    chunks: list[Chunk]
    vectors: np.ndarray
    dense: object  # faiss.Index
    lexical: LexicalIndex
    sentences: list[Chunk]  # sentence spans of retrievable units, same shape as chunks
    sentence_vectors: np.ndarray
    sentence_rows: dict[str, range]  # unit id -> rows of its sentences
    paragraphs: dict[str, dict[int, Unit]]  # doc -> paragraph number -> paragraph (first of duplicates), in order
    sub_units: dict[str, tuple[Unit, ...]]  # paragraph id -> its sub-units, in order

    def unit_sentences(self, unit_id: str) -> list[tuple[Chunk, np.ndarray]]:
        rows = self.sentence_rows.get(unit_id, range(0))
        return [(self.sentences[i], self.sentence_vectors[i]) for i in rows]


@dataclass(frozen=True)
class BuildReport:
    path: Path
    manifest: IndexManifest
    embedded: int  # distinct texts embedded in this build (0 when everything was reused)
    reused: int  # chunks and sentences whose vectors came from the previous build
    unchanged: bool  # the live index already matched: nothing was written
    seconds: float


def corpus_hash(documents: Sequence[ParsedDocument], metadata: dict[str, DocumentMeta], chunking: ChunkingParams) -> str:
    """Hash of everything that determines the index content, except the model."""
    digest = hashlib.sha256()
    digest.update(json.dumps([FORMAT_VERSION, ANALYZER_VERSION, chunking.as_dict()]).encode())
    for document in sorted(documents, key=lambda d: d.doc):
        digest.update(document.doc.encode())
        digest.update(hashlib.sha256(document.source.encode("utf-8")).digest())
        digest.update(metadata[document.doc].model_dump_json().encode())
    return digest.hexdigest()


def _live_build(index_dir: Path) -> Path | None:
    pointer = index_dir / _CURRENT
    if not pointer.is_file():
        return None
    build = index_dir / _BUILDS / pointer.read_text(encoding="utf-8").strip()
    return build if build.is_dir() else None


def _read_manifest(build: Path) -> IndexManifest:
    return IndexManifest.model_validate_json((build / "manifest.json").read_text(encoding="utf-8"))


def _unit_record(unit: Unit) -> dict[str, object]:
    record = unit.to_record()
    record.update(
        spans=[[s.text_start, s.start, s.end] for s in unit.spans],
        marker=list(unit.marker) if unit.marker else None,
        parent=unit.parent,
    )
    return record


def _unit_from_record(record: dict) -> Unit:
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


def _reusable_vectors(index_dir: Path, model_id: str) -> dict[str, np.ndarray]:
    """Vectors of the live build by chunk content hash, when it used the same model."""
    build = _live_build(index_dir)
    if build is None:
        return {}
    try:
        manifest = _read_manifest(build)
        if manifest.model_id != model_id:
            return {}
        reuse: dict[str, np.ndarray] = {}
        for table, array in (("chunks.jsonl", "vectors.npy"), ("sentences.jsonl", "sentence_vectors.npy")):
            vectors = np.load(build / array)
            hashes = [json.loads(line)["hash"] for line in (build / table).open(encoding="utf-8")]
            if len(hashes) == len(vectors):
                reuse.update(zip(hashes, vectors, strict=True))
    except (OSError, ValueError, KeyError):
        return {}  # an unreadable old build is simply not reused
    return reuse


class EmbedderLike(Protocol):
    """What ``build_index`` needs from an embedder (see rag.embedding.Embedder)."""

    model_id: str
    dimension: int

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray: ...


def build_index(
    *,
    index_dir: Path,
    documents: Sequence[ParsedDocument],
    metadata: dict[str, DocumentMeta],
    model_id: str,
    load_embedder: Callable[[], EmbedderLike],
    chunking: ChunkingParams,
    exact_max: int = DEFAULT_EXACT_MAX,
    show_progress: bool = False,
    force: bool = False,
    with_sentences: bool = True,
) -> BuildReport:
    """Build (or confirm) the index for ``documents`` in ``index_dir``.

    ``load_embedder`` is called only if some chunk has no reusable vector, so a rebuild of an
    unchanged corpus never loads the model.

    Raises:
        ValueError: there is nothing to index (no documents, or no retrievable text).
    """
    started = time.perf_counter()
    if not documents:
        raise ValueError("no documents to index")
    units = [u for d in documents for u in d.units]
    chunks = chunk_units(units, chunking)
    if not chunks:
        raise ValueError("the documents contain no retrievable text (all files empty?)")
    hash_ = corpus_hash(documents, metadata, chunking)

    live = _live_build(index_dir)
    if live is not None and not force:
        try:
            manifest = _read_manifest(live)
            same = manifest.corpus_hash == hash_ and manifest.model_id == model_id and manifest.format_version == FORMAT_VERSION
            if same and (manifest.sentences > 0) == with_sentences:
                return BuildReport(live, manifest, 0, manifest.chunks, True, time.perf_counter() - started)
        except (OSError, ValueError):
            pass

    sentences = sentence_spans(units) if with_sentences else []
    reuse = _reusable_vectors(index_dir, model_id)
    texts = {c.content_hash: c.passage for c in (*chunks, *sentences) if c.content_hash not in reuse}
    if texts:
        embedder = load_embedder()
        encoded = embedder.encode_passages(list(texts.values()), show_progress=show_progress)
        reuse.update(zip(texts.keys(), encoded, strict=True))
    dimension = len(next(iter(reuse.values())))
    vectors = np.stack([reuse[c.content_hash] for c in chunks]).astype(np.float32)
    sentence_vectors = (
        np.stack([reuse[c.content_hash] for c in sentences]).astype(np.float32) if sentences else np.zeros((0, dimension), np.float32)
    )

    index_dir.mkdir(parents=True, exist_ok=True)
    build_id = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    staging = index_dir / _BUILDS / f".{build_id}.partial"
    staging.mkdir(parents=True)
    try:
        dense = build_dense_index(vectors, exact_max=exact_max)
        manifest = IndexManifest(
            format_version=FORMAT_VERSION,
            package_version=_package_version(),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            model_id=model_id,
            dimension=int(dimension),
            chunking=chunking.as_dict(),
            lexical_analyzer_version=ANALYZER_VERSION,
            corpus_hash=hash_,
            documents=len(documents),
            units=len(units),
            chunks=len(chunks),
            sentences=len(sentences),
            dense_index=dense_index_kind(dense),
        )
        _write_build(staging, manifest, documents, metadata, units, chunks, vectors, dense)
        _write_spans(staging / "sentences.jsonl", sentences)
        np.save(staging / "sentence_vectors.npy", sentence_vectors)
        final = index_dir / _BUILDS / build_id
        staging.rename(final)
        _point_current(index_dir, build_id)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _remove_old_builds(index_dir, keep=build_id)
    reused = sum(1 for c in (*chunks, *sentences) if c.content_hash not in texts)
    return BuildReport(final, manifest, len(texts), reused, False, time.perf_counter() - started)


def sentence_spans(units: Sequence[Unit]) -> list[Chunk]:
    """Every sentence of every retrievable unit, as chunk-shaped records (id ``<unit>$<n>``)."""
    spans: list[Chunk] = []
    for unit in units:
        if unit.kind.retrievable:
            for n, (start, end) in enumerate(split_sentences(unit.text)):
                spans.append(Chunk(f"{unit.id}${n}", unit.id, unit.text[start:end], start, end))
    return spans


def _write_spans(path: Path, spans: Sequence[Chunk]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for span in spans:
            record = {"id": span.id, "unit": span.unit_id, "start": span.start, "end": span.end, "hash": span.content_hash}
            if span.context:
                record["context"] = span.context
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def _read_spans(path: Path, units: dict[str, Unit]) -> list[Chunk]:
    spans = []
    for line in path.open(encoding="utf-8"):
        record = json.loads(line)
        unit = units[record["unit"]]
        text = unit.text[record["start"] : record["end"]]
        spans.append(Chunk(record["id"], record["unit"], text, record["start"], record["end"], record.get("context", "")))
    return spans


def _write_build(
    directory: Path,
    manifest: IndexManifest,
    documents: Sequence[ParsedDocument],
    metadata: dict[str, DocumentMeta],
    units: Sequence[Unit],
    chunks: Sequence[Chunk],
    vectors: np.ndarray,
    dense: object,
) -> None:
    docs = {
        d.doc: {**metadata[d.doc].model_dump(mode="json"), "layout": d.layout.value, "warnings": list(d.warnings)}
        for d in documents
    }
    (directory / "documents.json").write_text(json.dumps(docs, ensure_ascii=False, indent=1), encoding="utf-8")
    with (directory / "units.jsonl").open("w", encoding="utf-8") as out:
        for unit in units:
            out.write(json.dumps(_unit_record(unit), ensure_ascii=False) + "\n")
    _write_spans(directory / "chunks.jsonl", chunks)
    np.save(directory / "vectors.npy", vectors)
    save_dense_index(dense, directory / "dense.faiss")
    LexicalIndex.build([c.passage for c in chunks]).save(directory / "lexical")
    (directory / "manifest.json").write_text(manifest.model_dump_json(indent=1), encoding="utf-8")


def _point_current(index_dir: Path, build_id: str) -> None:
    tmp = index_dir / f".{_CURRENT}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(build_id + "\n", encoding="utf-8")
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, index_dir / _CURRENT)


def _remove_old_builds(index_dir: Path, *, keep: str) -> None:
    for build in (index_dir / _BUILDS).iterdir():
        if build.name != keep and not build.name.endswith(".partial"):
            shutil.rmtree(build, ignore_errors=True)


def load_index(
    index_dir: Path,
    *,
    model_id: str | None = None,
    chunking: ChunkingParams | None = None,
) -> LoadedIndex:
    """Open the live build of ``index_dir``, refusing one built for other settings.

    Raises:
        IndexUnavailableError: no index there, or it is unreadable.
        IndexMismatchError: built with another model, chunking or format version.
    """
    rebuild = f"rebuild it with: rag build --index-dir {index_dir}"
    build = _live_build(index_dir)
    if build is None:
        raise IndexUnavailableError(f"no index found in {index_dir}; {rebuild}")
    try:
        manifest = _read_manifest(build)
    except (OSError, ValueError) as error:
        raise IndexUnavailableError(f"unreadable index manifest in {build}: {error}; {rebuild}") from error
    problems = []
    if manifest.format_version != FORMAT_VERSION:
        problems.append(f"index format {manifest.format_version}, this version reads {FORMAT_VERSION}")
    if model_id is not None and manifest.model_id != model_id:
        problems.append(f"built with model {manifest.model_id!r}, configured model is {model_id!r}")
    if chunking is not None and manifest.chunking != json.loads(json.dumps(chunking.as_dict())):
        problems.append(f"built with chunking {manifest.chunking}, configured {chunking.as_dict()}")
    if manifest.lexical_analyzer_version != ANALYZER_VERSION:
        problems.append(f"lexical analyser version {manifest.lexical_analyzer_version}, this version uses {ANALYZER_VERSION}")
    if problems:
        raise IndexMismatchError(f"the index in {index_dir} does not match this configuration: {'; '.join(problems)}; {rebuild}")
    try:
        documents = {
            doc: DocumentMeta.model_validate({k: v for k, v in record.items() if k not in ("layout", "warnings")})
            for doc, record in json.loads((build / "documents.json").read_text(encoding="utf-8")).items()
        }
        units = {}
        for line in (build / "units.jsonl").open(encoding="utf-8"):
            unit = _unit_from_record(json.loads(line))
            units[unit.id] = unit
        chunks = _read_spans(build / "chunks.jsonl", units)
        sentences = _read_spans(build / "sentences.jsonl", units)
        sentence_vectors = np.load(build / "sentence_vectors.npy")
        vectors = np.load(build / "vectors.npy")
        dense = load_dense_index(build / "dense.faiss")
        lexical = LexicalIndex.load(build / "lexical")
    except (OSError, ValueError, KeyError) as error:
        raise IndexUnavailableError(f"the index in {build} is damaged ({error}); {rebuild}") from error
    if not (len(chunks) == len(vectors) == dense.ntotal == len(lexical) == manifest.chunks) or len(sentences) != len(
        sentence_vectors
    ):
        raise IndexUnavailableError(f"the index in {build} is inconsistent (chunk and vector counts differ); {rebuild}")
    rows: dict[str, range] = {}
    for row, sentence in enumerate(sentences):
        first = rows.get(sentence.unit_id)
        rows[sentence.unit_id] = range(first.start if first else row, row + 1)
    paragraphs: dict[str, dict[int, Unit]] = {doc: {} for doc in documents}
    sub_units: dict[str, list[Unit]] = {}
    for unit in units.values():
        if unit.kind is UnitKind.PARAGRAPH and unit.para is not None:
            paragraphs.setdefault(unit.doc, {}).setdefault(unit.para, unit)
        elif unit.parent is not None:
            sub_units.setdefault(unit.parent, []).append(unit)
    paragraphs = {doc: dict(sorted(numbers.items())) for doc, numbers in paragraphs.items()}
    return LoadedIndex(
        build, manifest, documents, units, chunks, vectors, dense, lexical, sentences, sentence_vectors, rows,
        paragraphs, {parent: tuple(subs) for parent, subs in sub_units.items()},
    )
