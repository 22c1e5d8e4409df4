"""The int8 ONNX encoder: faithful to the torch model, exported once, recorded in the model id."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.embedding import effective_backend
from rag.embedding.onnx_backend import ONNX_MODEL_SUFFIX, OnnxExportError, ensure_onnx, ensure_onnx_int8, onnx_supported

TEXTS = [
    "多哈气候大会有多少政府代表、观察员和记者到场？",
    "What did the Conference decide about the second commitment period of the Kyoto Protocol?",
    "缔约方会议决定，《京都议定书》第二承诺期自2013年1月1日开始，至2020年12月31日结束。",
    "短",
]


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown encoder backend"):
        effective_backend("tensorrt", "/nowhere")


def test_only_mean_pooled_folders_are_exported(tmp_path):
    assert not onnx_supported(tmp_path)
    (tmp_path / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]))
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "tokenizer.json").write_text("{}")
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    assert not onnx_supported(tmp_path)
    assert effective_backend("onnx", str(tmp_path)) == "torch"  # falls back instead of running it wrongly
    with pytest.raises(OnnxExportError, match="mean-pooled"):
        ensure_onnx_int8(tmp_path, tmp_path / "cache")
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_mean_tokens": True}))
    assert onnx_supported(tmp_path)


@pytest.mark.parametrize(("backend", "min_cosine"), [("onnx", 0.9999), ("onnx-int8", 0.98)])
@pytest.mark.slow
def test_onnx_matches_torch(settings, torch_embedder, backend, min_cosine):
    from rag.embedding import load_embedder, resolve_model

    source = resolve_model(None, settings.model_cache_dir)
    onnx = load_embedder(None, settings.model_cache_dir, backend=backend, threads=2)
    assert onnx.backend == "onnx" and torch_embedder.backend == "torch"
    assert onnx.model_id.endswith(ONNX_MODEL_SUFFIX) == (backend == "onnx-int8")  # int8 vectors are not torch's
    for encode in ("encode_queries", "encode_passages"):
        a, b = getattr(onnx, encode)(TEXTS), getattr(torch_embedder, encode)(TEXTS)
        assert a.shape == b.shape == (len(TEXTS), 384) and a.dtype == np.float32
        assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
        cosines = (a * b).sum(axis=1)
        assert cosines.min() >= min_cosine, cosines
        # batched (length-sorted, padded) and one by one agree, in input order; int8 activations
        # are quantised per batch, so there they agree to a cosine, not to float error
        single = np.vstack([getattr(onnx, encode)([t]) for t in TEXTS])
        assert (a * single).sum(axis=1).min() >= min_cosine
    assert [onnx.count_tokens(t) for t in TEXTS] == [torch_embedder.count_tokens(t) for t in TEXTS]
    # the export is made once: a second call reuses the file
    path = ensure_onnx(source, settings.model_cache_dir, quantize=backend == "onnx-int8")
    mtime = path.stat().st_mtime
    assert ensure_onnx(source, settings.model_cache_dir, quantize=backend == "onnx-int8") == path
    assert path.stat().st_mtime == mtime


@pytest.fixture(scope="module")
def torch_embedder(settings):
    from rag.embedding import load_embedder

    return load_embedder(None, settings.model_cache_dir, backend="torch")


@pytest.mark.slow
def test_query_cache_is_bounded_and_exact(settings):
    from rag.embedding import load_embedder

    embedder = load_embedder(None, settings.model_cache_dir, backend="onnx", query_cache_size=2)
    first = embedder.encode_queries(TEXTS[:3])
    assert len(embedder._cache) == 2  # bounded: the oldest went
    again = embedder.encode_queries([TEXTS[2], TEXTS[0], TEXTS[2]])
    assert np.allclose(again, first[[2, 0, 2]], atol=1e-6)


@pytest.mark.slow
def test_openvino_matches_torch_and_shares_the_float_model_id(settings, torch_embedder):
    """OpenVINO (bfloat16 on AMX/AVX-512 BF16 CPUs, float32 elsewhere) gives torch's vectors within
    1e-4 cosine, so its index carries the float model id and any float backend reads it."""
    pytest.importorskip("openvino")
    from rag.embedding import load_embedder, resolve_model
    from rag.embedding.openvino_backend import ensure_openvino

    source = resolve_model(None, settings.model_cache_dir)
    assert effective_backend("openvino", source) == "openvino"
    vino = load_embedder(None, settings.model_cache_dir, backend="openvino", threads=2)
    assert vino.backend == "openvino" and vino.model_id == torch_embedder.model_id
    long_text = "。".join(TEXTS) * 12  # several batches under the token budget, truncated at 512 tokens
    for encode in ("encode_queries", "encode_passages"):
        texts = [*TEXTS, long_text]
        a, b = getattr(vino, encode)(texts), getattr(torch_embedder, encode)(texts)
        assert a.shape == b.shape == (len(texts), 384) and a.dtype == np.float32
        assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
        assert (a * b).sum(axis=1).min() >= 0.9999, (a * b).sum(axis=1)
        single = np.vstack([getattr(vino, encode)([t]) for t in texts])  # batching does not change a vector
        assert (a * single).sum(axis=1).min() >= 0.9999
    builder = load_embedder(None, settings.model_cache_dir, backend="openvino", threads=2, throughput=True)
    texts = [*TEXTS, long_text] * 3  # fixed batch shapes (tests/test_openvino_encoder.py), each text in its own row
    assert builder._onnx.throughput
    assert (builder.encode_passages(texts) * torch_embedder.encode_passages(texts)).sum(axis=1).min() >= 0.9999
    path = ensure_openvino(source, settings.model_cache_dir)  # converted once, then reused
    mtime = path.stat().st_mtime
    assert ensure_openvino(source, settings.model_cache_dir) == path and path.stat().st_mtime == mtime


@pytest.mark.slow
def test_builds_use_openvino_only_for_float_vectors(settings):
    """int8 vectors carry their own model id, so an int8 set-up builds with int8, never OpenVINO."""
    pytest.importorskip("openvino")
    from rag.engine import build_backend, choose_model

    choice = choose_model(settings)
    float_setup = settings.with_changes({"encoder.backend": "onnx"})
    assert build_backend(float_setup, choice) == "openvino"
    assert build_backend(float_setup.with_changes({"build.encoder_backend": "same"}), choice) == "onnx"
    int8 = settings.with_changes({"encoder.backend": "onnx-int8"})
    assert build_backend(int8, choose_model(int8)) == "onnx-int8"
