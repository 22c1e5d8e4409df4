"""Building an index: units → chunks and sentences → vectors (reused by content hash) → storage.

This is the pipeline; :mod:`index.store` only writes and reads the build files. Embeddings are
keyed by (model id, text hash), shared by chunks and sentences: a rebuild embeds only text it
has not seen, and a sentence identical to a chunk is embedded once. A rebuild of an unchanged
corpus (same corpus hash, model and format) writes nothing and never loads the model.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from index.store import (
    ANALYZER_VERSION,
    DEFAULT_EXACT_MAX,
    FORMAT_VERSION,
    IndexManifest,
    check_directory,
    clean_leftovers_if_idle,
    live_manifest,
    stored_vectors,
    write_build,
)
from rag.catalogue import DocumentMeta
from rag.chunking import Chunk, ChunkingParams, chunk_units
from rag.sentences import split_sentences
from rag.units import ParsedDocument, Unit

__all__ = ["BuildReport", "EmbedderLike", "build_index", "corpus_hash", "sentence_spans"]


@dataclass(frozen=True)
class BuildReport:
    path: Path
    manifest: IndexManifest
    embedded: int  # distinct texts embedded in this build (0 when everything was reused)
    reused: int  # chunks and sentences whose vectors came from the previous build
    unchanged: bool  # the live index already matched: nothing was written
    seconds: float


class EmbedderLike(Protocol):
    """What ``build_index`` needs from an embedder (see rag.embedding.Embedder)."""

    model_id: str
    dimension: int

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray: ...


def corpus_hash(documents: Sequence[ParsedDocument], metadata: dict[str, DocumentMeta], chunking: ChunkingParams) -> str:
    """Hash of everything that determines the index content, except the model."""
    digest = hashlib.sha256()
    digest.update(json.dumps([FORMAT_VERSION, ANALYZER_VERSION, chunking.as_dict()]).encode())
    for document in sorted(documents, key=lambda d: d.doc):
        digest.update(document.doc.encode())
        digest.update(hashlib.sha256(document.source.encode("utf-8")).digest())
        digest.update(metadata[document.doc].model_dump_json().encode())
    return digest.hexdigest()


def sentence_spans(units: Sequence[Unit]) -> list[Chunk]:
    """Every sentence of every retrievable unit, as chunk-shaped records (id ``<unit>$<n>``)."""
    spans: list[Chunk] = []
    for unit in units:
        if unit.kind.retrievable:
            for n, (start, end) in enumerate(split_sentences(unit.text)):
                spans.append(Chunk(f"{unit.id}${n}", unit.id, unit.text[start:end], start, end))
    return spans


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
        IndexBuildError: the build could not be written; the live build is untouched.
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

    live = None if force else live_manifest(index_dir)
    if live is not None:
        build, manifest = live
        same = manifest.corpus_hash == hash_ and manifest.model_id == model_id and manifest.format_version == FORMAT_VERSION
        if same and (manifest.sentences > 0) == with_sentences:
            clean_leftovers_if_idle(index_dir)
            return BuildReport(build, manifest, 0, manifest.chunks, True, time.perf_counter() - started)

    sentences = sentence_spans(units) if with_sentences else []
    vectors, sentence_vectors, embedded = _embed(chunks, sentences, stored_vectors(index_dir, model_id), load_embedder, show_progress)
    final, manifest = write_build(
        index_dir, documents=documents, metadata=metadata, units=units, chunks=chunks, sentences=sentences,
        vectors=vectors, sentence_vectors=sentence_vectors, model_id=model_id, chunking=chunking,
        corpus_hash=hash_, exact_max=exact_max,
    )
    reused = len(chunks) + len(sentences) - sum(1 for c in (*chunks, *sentences) if c.content_hash in embedded)
    return BuildReport(final, manifest, len(embedded), reused, False, time.perf_counter() - started)


def _embed(
    chunks: Sequence[Chunk],
    sentences: Sequence[Chunk],
    stored: dict[str, np.ndarray],
    load_embedder: Callable[[], EmbedderLike],
    show_progress: bool,
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Chunk and sentence vectors: stored ones reused, each distinct new text embedded once (a
    one-sentence chunk is also a sentence; a sentence repeated across documents is one text).

    Returns the two matrices and the new texts' hashes with their rows in the embedded batch.
    """
    new: dict[str, int] = {}
    texts: list[str] = []
    for span in (*chunks, *sentences):
        if span.content_hash not in stored and span.content_hash not in new:
            new[span.content_hash] = len(texts)
            texts.append(span.passage)
    encoded = load_embedder().encode_passages(texts, show_progress=show_progress) if texts else None
    dimension = encoded.shape[1] if encoded is not None else len(next(iter(stored.values())))

    def matrix(spans: Sequence[Chunk]) -> np.ndarray:
        out = np.empty((len(spans), dimension), np.float32)
        for row, span in enumerate(spans):
            found = new.get(span.content_hash)
            out[row] = encoded[found] if found is not None else stored[span.content_hash]  # type: ignore[index]
        return out

    return matrix(chunks), matrix(sentences), new
