"""Concurrent questions encoded in one pass (api/batching.py): each request gets its own vector."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from api.batching import BatchingEncoder


class _SlowEncoder:
    """A deterministic stand-in encoder whose pass takes a while, so that requests queue behind it."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail_on = fail_on
        self.lock = threading.Lock()
        self.name = "slow"

    def encode_queries(self, texts, batch_size: int = 32) -> np.ndarray:
        with self.lock:
            self.batches.append(list(texts))
        time.sleep(0.02)
        if self.fail_on is not None and self.fail_on in texts:
            raise RuntimeError("encoder failed")
        return np.stack([np.full(4, float(len(t)), np.float32) + np.arange(4, dtype=np.float32) for t in texts])


def test_concurrent_questions_share_passes_and_get_their_own_vectors() -> None:
    inner = _SlowEncoder()
    encoder = BatchingEncoder(inner)
    questions = [f"question {'x' * i}" for i in range(24)]
    with ThreadPoolExecutor(8) as pool:
        vectors = list(pool.map(lambda q: encoder.encode_queries([q]), questions))
    for question, vector in zip(questions, vectors, strict=True):
        assert vector.shape == (1, 4)
        assert np.array_equal(vector[0], np.full(4, float(len(question)), np.float32) + np.arange(4))
    assert sorted(q for batch in inner.batches for q in batch) == sorted(questions)  # each encoded once
    assert len(inner.batches) < len(questions)  # some passes served several requests
    assert encoder.encode_queries(["alone"]).shape == (1, 4) and inner.batches[-1] == ["alone"]  # a lone request: its own pass


def test_an_encoder_error_reaches_every_request_of_the_pass_and_none_hangs() -> None:
    inner = _SlowEncoder(fail_on="bad")
    encoder = BatchingEncoder(inner)
    barrier = threading.Barrier(6)

    def ask(q: str):
        barrier.wait()
        try:
            return encoder.encode_queries([q])
        except RuntimeError as error:
            return error

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(ask, ["bad", "a", "b", "c", "d", "e"]))
    failed = [r for r in results if isinstance(r, RuntimeError)]
    assert failed and all(str(r) == "encoder failed" for r in failed)
    assert encoder.encode_queries(["after"]).shape == (1, 4)  # the encoder still serves


def test_batches_and_other_attributes_go_to_the_wrapped_encoder() -> None:
    inner = _SlowEncoder()
    encoder = BatchingEncoder(inner)
    assert encoder.encode_queries(["a", "bb"]).shape == (2, 4) and inner.batches == [["a", "bb"]]
    assert encoder.name == "slow"


@pytest.mark.slow
def test_batched_vectors_match_lone_passes_with_the_real_model(retriever) -> None:
    inner = retriever.encoder.inner if isinstance(retriever.encoder, BatchingEncoder) else retriever.encoder
    encoder = BatchingEncoder(inner)
    questions = ["第26段讲了什么？", "What did the Conference decide on the Kyoto Protocol?", "爱知生物多样性目标11", "desertification"]
    alone = [inner.encode_queries([q])[0] for q in questions]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda q: encoder.encode_queries([q])[0], questions))
    for a, b in zip(alone, together, strict=True):
        assert float(a @ b) > 0.99999
