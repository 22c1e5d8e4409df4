"""A build in a process that then answers questions (bench/ours_side.py, a test session, a library
rebuild) leaves nothing of its throughput encoder behind, and the query encoder opened after it is
the latency one (one thread, static query shapes), not a copy of the build's."""

from __future__ import annotations

import dataclasses
import gc
import threading
import weakref
from pathlib import Path

import pytest

import rag.engine as engine
from rag.config import Settings


@pytest.mark.slow
def test_build_encoder_released_and_query_encoder_is_the_latency_one(settings: Settings, tmp_path: Path, monkeypatch):
    from rag.embedding.openvino_backend import QUERY_WARM_LENGTHS, OpenVinoEncoder, openvino_bf16

    corpus = engine.load_seed_corpus(settings)
    document = corpus.documents[0]
    small = dataclasses.replace(corpus, documents=(dataclasses.replace(document, units=document.units[:12]),))
    loaded: list[weakref.ref] = []
    original = engine.load_build_embedder

    def recording(choice, build_settings):
        embedder = original(choice, build_settings)
        loaded.append(weakref.ref(embedder))
        if embedder._onnx is not None:
            loaded.append(weakref.ref(embedder._onnx))
        return embedder

    monkeypatch.setattr(engine, "load_build_embedder", recording)
    engine.build_from_documents(settings, small, index_dir=tmp_path / "index", force=True)
    assert loaded, "the build loaded no encoder"
    assert all(ref() is None for ref in loaded), "the build's encoder outlived the build"  # freed by refcount, no gc needed
    # no stream thread of the build's encoder left (idle library threads -- OpenVINO's telemetry
    # sender, tqdm's monitor -- may stay: they cost a query nothing)
    assert not [t.name for t in threading.enumerate() if t.name.startswith("openvino")]

    retriever = engine.open_retriever(settings, index_dir=tmp_path / "index")
    gc.collect()
    encoders = [o for o in gc.get_objects() if isinstance(o, OpenVinoEncoder)]
    assert all(not e.throughput for e in encoders)  # no build encoder anywhere in the process
    query = retriever.encoder._onnx
    if isinstance(query, OpenVinoEncoder) and openvino_bf16():
        assert not query.throughput and query.static_shapes
        assert query._config["INFERENCE_NUM_THREADS"] == settings.openvino.query_threads
        assert query._config["PERFORMANCE_HINT"] == "LATENCY"
        assert {length for _, length in query.compiled_shapes} >= set(QUERY_WARM_LENGTHS)
    assert retriever.search("What does the Convention call for?", k=3).hits
