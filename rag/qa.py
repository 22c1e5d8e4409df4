"""Question answering: retrieve, then compose a cited answer (optionally with a generator).

One object shared by the CLI and the API so both answer identically; it holds the loaded
retriever and the answer parameters and keeps no per-request state.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rag.answer import Answer, AnswerParams, compose_answer
from rag.retriever import Retriever, SearchResult

__all__ = ["AskResult", "QuestionAnswerer"]


@dataclass(frozen=True, slots=True)
class AskResult:
    answer: Answer
    search: SearchResult
    timings_ms: dict[str, float]


class QuestionAnswerer:
    def __init__(self, retriever: Retriever, params: AnswerParams | None = None) -> None:
        self.retriever = retriever
        self.params = params or AnswerParams()

    def ask(self, question: str, *, k: int = 5, doc: str | None = None) -> AskResult:
        """Answer one question from the top ``k`` hits.

        Raises:
            KeyError: ``doc`` is not an indexed document.
        """
        started = time.perf_counter()
        result = self.retriever.search(question, k=k, doc=doc)
        searched = time.perf_counter()
        assert result.query_vector is not None
        answer = compose_answer(question, result, self.retriever.index, result.query_vector, self.params)
        done = time.perf_counter()
        timings = {
            **result.timings_ms,
            "compose": round((done - searched) * 1000, 2),
            "total": round((done - started) * 1000, 2),
        }
        return AskResult(answer, result, timings)
