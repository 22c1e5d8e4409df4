"""Concurrent requests' questions encoded together: one encoder pass for all waiting questions.

The encoder is most of a request's CPU. Under concurrency, requests arriving while a pass runs
queue up; when it ends, the first of them runs one pass for everything queued (up to
``max_batch``) and hands the lead to the next arrival. Nothing waits on a timer: a lone request
is encoded at once, exactly as without batching, and a batch forms only from requests that would
have waited anyway. A batch of eight short questions costs far less than eight passes (one
kernel launch per layer, wider matrix products), so throughput grows with concurrency instead of
the passes contending for the same two cores.

Vectors of a batch can differ from a lone pass in the last float bits (padding to the longest
question); rankings do not move.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["BatchingEncoder"]


class _Job:
    __slots__ = ("error", "lead", "ready", "text", "vector")

    def __init__(self, text: str) -> None:
        self.text = text
        self.vector: np.ndarray | None = None
        self.error: BaseException | None = None
        self.lead = False  # set when this job's thread must run the next pass
        self.ready = threading.Event()


class BatchingEncoder:
    """Wraps a query encoder (``encode_queries``); every other attribute is the wrapped encoder's."""

    def __init__(self, encoder: Any, *, max_batch: int = 32) -> None:
        self.inner = encoder
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Job] = []
        self._busy = False

    def __getattr__(self, name: str) -> Any:  # the build path and the tests use the embedder's other methods
        return getattr(self.inner, name)

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        if isinstance(texts, str) or len(texts) != 1:  # batches (evaluation, batch search) go straight through
            return self.inner.encode_queries(texts, batch_size=batch_size)
        job = _Job(texts[0])
        with self._lock:
            self._queue.append(job)
            lead = not self._busy
            self._busy = True
        if not lead:
            job.ready.wait()
            if not job.lead:
                return self._result(job)
        self._run_pass(batch_size)
        return self._result(job)

    def _run_pass(self, batch_size: int) -> None:
        """Encode what is queued (the leader's own question first), deliver, pass the lead on."""
        with self._lock:
            batch = self._queue[: self.max_batch]
            del self._queue[: self.max_batch]
        try:
            vectors = self.inner.encode_queries([j.text for j in batch], batch_size=max(batch_size, len(batch)))
            for job, vector in zip(batch, vectors, strict=True):
                job.vector = vector
        except BaseException as error:  # every waiting request gets the encoder's error, none hangs
            for job in batch:
                job.error = error
        finally:
            with self._lock:
                if self._queue:
                    following = self._queue[0]
                    following.lead = True
                    following.ready.set()
                else:
                    self._busy = False
            for job in batch[1:]:
                job.ready.set()

    @staticmethod
    def _result(job: _Job) -> np.ndarray:
        if job.error is not None:
            raise job.error
        assert job.vector is not None
        return job.vector[None, :]
