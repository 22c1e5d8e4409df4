"""Question answering: retrieve, then compose a cited answer (optionally with a generator).

One object shared by the CLI and the API so both answer identically; it holds the loaded
retriever and the answer parameters and keeps no per-request state.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from rag.answer import Answer, AnswerParams, compose_answer
from rag.bilingual import with_versions
from rag.filters import SearchFilter
from rag.generation import Generator, collect_evidence, generated_answer
from rag.library import library_of
from rag.retriever import Retriever, SearchResult

__all__ = ["AskResult", "QuestionAnswerer"]


@dataclass(frozen=True, slots=True)
class AskResult:
    answer: Answer
    search: SearchResult
    timings_ms: dict[str, float]


class QuestionAnswerer:
    """``generator`` (off by default) rewrites non-refused answers; see :mod:`rag.generation`."""

    def __init__(self, retriever: Retriever, params: AnswerParams | None = None, generator: Generator | None = None) -> None:
        self.retriever = retriever
        self.params = params or AnswerParams()
        self.generator = generator

    def ask(self, question: str, *, k: int = 5, doc: str | None = None, where: SearchFilter | None = None) -> AskResult:
        """Answer one question from the top ``k`` hits (of the documents ``where`` allows).

        Raises:
            KeyError: ``doc``, or a document named by ``where``, is not an indexed document.
        """
        started = time.perf_counter()
        result = self.retriever.search(question, k=k, doc=doc, where=where)
        searched = time.perf_counter()
        assert result.query_vector is not None
        answer = compose_answer(question, result, self.retriever.index, result.query_vector, self.params)
        answer = with_versions(answer, library_of(self.retriever.index), result.query_vector, self.params)
        composed = time.perf_counter()
        if self.generator is not None and not answer.refused:
            answer = self._generate(question, result, answer)
        done = time.perf_counter()
        timings = {**result.timings_ms, "compose": round((composed - searched) * 1000, 2)}
        if self.generator is not None:
            timings["generate"] = round((done - composed) * 1000, 2)
        timings["total"] = round((done - started) * 1000, 2)
        return AskResult(answer, result, timings)

    def _generate(self, question: str, result: SearchResult, extractive: Answer) -> Answer:
        """The generated answer, or the extractive one with the generator's warning in its notes."""
        assert self.generator is not None
        evidence = collect_evidence(result.hits, self.retriever.index, extractive.language, self.params.hits_considered)
        generated, warning = self.generator.generate(question, evidence, extractive.language)
        if generated is None:
            return replace(extractive, notes=(*extractive.notes, warning or "generation failed; showing the extractive answer"))
        return generated_answer(extractive, generated)
