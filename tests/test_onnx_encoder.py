"""The int8 ONNX encoder: faithful to the torch model, exported once, recorded in the model id."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.embedding import effective_backend
from rag.embedding.onnx_backend import ONNX_MODEL_SUFFIX, OnnxExportError, ensure_onnx_int8, onnx_supported

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


@pytest.mark.slow
def test_onnx_int8_matches_torch(settings):
    from rag.embedding import load_embedder, resolve_model

    source = resolve_model(None, settings.model_cache_dir)
    onnx = load_embedder(None, settings.model_cache_dir, backend="onnx", threads=2)
    torch_ = load_embedder(None, settings.model_cache_dir, backend="torch")
    assert onnx.backend == "onnx" and onnx.model_id.endswith(ONNX_MODEL_SUFFIX) and torch_.backend == "torch"
    for encode in ("encode_queries", "encode_passages"):
        a, b = getattr(onnx, encode)(TEXTS), getattr(torch_, encode)(TEXTS)
        assert a.shape == b.shape == (len(TEXTS), 384) and a.dtype == np.float32
        assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
        cosines = (a * b).sum(axis=1)
        assert cosines.min() >= 0.98, cosines
        # batched (length-sorted) and one-by-one give the same vectors, in input order
        single = np.vstack([getattr(onnx, encode)([t]) for t in TEXTS])
        assert np.allclose(a, single, atol=1e-4)
    assert [onnx.count_tokens(t) for t in TEXTS] == [torch_.count_tokens(t) for t in TEXTS]
    # the export is made once: a second call reuses the file
    path = ensure_onnx_int8(source, settings.model_cache_dir)
    mtime = path.stat().st_mtime
    assert ensure_onnx_int8(source, settings.model_cache_dir) == path and path.stat().st_mtime == mtime


@pytest.mark.slow
def test_query_cache_is_bounded_and_exact(settings):
    from rag.embedding import load_embedder

    embedder = load_embedder(None, settings.model_cache_dir, backend="onnx", query_cache_size=2)
    first = embedder.encode_queries(TEXTS[:3])
    assert len(embedder._cache) == 2  # bounded: the oldest went
    again = embedder.encode_queries([TEXTS[2], TEXTS[0], TEXTS[2]])
    assert np.allclose(again, first[[2, 0, 2]], atol=1e-6)
