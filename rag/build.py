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


def corpus_hash(
    documents: Sequence[ParsedDocument], metadata: dict[str, DocumentMeta], chunking: ChunkingParams, *, pooled_sentences: bool = False
) -> str:
    """Hash of everything that determines the index content, except the model."""
    digest = hashlib.sha256()
    digest.update(json.dumps([FORMAT_VERSION, ANALYZER_VERSION, chunking.as_dict()]).encode())
    if pooled_sentences:  # only then, so the hashes of existing indexes stay what they were
        digest.update(b"sentences pooled from chunks")
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
    pool_sentences: bool = False,
) -> BuildReport:
    """Build (or confirm) the index for ``documents`` in ``index_dir``.

    ``load_embedder`` is called only if some chunk has no reusable vector, so a rebuild of an
    unchanged corpus never loads the model. ``pool_sentences``: a sentence inside a chunk embedded
    in this build gets the mean of its tokens' states from the chunk's pass (one encoder pass per
    chunk instead of one more per sentence); it is part of the corpus hash, so switching rebuilds.

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
    hash_ = corpus_hash(documents, metadata, chunking, pooled_sentences=pool_sentences and with_sentences)

    live = None if force else live_manifest(index_dir)
    if live is not None:
        build, manifest = live
        same = manifest.corpus_hash == hash_ and manifest.model_id == model_id and manifest.format_version == FORMAT_VERSION
        if same and (manifest.sentences > 0) == with_sentences:
            clean_leftovers_if_idle(index_dir)
            return BuildReport(build, manifest, 0, manifest.chunks, True, time.perf_counter() - started)

    sentences = sentence_spans(units) if with_sentences else []
    vectors, sentence_vectors, embedded = _embed(
        chunks, sentences, stored_vectors(index_dir, model_id), load_embedder, show_progress, pool_sentences=pool_sentences
    )
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
    *,
    pool_sentences: bool = False,
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Chunk and sentence vectors: stored ones reused, each distinct new text embedded once (a
    one-sentence chunk is also a sentence; a sentence repeated across documents is one text).
    With ``pool_sentences``, a new sentence inside a new chunk is pooled from that chunk's pass
    (the first such chunk, so a build is deterministic); the others are embedded on their own.

    Returns the two matrices and the new texts' hashes with their rows in the embedded batch.
    """
    new: dict[str, int] = {}
    texts: list[str] = []
    for span in chunks:
        if span.content_hash not in stored and span.content_hash not in new:
            new[span.content_hash] = len(texts)
            texts.append(span.passage)
    hosted: dict[str, tuple[int, tuple[int, int]]] = {}  # sentence hash -> (chunk text row, span in its passage)
    if pool_sentences and sentences:
        hosted = _sentence_hosts(chunks, sentences, stored, new)
    for span in sentences:
        if span.content_hash not in stored and span.content_hash not in new and span.content_hash not in hosted:
            new[span.content_hash] = len(texts)
            texts.append(span.passage)
    encoded: np.ndarray | None = None
    if texts:
        embedder = load_embedder()
        pools = hosted and getattr(embedder, "pools_spans", False)
        if not pools:  # no host, or an encoder without token states: every sentence on its own
            passages = {s.content_hash: s.passage for s in sentences}
            for key in hosted:
                new[key] = len(texts)
                texts.append(passages[key])
            encoded = embedder.encode_passages(texts, show_progress=show_progress)
        else:
            encoded = _encode_pooled(embedder, texts, hosted, sentences, new, show_progress)
    dimension = encoded.shape[1] if encoded is not None else len(next(iter(stored.values())))

    def matrix(spans: Sequence[Chunk]) -> np.ndarray:
        out = np.empty((len(spans), dimension), np.float32)
        for row, span in enumerate(spans):
            found = new.get(span.content_hash)
            out[row] = encoded[found] if found is not None else stored[span.content_hash]  # type: ignore[index]
        return out

    return matrix(chunks), matrix(sentences), new


def _sentence_hosts(
    chunks: Sequence[Chunk], sentences: Sequence[Chunk], stored: dict[str, np.ndarray], new: dict[str, int]
) -> dict[str, tuple[int, tuple[int, int]]]:
    """For each new sentence (not stored, not a new chunk's text), the first chunk embedded in this
    build that holds all of it, with the sentence's character span in that chunk's passage."""
    by_unit: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        if chunk.content_hash in new:
            by_unit.setdefault(chunk.unit_id, []).append(chunk)
    hosted: dict[str, tuple[int, tuple[int, int]]] = {}
    for sentence in sentences:
        key = sentence.content_hash
        if key in stored or key in new or key in hosted:
            continue
        for chunk in by_unit.get(sentence.unit_id, ()):
            if chunk.start <= sentence.start and sentence.end <= chunk.end:
                at = (len(chunk.context) + 1 if chunk.context else 0) + sentence.start - chunk.start
                if chunk.passage[at : at + len(sentence.text)] == sentence.text:  # the splitter may have trimmed the chunk
                    hosted[key] = (new[chunk.content_hash], (at, at + len(sentence.text)))
                    break
    return hosted


def _encode_pooled(
    embedder: EmbedderLike,
    texts: list[str],
    hosted: dict[str, tuple[int, tuple[int, int]]],
    sentences: Sequence[Chunk],
    new: dict[str, int],
    show_progress: bool,
) -> np.ndarray:
    """One pass over ``texts`` with the hosted sentences pooled from their chunks' token states;
    a sentence past the encoder's truncation is embedded on its own afterwards. Appends the
    sentences' rows to ``new``."""
    spans: list[list[tuple[int, int]]] = [[] for _ in texts]
    keys: list[list[str]] = [[] for _ in texts]
    for key, (row, span) in hosted.items():
        spans[row].append(span)
        keys[row].append(key)
    vectors, pooled, found = embedder.encode_passages_with_spans(texts, spans, show_progress=show_progress)  # type: ignore[attr-defined]
    order = [key for row_keys in keys for key in row_keys]
    missing = [key for key, ok in zip(order, found, strict=True) if not ok]
    rows = [vectors]
    base = len(texts)
    for n, key in enumerate(k for k, ok in zip(order, found, strict=True) if ok):
        new[key] = base + n
    rows.append(pooled[found])
    if missing:
        passages = {s.content_hash: s.passage for s in sentences}
        rows.append(embedder.encode_passages([passages[k] for k in missing]))
        base += int(found.sum())
        for n, key in enumerate(missing):
            new[key] = base + n
    return np.concatenate(rows)
