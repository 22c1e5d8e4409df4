"""A lone question's lexical side runs beside its encoder pass and changes nothing in the results."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

import rag.beside as beside
from rag.beside import THREAD_NAME, side_thread_held
from rag.retriever import RetrievalMode

QUESTIONS = Path(__file__).resolve().parents[1] / "eval" / "seed_questions.jsonl"


def _questions(n: int) -> list[str]:
    lines = [json.loads(x)["question"] for x in QUESTIONS.read_text(encoding="utf-8").splitlines() if x.strip()]
    english = [q for q in lines if q.isascii()][: n // 2]
    chinese = [q for q in lines if not q.isascii()][: n // 2]
    assert english and chinese
    return english + chinese


def _ranking(result) -> list[tuple[str, float, float | None, float | None, float | None]]:
    return [(h.unit.id, h.score, h.dense, h.lexical, h.translated) for h in result.hits]


@pytest.mark.slow
def test_side_thread_gives_the_inline_results(retriever, monkeypatch):
    questions = _questions(24)
    threads: set[str] = set()
    original = retriever._lexical_side

    def recording(*args, **kwargs):
        threads.add(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(retriever, "_lexical_side", recording)
    beside = [retriever.search(q, k=10) for q in questions]
    assert all(name.startswith(THREAD_NAME) for name in threads), threads  # every lone hybrid question used it
    threads.clear()
    with side_thread_held():  # the side thread taken: inline
        inline = [retriever.search(q, k=10) for q in questions]
    assert threads == {threading.current_thread().name}
    for a, b in zip(beside, inline, strict=True):
        assert _ranking(a) == _ranking(b)
        assert (a.language, a.lexical_weight, a.translation_weight) == (b.language, b.lexical_weight, b.translation_weight)


@pytest.mark.slow
def test_side_thread_is_free_after_a_search_and_after_an_error(retriever, monkeypatch):
    retriever.search("What does the Convention call for?", k=3)
    assert beside._FREE.acquire(blocking=False)  # released once the side finished
    beside._FREE.release()

    def broken(*args, **kwargs):
        raise RuntimeError("lexical store failed")

    monkeypatch.setattr(retriever, "_lexical_side", broken)
    with pytest.raises(RuntimeError, match="lexical store failed"):  # the side's error reaches the caller
        retriever.search("What does the Convention call for?", k=3)
    assert beside._FREE.acquire(blocking=False)
    beside._FREE.release()


@pytest.mark.slow
def test_batches_and_other_modes_run_inline(retriever, monkeypatch):
    used: list[str] = []
    original = retriever._lexical_side

    def recording(*args, **kwargs):
        used.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(retriever, "_lexical_side", recording)
    retriever.search_many(_questions(4), k=5)
    retriever.search("What does the Convention call for?", k=5, mode=RetrievalMode.DENSE)
    retriever.search("What does the Convention call for?", k=5, mode=RetrievalMode.LEXICAL)
    assert used and set(used) == {threading.current_thread().name}


@pytest.mark.slow
def test_side_thread_can_be_turned_off(retriever, monkeypatch):
    from rag.retriever import Retriever

    inline_only = Retriever(retriever.index, retriever.encoder, fusion=retriever.fusion, lexicon=retriever.lexicon, side_thread=False)
    used: list[str] = []
    original = inline_only._lexical_side

    def recording(*args, **kwargs):
        used.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(inline_only, "_lexical_side", recording)
    result = inline_only.search("What does the Convention call for?", k=5)
    assert used == [threading.current_thread().name]
    assert _ranking(result) == _ranking(retriever.search("What does the Convention call for?", k=5))
