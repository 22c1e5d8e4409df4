"""The OpenVINO encoder on static shape buckets: padding changes no vector, the right shapes are
compiled, a build holds one shape at a time, and machines without OpenVINO or bfloat16 fall back."""

from __future__ import annotations

import numpy as np
import pytest

from rag.embedding.openvino_backend import LENGTH_BUCKETS, QUERY_BUCKETS, bucket_length

TEXTS = [
    "多哈气候大会有多少政府代表、观察员和记者到场？",
    "What did the Conference decide about the second commitment period of the Kyoto Protocol?",
    "缔约方会议决定，《京都议定书》第二承诺期自2013年1月1日开始，至2020年12月31日结束。",
    "短",
]


def test_bucket_length_rounds_up_within_the_truncation_length():
    assert [bucket_length(n) for n in (1, 16, 17, 33, 49, 64, 65, 300, 512)] == [16, 16, 32, 48, 64, 64, 96, 384, 512]
    assert [bucket_length(n, buckets=QUERY_BUCKETS) for n in (17, 33, 65)] == [32, 64, 128]
    assert bucket_length(100, max_length=100) == 100  # never padded past what the tokenizer keeps
    assert bucket_length(600) == 600  # longer than any bucket (a model with a longer limit): as is
    assert list(LENGTH_BUCKETS) == sorted(LENGTH_BUCKETS) and list(QUERY_BUCKETS) == sorted(QUERY_BUCKETS)


@pytest.fixture(scope="module")
def float_embedder(settings):
    from rag.embedding import load_embedder

    return load_embedder(None, settings.model_cache_dir, backend="onnx", threads=2)


@pytest.fixture(scope="module")
def vino(settings):
    pytest.importorskip("openvino")
    from rag.embedding import load_embedder
    from rag.embedding.openvino_backend import openvino_bf16

    if not openvino_bf16():
        pytest.skip("this CPU has no bfloat16: queries run on ONNX Runtime")
    return load_embedder(None, settings.model_cache_dir, backend="openvino")


@pytest.mark.slow
def test_padded_buckets_give_the_unpadded_vectors(vino, float_embedder):
    """Pads carry attention mask 0 and mean pooling skips them: the vector of a text padded to
    its bucket is the float model's of the text alone, for queries and passages, alone or batched."""
    encoder = vino._onnx
    assert vino.backend == "openvino" and vino.model_id == float_embedder.model_id
    assert {(1, 16), (1, 32), (1, 64)} <= set(encoder.compiled_shapes)  # compiled at load, not on a request
    long_text = "。".join(TEXTS) * 12  # truncated at 512 tokens: the dynamic model
    texts = [*TEXTS, long_text]
    for encode in ("encode_queries", "encode_passages"):
        reference = getattr(float_embedder, encode)(texts)
        single = np.vstack([getattr(vino, encode)([t]) for t in texts])
        batched = getattr(vino, encode)(texts)
        assert single.dtype == np.float32 and np.allclose(np.linalg.norm(single, axis=1), 1.0, atol=1e-5)
        assert (single * reference).sum(axis=1).min() >= 0.9999
        assert (batched * reference).sum(axis=1).min() >= 0.9999
    # the same padded input through a static shape and through the dynamic model
    ids = np.array([encoder.tokenizer.encode("query: " + TEXTS[0]).ids])
    n = ids.shape[1]
    padded = np.full((1, 32), encoder.pad_id, np.int64)
    padded[0, :n] = ids
    mask = np.zeros_like(padded)
    mask[0, :n] = 1
    static = encoder._run(padded, mask)[0, :n].mean(axis=0)
    encoder.static_shapes = False
    try:
        dynamic = encoder._run(ids, np.ones_like(ids))[0].mean(axis=0)
    finally:
        encoder.static_shapes = True
    assert float(static @ dynamic / np.linalg.norm(static) / np.linalg.norm(dynamic)) >= 0.9999


@pytest.mark.slow
def test_bucket_choice(vino):
    encoder = vino._onnx
    vino.encode_queries(["短"])  # a few tokens: [1, 16]
    vino.encode_queries(["缔约方会议决定" * 20])  # ~100 tokens: beyond the static query shapes, dynamic
    assert None in encoder.compiled_shapes
    assert encoder._pad_width(20) == 32 and encoder._pad_width(100) == 128


@pytest.mark.slow
def test_build_encoder_holds_one_fixed_shape_at_a_time(settings, float_embedder):
    pytest.importorskip("openvino")
    from rag.embedding import load_embedder

    builder = load_embedder(None, settings.model_cache_dir, backend="openvino", threads=2, throughput=True)
    encoder = builder._onnx
    assert encoder.streams == 1 and encoder.throughput
    texts = [*TEXTS, "。".join(TEXTS) * 12] * 3
    vectors = builder.encode_passages(texts)
    assert (vectors * float_embedder.encode_passages(texts)).sum(axis=1).min() >= 0.9999
    (shape,) = encoder.compiled_shapes  # the earlier (longer) bucket's shape was let go
    assert shape == (encoder._rows(shape[1]), shape[1]) and shape[1] in LENGTH_BUCKETS


@pytest.mark.slow
def test_without_bfloat16_or_openvino_queries_run_on_onnx_runtime(settings, monkeypatch):
    """float32 OpenVINO is slower than ONNX Runtime for a query: the float ONNX export instead
    (same vectors, same model id); without the package at all, every OpenVINO use falls back."""
    from rag.embedding import effective_backend, load_embedder, openvino_backend, resolve_model

    monkeypatch.setattr(openvino_backend, "openvino_bf16", lambda: False)
    assert load_embedder(None, settings.model_cache_dir, backend="openvino").backend == "onnx"
    monkeypatch.setattr(openvino_backend, "openvino_available", lambda: False)
    assert effective_backend("openvino", resolve_model(None, settings.model_cache_dir)) == "onnx"


@pytest.mark.slow
def test_concurrent_queries_each_get_their_own_vector(vino):
    """Concurrent requests encode at once (a request object each): no hang, no mixed-up rows."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [*TEXTS, "缔约方会议决定" * 20] * 4
    expected = {t: vino.encode_queries([t])[0] for t in set(texts)}
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda t: vino.encode_queries([t])[0], texts, timeout=120))
    for text, vector in zip(texts, got, strict=True):
        assert float(vector @ expected[text]) >= 0.99999
