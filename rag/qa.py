"""Question answering: retrieve, then compose a cited answer (optionally with a generator).

One object shared by the CLI and the API so both answer identically; it holds the loaded
retriever and the answer parameters and keeps no per-request state.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from rag.analysis import TermSets
from rag.answer import Answer, AnswerParams, Contradicts, QuotedSentence, compose_answer
from rag.bilingual import with_versions
from rag.filters import SearchFilter
from rag.generation import Generator, collect_evidence, generated_answer
from rag.language import Language, detect_language
from rag.library import library_of
from rag.lookup import answer_reference
from rag.polarity import Polarity
from rag.question_terms import SentenceFocus
from rag.retriever import Hit, RetrievalMode, Retriever, SearchResult
from rag.verifier import Verifier, evidence_features, load_verifier

__all__ = ["AskResult", "QuestionAnswerer"]


@dataclass(frozen=True, slots=True)
class AskResult:
    answer: Answer
    search: SearchResult
    timings_ms: dict[str, float]


class QuestionAnswerer:
    """``generator`` (off by default) rewrites non-refused answers; see :mod:`rag.generation`."""

    def __init__(
        self,
        retriever: Retriever,
        params: AnswerParams | None = None,
        generator: Generator | None = None,
        verifier: Verifier | Literal["shipped"] | None = "shipped",
    ) -> None:
        self.retriever = retriever
        self.params = params or AnswerParams()
        self.generator = generator
        # the trained refusal verifier (rag/data/verifier.json); None: the cosine thresholds of params
        self.verifier = load_verifier() if verifier == "shipped" else verifier
        self._evidence_terms = TermSets()  # analysed evidence texts, remembered: they recur across questions

    def ask(self, question: str, *, k: int = 5, doc: str | None = None, where: SearchFilter | None = None) -> AskResult:
        """Answer one question from the top ``k`` hits (of the documents ``where`` allows).

        Raises:
            KeyError: ``doc``, or a document named by ``where``, is not an indexed document.
        """
        started = time.perf_counter()
        allowed = self.retriever.allowed_documents(doc, where)  # raises KeyError for an unknown document
        looked_up = answer_reference(question, self.retriever.index, self._encode, self.params, doc=doc, allowed=allowed, focus_for=self.sentence_focus)
        if looked_up is not None:  # "第26段讲了什么": the reference says where the answer is
            if self.retriever.encoder is not None:  # the aligned versions pick the sentence closest to the question
                looked_up = with_versions(looked_up, library_of(self.retriever.index), self._encode(question), None)
            elapsed = round((time.perf_counter() - started) * 1000, 2)
            empty = SearchResult(question, detect_language(question), RetrievalMode.HYBRID, 0.0, ())
            return AskResult(looked_up, empty, {"lookup": elapsed, "total": elapsed})
        result = self.retriever.search(question, k=k, doc=doc, where=where)
        searched = time.perf_counter()
        assert result.query_vector is not None
        judge = None if self.verifier is None else self.judge
        contradicts = self.contradicts(question)
        answer = compose_answer(
            question, result, self.retriever.index, result.query_vector, self.params, judge, self.sentence_focus(question), contradicts
        )
        answer = with_versions(answer, library_of(self.retriever.index), result.query_vector, self.params)
        if answer.refused and self.verifier is not None and answer.see_also:
            answer = self._reconsider_in_question_language(question, result, answer, contradicts)
        composed = time.perf_counter()
        if self.generator is not None and not answer.refused:
            answer = self._generate(question, result, answer)
        done = time.perf_counter()
        timings = {**result.timings_ms, "compose": round((composed - searched) * 1000, 2)}
        if self.generator is not None:
            timings["generate"] = round((done - composed) * 1000, 2)
        timings["total"] = round((done - started) * 1000, 2)
        return AskResult(answer, result, timings)

    def features(self, question: str, language: Language, candidates: Sequence[QuotedSentence], hits: Sequence[Hit], cross: bool) -> list[float]:
        """The verifier's features of the best evidence (also what the training script records)."""
        units = self.retriever.index.units
        parents = {c.unit.id: units[c.unit.parent].text for c in candidates[:1] if c.unit.parent in units}
        lexicon = self.retriever.lexicon if cross else None
        return evidence_features(question, language, candidates, hits, parents, lexicon, cross, self._evidence_terms)

    def judge(self, question: str, language: Language, candidates: Sequence[QuotedSentence], hits: Sequence[Hit], cross: bool) -> tuple[bool, float | None]:
        assert self.verifier is not None
        if not candidates:
            return False, 0.0
        verifier = self.verifier.for_pair(language, cross)
        probability = verifier.probability(self.features(question, language, candidates, hits, cross))
        return probability >= verifier.threshold, round(probability, 4)

    def _reconsider_in_question_language(self, question: str, result: SearchResult, refused: Answer, contradicts: Contradicts) -> Answer:
        """A refusal of evidence in another language, judged again on the question's-language versions.

        The verifier is surest on same-language pairs; when the library holds the closest paragraphs
        in the question's language too, it judges those. If it accepts them, the answer cites the
        paragraph found and quotes its version in the question's language (rag.bilingual).
        """
        index = self.retriever.index
        versions = {c.id: next((v for v in c.versions if v.language == refused.language), None) for c in refused.see_also}
        own_hits = []
        for hit in result.hits[: self.params.hits_considered]:
            own = versions.get(hit.unit.id)
            unit = index.units.get(own.id) if own is not None else None
            if unit is not None and unit.doc != hit.unit.doc:
                own_hits.append(replace(hit, unit=unit, paragraph=index.units.get(unit.parent) if unit.parent else None))
        if not own_hits or result.query_vector is None:
            return refused
        retry = replace(result, hits=tuple(own_hits))
        if compose_answer(question, retry, index, result.query_vector, self.params, self.judge, contradicts=contradicts).refused:
            return refused
        accepted = replace(self.params, refuse_below_same_language=0.0)  # the verifier has accepted this evidence
        return with_versions(refused, library_of(index), result.query_vector, accepted)

    def sentence_focus(self, question: str) -> SentenceFocus:
        """How much of ``question`` a sentence states (picks the sentence an answer quotes first)."""
        return SentenceFocus(question, self.retriever.lexicon, self._evidence_terms)

    def contradicts(self, question: str) -> Contradicts:
        """Which sentences say the opposite of ``question`` about whom it concerns (rag.polarity)."""
        return Polarity(question, self.retriever.lexicon).contradicts

    def _encode(self, text: str) -> np.ndarray:
        encoder = self.retriever.encoder
        if encoder is None:
            raise ValueError("answering a question about a paragraph needs the embedding model")
        return encoder.encode_queries([text])[0]

    def _generate(self, question: str, result: SearchResult, extractive: Answer) -> Answer:
        """The generated answer, or the extractive one with the generator's warning in its notes."""
        assert self.generator is not None
        evidence = collect_evidence(result.hits, self.retriever.index, extractive.language, self.params.hits_considered)
        generated, warning = self.generator.generate(question, evidence, extractive.language)
        if generated is None:
            return replace(extractive, notes=(*extractive.notes, warning or "generation failed; showing the extractive answer"))
        return generated_answer(extractive, generated)
