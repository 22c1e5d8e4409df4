"""The index directory: build it atomically, reuse unchanged embeddings (and re-export loading).

Pointers, locking, pruning and rollback are in :mod:`index.builds`; loading with checks in
:mod:`index.load`; the file records in :mod:`index.layout`. Layout of ``<index dir>``::

    CURRENT                 name of the live build (replaced atomically with os.replace)
    PREVIOUS                the build before it, kept for ``rag index rollback``
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
``CURRENT`` pointer, so a build killed midway leaves the previous index untouched and usable;
older builds are pruned only after the switch, keeping the previous one.
Embeddings are keyed by (model id, text hash), shared by chunks and sentences: a rebuild
embeds only text it has not seen, and a sentence identical to a chunk is embedded once.
"""

from __future__ import annotations

import hashlib
import json
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

from index.builds import (
    BUILDS,
    CURRENT,
    PREVIOUS,
    IndexBuildError,
    IndexMissingError,
    IndexUnavailableError,
    build_lock,
    check_directory,
    clean_leftovers_if_idle,
    fsync_tree,
    live_build,
    live_build_id,
    point,
    remove_old_builds,
    rollback,
    write_failure,
)
from index.dense import DEFAULT_EXACT_MAX, build_dense_index, dense_index_kind, save_dense_index
from index.layout import (
    FORMAT_VERSION,
    IndexManifest,
    IndexMismatchError,
    LoadedIndex,
    read_manifest,
    unit_record,
    write_spans,
)
from index.load import load_index
from rag.catalogue import DocumentMeta
from rag.chunking import Chunk, ChunkingParams, chunk_units
from rag.lexical import ANALYZER_VERSION, LexicalIndex
from rag.sentences import split_sentences
from rag.units import ParsedDocument, Unit

__all__ = [
    "FORMAT_VERSION",
    "BuildReport",
    "IndexBuildError",
    "IndexManifest",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexUnavailableError",
    "LoadedIndex",
    "build_index",
    "live_build_id",
    "load_index",
    "rollback",
]


def _package_version() -> str:
    try:
        return version("un-rag")
    except PackageNotFoundError:
        return "0+unknown"


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


def _reusable_vectors(index_dir: Path, model_id: str) -> dict[str, np.ndarray]:
    """Vectors of the live build by chunk content hash, when it used the same model."""
    build = live_build(index_dir)
    if build is None:
        return {}
    try:
        manifest = read_manifest(build)
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
    check_directory(index_dir)
    if not documents:
        raise ValueError("no documents to index")
    units = [u for d in documents for u in d.units]
    chunks = chunk_units(units, chunking)
    if not chunks:
        raise ValueError("the documents contain no retrievable text (all files empty?)")
    hash_ = corpus_hash(documents, metadata, chunking)

    live = live_build(index_dir)
    if live is not None and not force:
        try:
            manifest = read_manifest(live)
            same = manifest.corpus_hash == hash_ and manifest.model_id == model_id and manifest.format_version == FORMAT_VERSION
            if same and (manifest.sentences > 0) == with_sentences:
                clean_leftovers_if_idle(index_dir)
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

    with build_lock(index_dir):
        final, manifest = _write_new_build(
            index_dir, documents, metadata, units, chunks, sentences, vectors, sentence_vectors,
            model_id=model_id, dimension=int(dimension), chunking=chunking, corpus_hash_=hash_, exact_max=exact_max,
        )
    reused = sum(1 for c in (*chunks, *sentences) if c.content_hash not in texts)
    return BuildReport(final, manifest, len(texts), reused, False, time.perf_counter() - started)


def _write_new_build(
    index_dir: Path,
    documents: Sequence[ParsedDocument],
    metadata: dict[str, DocumentMeta],
    units: Sequence[Unit],
    chunks: Sequence[Chunk],
    sentences: Sequence[Chunk],
    vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    *,
    model_id: str,
    dimension: int,
    chunking: ChunkingParams,
    corpus_hash_: str,
    exact_max: int,
) -> tuple[Path, IndexManifest]:
    """Write a build beside the live one, then switch ``CURRENT``; on any failure only the new folder goes."""
    build_id = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    staging = index_dir / BUILDS / f".{build_id}.partial"
    previous = live_build_id(index_dir) if live_build(index_dir) is not None else None
    try:
        staging.mkdir()
        dense = build_dense_index(vectors, exact_max=exact_max)
        manifest = IndexManifest(
            format_version=FORMAT_VERSION,
            package_version=_package_version(),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            model_id=model_id,
            dimension=dimension,
            chunking=chunking.as_dict(),
            lexical_analyzer_version=ANALYZER_VERSION,
            corpus_hash=corpus_hash_,
            documents=len(documents),
            units=len(units),
            chunks=len(chunks),
            sentences=len(sentences),
            dense_index=dense_index_kind(dense),
        )
        _write_build(staging, manifest, documents, metadata, units, chunks, vectors, dense)
        write_spans(staging / "sentences.jsonl", sentences)
        np.save(staging / "sentence_vectors.npy", sentence_vectors)
        fsync_tree(staging)
        final = index_dir / BUILDS / build_id
        staging.rename(final)
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(error, OSError | RuntimeError):  # FAISS reports a failed write as RuntimeError
            raise IndexBuildError(write_failure(index_dir, error)) from None
        raise
    try:
        point(index_dir, CURRENT, build_id)
    except OSError as error:
        shutil.rmtree(final, ignore_errors=True)
        raise IndexBuildError(write_failure(index_dir, error)) from None
    if previous is not None:
        try:
            point(index_dir, PREVIOUS, previous)
        except OSError:
            previous = None  # the new build is live; without a PREVIOUS pointer nothing is pruned
    remove_old_builds(index_dir, keep={build_id, previous} if previous else None)
    return final, manifest


def sentence_spans(units: Sequence[Unit]) -> list[Chunk]:
    """Every sentence of every retrievable unit, as chunk-shaped records (id ``<unit>$<n>``)."""
    spans: list[Chunk] = []
    for unit in units:
        if unit.kind.retrievable:
            for n, (start, end) in enumerate(split_sentences(unit.text)):
                spans.append(Chunk(f"{unit.id}${n}", unit.id, unit.text[start:end], start, end))
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
            out.write(json.dumps(unit_record(unit), ensure_ascii=False) + "\n")
    write_spans(directory / "chunks.jsonl", chunks)
    np.save(directory / "vectors.npy", vectors)
    save_dense_index(dense, directory / "dense.faiss")
    LexicalIndex.build([c.passage for c in chunks]).save(directory / "lexical")
    (directory / "manifest.json").write_text(manifest.model_dump_json(indent=1), encoding="utf-8")


