"""settle_heap: what is loaded is frozen out of the cyclic collector's walks, and cyclic garbage
(an old index after a reload) is still collected at the next call."""

from __future__ import annotations

import gc
import weakref

import pytest

from rag.engine import settle_heap


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture
def thawed():
    yield
    gc.unfreeze()


def test_settle_heap_freezes_what_is_alive(thawed):
    kept = _Node()
    settle_heap()
    assert gc.get_freeze_count() > 0
    assert gc.is_tracked(kept) and not any(o is kept for o in gc.get_objects())  # frozen objects are out of every generation
    assert kept.me is kept


def test_frozen_cyclic_garbage_is_collected_at_the_next_call(thawed):
    node = _Node()
    gone = weakref.ref(node)
    settle_heap()  # node frozen while alive (an index being served)
    del node  # dropped (a reload replaced it): a cycle, so refcounting cannot free it
    gc.collect()
    assert gone() is not None  # frozen: the collector does not look at it
    settle_heap()
    assert gone() is None


@pytest.mark.slow
def test_open_retriever_settles_the_heap(settings, seed_index_dir, thawed):
    from rag.engine import open_retriever

    gc.unfreeze()
    opened = open_retriever(settings, index_dir=seed_index_dir)
    assert gc.get_freeze_count() > 10_000
    assert gc.is_tracked(opened) and gc.is_tracked(opened.index)
    tracked = gc.get_objects()
    assert not any(o is opened or o is opened.index for o in tracked)
