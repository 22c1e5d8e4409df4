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

import errno
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Protocol

import numpy as np
from filelock import FileLock, Timeout
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

FORMAT_VERSION = 1
_CURRENT = "CURRENT"
_PREVIOUS = "PREVIOUS"
_BUILDS = "builds"
_LOCK = ".build.lock"


class IndexUnavailableError(RuntimeError):
    """The index is missing or unreadable; the message says how to (re)build it."""


class IndexMissingError(IndexUnavailableError):
    """There is no index at all in the directory (nothing would be lost by building one)."""


class IndexMismatchError(IndexUnavailableError):
    """The index was built with another model, chunking or format than the one asked for."""


class IndexBuildError(RuntimeError):
    """A build could not be written (full disk, not a directory, another build running); the live build is untouched."""


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


def _pointer(index_dir: Path, name: str) -> str | None:
    """The build id a pointer file names, or None when there is no such pointer (or it is unreadable)."""
    try:
        build_id = (index_dir / name).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return build_id if build_id and "/" not in build_id and not build_id.startswith(".") else None


def _live_build(index_dir: Path) -> Path | None:
    build_id = _pointer(index_dir, _CURRENT)
    if build_id is None:
        return None
    build = index_dir / _BUILDS / build_id
    return build if build.is_dir() else None


def live_build_id(index_dir: Path) -> str | None:
    """The id of the live build (what ``CURRENT`` names), e.g. to notice that a rebuild happened."""
    return _pointer(index_dir, _CURRENT)


def _complete_builds(index_dir: Path) -> list[Path]:
    builds = index_dir / _BUILDS
    if not builds.is_dir():
        return []
    return sorted(b for b in builds.iterdir() if b.is_dir() and not b.name.startswith("."))


def _check_directory(index_dir: Path) -> None:
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexBuildError(f"{index_dir} is a file, not an index directory; give --index-dir a folder")


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
    _check_directory(index_dir)
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
                _clean_leftovers_if_idle(index_dir)
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

    with _build_lock(index_dir):
        final, manifest = _write_new_build(
            index_dir, documents, metadata, units, chunks, sentences, vectors, sentence_vectors,
            model_id=model_id, dimension=int(dimension), chunking=chunking, corpus_hash_=hash_, exact_max=exact_max,
        )
    reused = sum(1 for c in (*chunks, *sentences) if c.content_hash not in texts)
    return BuildReport(final, manifest, len(texts), reused, False, time.perf_counter() - started)


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index directory; leftovers of killed builds are removed under the lock."""
    _check_directory(index_dir)
    try:
        (index_dir / _BUILDS).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise IndexBuildError(f"cannot create the index directory {index_dir}: {error.strerror or error}") from None
    lock = FileLock(index_dir / _LOCK)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise IndexBuildError(f"another build is running in {index_dir}; wait for it to finish") from None
    try:
        _clean_leftovers(index_dir)
        yield
    finally:
        lock.release()


def _clean_leftovers(index_dir: Path) -> None:
    """Remove what a build killed with -9 left behind (it cannot clean up after itself); call under the lock."""
    for leftover in (index_dir / _BUILDS).glob(".*.partial"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in index_dir.glob(f".{_CURRENT}.*"):
        leftover.unlink(missing_ok=True)


def _clean_leftovers_if_idle(index_dir: Path) -> None:
    """Clean leftovers when no build is running (an up-to-date index is otherwise never written)."""
    try:
        with _build_lock(index_dir):
            pass
    except IndexBuildError:
        pass  # another build is running: it cleans up itself


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
    staging = index_dir / _BUILDS / f".{build_id}.partial"
    previous = live_build_id(index_dir) if _live_build(index_dir) is not None else None
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
        _write_spans(staging / "sentences.jsonl", sentences)
        np.save(staging / "sentence_vectors.npy", sentence_vectors)
        _fsync_tree(staging)
        final = index_dir / _BUILDS / build_id
        staging.rename(final)
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(error, OSError | RuntimeError):  # FAISS reports a failed write as RuntimeError
            raise IndexBuildError(_write_failure(index_dir, error)) from None
        raise
    try:
        _point(index_dir, _CURRENT, build_id)
    except OSError as error:
        shutil.rmtree(final, ignore_errors=True)
        raise IndexBuildError(_write_failure(index_dir, error)) from None
    if previous is not None:
        try:
            _point(index_dir, _PREVIOUS, previous)
        except OSError:
            previous = None  # the new build is live; without a PREVIOUS pointer nothing is pruned
    _remove_old_builds(index_dir, keep={build_id, previous} if previous else None)
    return final, manifest


def _write_failure(index_dir: Path, error: BaseException) -> str:
    code = getattr(error, "errno", None)
    try:
        full = shutil.disk_usage(index_dir).free < 1 << 20
    except OSError:
        full = False
    if code in (errno.ENOSPC, errno.EDQUOT) or full:
        reason = "no space left on device"
    elif code == errno.EFBIG:
        reason = "file size limit reached"
    else:
        reason = getattr(error, "strerror", None) or _first_line(error)
    return f"could not write the new build in {index_dir}: {reason}; the current index is untouched"


def _fsync_tree(directory: Path) -> None:
    """Flush the build's files before the pointer names it, so a power cut never leaves a live half-build."""
    for path in directory.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())


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


def _point(index_dir: Path, name: str, build_id: str) -> None:
    """Replace a pointer file atomically: readers see the old or the new build id, never a torn one."""
    tmp = index_dir / f".{_CURRENT}.{uuid.uuid4().hex[:8]}"
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(build_id + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, index_dir / name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _remove_old_builds(index_dir: Path, *, keep: set[str] | None) -> None:
    """Prune after a successful switch, keeping the new build and the previous one (for rollback)."""
    if keep is None:
        return
    for build in _complete_builds(index_dir):
        if build.name not in keep:
            shutil.rmtree(build, ignore_errors=True)


def rollback(index_dir: Path) -> tuple[str, str]:
    """Make the previous build live again (and the current one the previous); returns (from, to).

    Raises:
        IndexUnavailableError: there is no previous build to go back to, or it is damaged.
    """
    with _build_lock(index_dir):
        current, previous = live_build_id(index_dir), _pointer(index_dir, _PREVIOUS)
        if previous is None or not (index_dir / _BUILDS / previous).is_dir():
            raise IndexUnavailableError(f"no previous build to roll back to in {index_dir}")
        try:
            _read_manifest(index_dir / _BUILDS / previous)
        except (OSError, ValueError) as error:
            raise IndexUnavailableError(f"the previous build {previous} is damaged ({error}); not rolling back") from None
        _point(index_dir, _CURRENT, previous)
        if current is not None and (index_dir / _BUILDS / current).is_dir():
            _point(index_dir, _PREVIOUS, current)
        else:
            (index_dir / _PREVIOUS).unlink(missing_ok=True)
    return current or "none", previous


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _document_meta(record: dict) -> DocumentMeta:
    """Catalogue metadata as stored; the id is data (any string a corpus uses), so it is not re-validated."""
    fields = {k: v for k, v in record.items() if k not in ("layout", "warnings")}
    return DocumentMeta.model_validate({**fields, "id": "_"}).model_copy(update={"id": fields["id"]})


def _read_file(build: Path, name: str, reader: Callable[[Path], object], rebuild: str) -> object:
    """Run ``reader`` on one file of the build; any failure is a sentence naming that file."""
    path = build / name
    missing = f"the index is damaged: {path} is missing; {rebuild}"
    if not path.exists():
        raise IndexUnavailableError(missing)
    try:
        return reader(path)
    except FileNotFoundError:
        raise IndexUnavailableError(missing) from None
    except Exception as error:  # a truncated or foreign file fails in numpy, FAISS, json, bm25s or pydantic
        raise IndexUnavailableError(
            f"the index is damaged: {path} cannot be read ({type(error).__name__}: {_first_line(error)}); {rebuild}"
        ) from None


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _rebuild_advice(index_dir: Path) -> str:
    advice = f"rebuild it with: rag build --index-dir {index_dir} --force (add --corpus FILE if it was built from a corpus)"
    previous = _pointer(index_dir, _PREVIOUS)
    if previous is not None and (index_dir / _BUILDS / previous).is_dir():
        advice += f", or go back to the previous build with: rag index rollback --index-dir {index_dir}"
    return advice


def load_index(
    index_dir: Path,
    *,
    model_id: str | None = None,
    chunking: ChunkingParams | None = None,
) -> LoadedIndex:
    """Open the live build of ``index_dir``, refusing one built for other settings.

    Raises:
        IndexMissingError: there is no index at all in ``index_dir``.
        IndexUnavailableError: the index is damaged (the message names the file) or unreadable.
        IndexMismatchError: built with another model, chunking or format version.
    """
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexUnavailableError(f"{index_dir} is a file, not an index directory; give --index-dir a folder")
    rebuild = _rebuild_advice(index_dir)
    build = _live_build(index_dir)
    if build is None:
        pointer = live_build_id(index_dir)
        if pointer is not None:
            raise IndexUnavailableError(f"the index is damaged: {index_dir / _CURRENT} names build {pointer}, which is missing; {rebuild}")
        if (index_dir / _CURRENT).exists():
            raise IndexUnavailableError(f"the index is damaged: {index_dir / _CURRENT} is unreadable; {rebuild}")
        if _complete_builds(index_dir):
            raise IndexUnavailableError(f"the index is damaged: {index_dir / _CURRENT} is missing but builds exist; {rebuild}")
        raise IndexMissingError(f"no index found in {index_dir}; build it with: rag build --index-dir {index_dir}")
    manifest = _read_file(build, "manifest.json", lambda p: IndexManifest.model_validate_json(p.read_text(encoding="utf-8")), rebuild)
    assert isinstance(manifest, IndexManifest)
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

    def read(name: str, reader: Callable[[Path], object]) -> object:
        return _read_file(build, name, reader, rebuild)

    documents: dict[str, DocumentMeta] = read(  # type: ignore[assignment]
        "documents.json",
        lambda p: {doc: _document_meta(record) for doc, record in json.loads(p.read_text(encoding="utf-8")).items()},
    )
    units: dict[str, Unit] = read("units.jsonl", lambda p: {u.id: u for u in map(_unit_from_record, _jsonl(p))})  # type: ignore[assignment]
    for name, found, expected in (("documents.json", len(documents), manifest.documents), ("units.jsonl", len(units), manifest.units)):
        if found != expected:
            raise IndexUnavailableError(f"the index is damaged: {build / name} has {found} entries, the manifest says {expected}; {rebuild}")
    chunks: list[Chunk] = read("chunks.jsonl", lambda p: _read_spans(p, units))  # type: ignore[assignment]
    sentences: list[Chunk] = read("sentences.jsonl", lambda p: _read_spans(p, units))  # type: ignore[assignment]
    sentence_vectors: np.ndarray = read("sentence_vectors.npy", lambda p: np.load(p, allow_pickle=False))  # type: ignore[assignment]
    vectors: np.ndarray = read("vectors.npy", lambda p: np.load(p, allow_pickle=False))  # type: ignore[assignment]
    dense = read("dense.faiss", load_dense_index)
    lexical: LexicalIndex = read("lexical", LexicalIndex.load)  # type: ignore[assignment]
    expected = (
        ("chunks.jsonl", len(chunks), manifest.chunks),
        ("vectors.npy", len(vectors), manifest.chunks),
        ("dense.faiss", dense.ntotal, manifest.chunks),  # type: ignore[attr-defined]
        ("lexical", len(lexical), manifest.chunks),
        ("sentences.jsonl", len(sentences), manifest.sentences),
        ("sentence_vectors.npy", len(sentence_vectors), manifest.sentences),
    )
    for name, found, wanted in expected:
        if found != wanted:
            raise IndexUnavailableError(f"the index is damaged: {build / name} has {found} rows, the manifest says {wanted}; {rebuild}")
    for name, array in (("vectors.npy", vectors), ("sentence_vectors.npy", sentence_vectors), ("dense.faiss", dense)):
        dim = array.d if name == "dense.faiss" else (array.shape[1] if array.ndim == 2 else -1)  # type: ignore[attr-defined]
        if dim != manifest.dimension:
            raise IndexUnavailableError(f"the index is damaged: {build / name} does not hold {manifest.dimension}-dimensional vectors; {rebuild}")
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
