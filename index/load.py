"""Open the live build of an index directory with checks: every failure is one sentence naming the file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from index.builds import (
    CURRENT,
    IndexMissingError,
    IndexUnavailableError,
    complete_builds,
    first_line,
    live_build,
    live_build_id,
    previous_build_id,
)
from index.dense import load_dense_index
from index.docstore import STORE_FILE, DocumentStore
from index.layout import FORMAT_VERSION, IndexManifest, IndexMismatchError, LoadedIndex
from index.sentence_vectors import SCALES_FILE, VECTORS_FILE, SentenceVectors
from index.views import ParagraphsView, SentenceRowsView, SpansView, SubUnitsView, UnitsView
from rag.analysis import ANALYZER_VERSION
from rag.catalogue import DocumentMeta
from rag.chunking import ChunkingParams
from rag.lexical import LexicalIndex

__all__ = ["load_index"]


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
    except IndexUnavailableError:
        raise  # already one sentence naming the file (index.docstore)
    except Exception as error:  # a truncated or foreign file fails in numpy, FAISS, json, bm25s or pydantic
        raise IndexUnavailableError(
            f"the index is damaged: {path} cannot be read ({type(error).__name__}: {first_line(error)}); {rebuild}"
        ) from None


def _rebuild_advice(index_dir: Path) -> str:
    advice = f"rebuild it with: rag build --index-dir {index_dir} --force (add --corpus FILE if it was built from a corpus)"
    if previous_build_id(index_dir) is not None:
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
    build = live_build(index_dir)
    if build is None:
        named = live_build_id(index_dir)
        if named is not None:
            raise IndexUnavailableError(f"the index is damaged: {index_dir / CURRENT} names build {named}, which is missing; {rebuild}")
        if (index_dir / CURRENT).exists():
            raise IndexUnavailableError(f"the index is damaged: {index_dir / CURRENT} is unreadable; {rebuild}")
        if complete_builds(index_dir):
            raise IndexUnavailableError(f"the index is damaged: {index_dir / CURRENT} is missing but builds exist; {rebuild}")
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
    if len(documents) != manifest.documents:
        raise IndexUnavailableError(
            f"the index is damaged: {build / 'documents.json'} has {len(documents)} entries, the manifest says {manifest.documents}; {rebuild}"
        )
    store: DocumentStore = read(STORE_FILE, lambda p: DocumentStore(p, rebuild))  # type: ignore[assignment]
    try:
        store.check({"units": manifest.units, "chunks": manifest.chunks, "sentences": manifest.sentences})
        codes: np.ndarray = read(VECTORS_FILE, lambda p: np.load(p, mmap_mode="r", allow_pickle=False))  # type: ignore[assignment]
        scales = read(SCALES_FILE, lambda p: np.load(p, allow_pickle=False)) if manifest.sentence_vectors != "float32" else None
        sentence_vectors: SentenceVectors = read(VECTORS_FILE, lambda p: SentenceVectors(codes, scales))  # type: ignore[arg-type,assignment]
        vectors: np.ndarray = read("vectors.npy", lambda p: np.load(p, mmap_mode="r", allow_pickle=False))  # type: ignore[assignment]
        dense = read("dense.faiss", lambda p: load_dense_index(p, manifest.dense_params))
        lexical: LexicalIndex = read("lexical", LexicalIndex.load)  # type: ignore[assignment]
        expected = (
            ("vectors.npy", len(vectors), manifest.chunks),
            ("dense.faiss", dense.ntotal, manifest.chunks),  # type: ignore[attr-defined]
            ("lexical", len(lexical), manifest.chunks),
            ("sentence_vectors.npy", len(sentence_vectors), manifest.sentences),
        )
        for name, found, wanted in expected:
            if found != wanted:
                raise IndexUnavailableError(f"the index is damaged: {build / name} has {found} rows, the manifest says {wanted}; {rebuild}")
        for name, array in (("vectors.npy", vectors), ("sentence_vectors.npy", sentence_vectors), ("dense.faiss", dense)):
            dim = array.d if name == "dense.faiss" else (array.shape[1] if array.ndim == 2 else -1)  # type: ignore[attr-defined]
            if dim != manifest.dimension:
                raise IndexUnavailableError(f"the index is damaged: {build / name} does not hold {manifest.dimension}-dimensional vectors; {rebuild}")
    except BaseException:
        store.close()  # a later file failed: the store's connections go now, not when the collector runs
        raise
    return LoadedIndex(
        build, manifest, documents, UnitsView(store), SpansView(store, "chunks", manifest.chunks), vectors, dense, lexical,
        SpansView(store, "sentences", manifest.sentences), sentence_vectors, SentenceRowsView(store),
        ParagraphsView(store, list(documents)), SubUnitsView(store), store,
    )
