"""One shared thread that runs part of a lone request beside the caller's GIL-free work.

A search's encoder pass (OpenVINO or ONNX Runtime inference) releases the GIL for milliseconds;
its lexical side (analysis, BM25, the dictionary channel) needs no vector. Run on this thread,
the lexical side overlaps the pass, so a search waits for the longer of the two, not their sum.
The thread is shared by every retriever (a reload makes a new one) and taken only when free:
concurrent requests, which keep the cores busy anyway, run their side inline.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["THREAD_NAME", "side_thread_held", "start_beside"]

T = TypeVar("T")
THREAD_NAME = "lexical-side"

_POOL = ThreadPoolExecutor(1, thread_name_prefix=THREAD_NAME)
_FREE = threading.Semaphore(1)


def start_beside(work: Callable[[], T]) -> Future[T] | None:
    """``work`` started on the side thread, or None when the thread is taken (run it inline)."""
    if not _FREE.acquire(blocking=False):
        return None

    def run() -> T:
        try:
            return work()
        finally:
            _FREE.release()

    try:
        return _POOL.submit(run)
    except RuntimeError:  # the pool is shut down (interpreter exit)
        _FREE.release()
        return None


@contextmanager
def side_thread_held() -> Iterator[None]:
    """Hold the side thread (waiting for it if busy): meanwhile every request runs inline
    (comparisons: bench/ab_side_thread.py, tests)."""
    _FREE.acquire()
    try:
        yield
    finally:
        _FREE.release()
