"""Storage of builds: write one atomically beside the live one, read back what a rebuild can reuse
(and re-export loading, so callers need one import for the index on disk).

What goes into a build (parsing, chunking, embedding with reuse) is decided in :mod:`rag.build`;
this module only writes and reads files. Pointers, locking, pruning and rollback are in
:mod:`index.builds`; loading with checks in :mod:`index.load`; the file records in
:mod:`index.layout`. Layout of ``<index dir>``::

    CURRENT                 name of the live build (replaced atomically with os.replace)
    PREVIOUS                the build before it, kept for ``rag index rollback``
    builds/<build id>/
        manifest.json       model id and dimension, chunking, corpus hash, versions, counts
        documents.json      catalogue metadata and parse notes of each indexed document
        store.sqlite        the document store (index.docstore): every unit (headings included, for
                            section display); chunks: id, unit id, offsets, content hash, row i =
                            FAISS row i; sentences: the same for each sentence (evidence for answers)
        vectors.npy         float32 [chunks, dim], L2-normalised (memory-mapped on load)
        dense.faiss         FAISS index over vectors.npy (type by size: index.dense)
        sentence_vectors.npy int8 [sentences, dim] (float32 before the manifest's ``sentence_vectors``)
        sentence_scales.npy float32 [sentences]: code × scale = vector (index.sentence_vectors)
        lexical/            bm25s files

A build is written into a fresh ``builds/`` folder and only then made live by replacing the
``CURRENT`` pointer, so a build killed midway leaves the previous index untouched and usable;
older builds are pruned only after the switch, keeping the previous one.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

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
from index.dense import DEFAULT_EXACT_MAX, build_dense, dense_index_kind, save_dense_index
from index.docstore import STORE_FILE, read_hashes, write_store
from index.layout import (
    FORMAT_VERSION,
    IndexManifest,
    IndexMismatchError,
    LoadedIndex,
    read_manifest,
)
from index.load import load_index
from index.sentence_vectors import CODEC, SentenceVectors, save_sentence_vectors
from rag.analysis import ANALYZER_VERSION
from rag.catalogue import DocumentMeta
from rag.chunking import Chunk, ChunkingParams
from rag.lexical import LexicalIndex
from rag.units import ParsedDocument, Unit

__all__ = [
    "ANALYZER_VERSION",
    "DEFAULT_EXACT_MAX",
    "FORMAT_VERSION",
    "IndexBuildError",
    "IndexManifest",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexUnavailableError",
    "LoadedIndex",
    "check_directory",
    "clean_leftovers_if_idle",
    "live_build_id",
    "live_manifest",
    "load_index",
    "rollback",
    "stored_vectors",
    "write_build",
]


def _package_version() -> str:
    try:
        return version("un-rag")
    except PackageNotFoundError:
        return "0+unknown"


def live_manifest(index_dir: Path) -> tuple[Path, IndexManifest] | None:
    """The live build's folder and manifest, or None when there is none or it cannot be read."""
    build = live_build(index_dir)
    if build is None:
        return None
    try:
        return build, read_manifest(build)
    except (OSError, ValueError):
        return None


def stored_vectors(index_dir: Path, model_id: str) -> dict[str, np.ndarray]:
    """Vectors of the live build by content hash (chunks and sentences), when it used the same model."""
    build = live_build(index_dir)
    if build is None:
        return {}
    try:
        manifest = read_manifest(build)
        if manifest.model_id != model_id:
            return {}
        reuse: dict[str, np.ndarray] = {}
        stored = (("chunks", np.load(build / "vectors.npy", mmap_mode="r")),
                  ("sentences", SentenceVectors.open(build, manifest.sentence_vectors)))
        for table, vectors in stored:
            if manifest.format_version >= 2:
                hashes = read_hashes(build / STORE_FILE, table)
            else:  # format 1: JSONL records
                hashes = [json.loads(line)["hash"] for line in (build / f"{table}.jsonl").open(encoding="utf-8")]
            if len(hashes) == len(vectors):  # a chunk's exact vector wins over the same text's quantised sentence vector
                reuse.update((h, vectors[row]) for row, h in enumerate(hashes) if h not in reuse)
    except (OSError, ValueError, KeyError, sqlite3.Error, IndexUnavailableError):
        return {}  # an unreadable old build is simply not reused
    return reuse


def write_build(
    index_dir: Path,
    *,
    documents: Sequence[ParsedDocument],
    metadata: dict[str, DocumentMeta],
    units: Sequence[Unit],
    chunks: Sequence[Chunk],
    sentences: Sequence[Chunk],
    vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    model_id: str,
    chunking: ChunkingParams,
    corpus_hash: str,
    exact_max: int = DEFAULT_EXACT_MAX,
) -> tuple[Path, IndexManifest]:
    """Write a build beside the live one (one build at a time), then make it live.

    Raises:
        IndexBuildError: it could not be written (full disk, another build running); the live build is untouched.
    """
    with build_lock(index_dir):
        return _write_new_build(
            index_dir, documents, metadata, units, chunks, sentences, vectors, sentence_vectors,
            model_id=model_id, dimension=int(vectors.shape[1]), chunking=chunking, corpus_hash_=corpus_hash, exact_max=exact_max,
        )


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
        dense, dense_params = build_dense(vectors, exact_max=exact_max)
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
            dense_params=dense_params,
            sentence_vectors=CODEC,
        )
        _write_build(staging, manifest, documents, metadata, units, chunks, sentences, vectors, dense)
        save_sentence_vectors(staging, sentence_vectors)
        fsync_tree(staging)
        final = index_dir / BUILDS / build_id
        staging.rename(final)
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(error, OSError | RuntimeError | sqlite3.Error):  # FAISS reports a failed write as RuntimeError, SQLite as its own
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


def _write_build(
    directory: Path,
    manifest: IndexManifest,
    documents: Sequence[ParsedDocument],
    metadata: dict[str, DocumentMeta],
    units: Sequence[Unit],
    chunks: Sequence[Chunk],
    sentences: Sequence[Chunk],
    vectors: np.ndarray,
    dense: object,
) -> None:
    docs = {
        d.doc: {**metadata[d.doc].model_dump(mode="json"), "layout": d.layout.value, "warnings": list(d.warnings)}
        for d in documents
    }
    (directory / "documents.json").write_text(json.dumps(docs, ensure_ascii=False, indent=1), encoding="utf-8")
    write_store(directory / STORE_FILE, units, chunks, sentences)
    np.save(directory / "vectors.npy", vectors)
    save_dense_index(dense, directory / "dense.faiss")
    LexicalIndex.build([c.passage for c in chunks]).save(directory / "lexical")
    (directory / "manifest.json").write_text(manifest.model_dump_json(indent=1), encoding="utf-8")


