"""Extractive cited answers: quote the sentences that answer, cite each one, or refuse.

No language model is involved. The sentences of the top hits were embedded at index time;
the question's vector picks the closest ones (a hit's rank breaks near-ties, so the answer
stays with the best paragraph). Every quoted sentence carries the citation of the unit it
was taken from, in the question's language and style. Nothing is translated: an English
question over Chinese text gets the Chinese sentence, labelled as such.

Refusal: when even the best sentence is far from the question (cosine below a threshold
calibrated on labelled unanswerable questions, see eval/), the answer says the documents do
not answer and lists the closest paragraphs under ``see_also`` instead of citing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from index.store import LoadedIndex
from rag.language import Language, detect_language
from rag.retriever import Hit, SearchResult
from rag.units import Unit, UnitKind

__all__ = ["Answer", "AnswerParams", "Citation", "compose_answer", "format_reference", "make_citation", "refusal_text"]

REFUSALS: dict[str, str] = {"en": "The documents do not answer this.", "zh": "文件中没有找到答案。"}


@dataclass(frozen=True, slots=True)
class AnswerParams:
    """How evidence is chosen and when to refuse (best sentence cosine below a threshold)."""

    hits_considered: int = 3
    max_sentences: int = 2
    rank_penalty: float = 0.015  # per rank below the top hit: keeps the answer on the best paragraph
    second_sentence_margin: float = 0.02  # a second sentence must score within this of the first
    # Cosine thresholds, calibrated on labelled unanswerable questions (rag eval prints them).
    # Cross-lingual pairs score lower with e5 for the same relevance, hence two thresholds.
    refuse_below_same_language: float = 0.0
    refuse_below_cross_language: float = 0.0

    def threshold(self, cross_lingual: bool) -> float:
        return self.refuse_below_cross_language if cross_lingual else self.refuse_below_same_language


@dataclass(frozen=True, slots=True)
class Citation:
    """A unit the answer quotes, with the character spans of the quoted text inside ``text``."""

    id: str
    doc: str
    symbol: str | None
    para: int | None
    sub: str | None
    section: tuple[str, ...]
    text: str
    spans: tuple[tuple[int, int], ...]
    reference: str
    language: Language  # the language of ``text`` (the document's), which may differ from the question's
    versions: tuple[Citation, ...] = ()  # the same unit in every language version of the document (rag.bilingual)

    def to_record(self) -> dict[str, object]:
        record = self._record()
        if self.versions:
            record["versions"] = [v._record() for v in self.versions]
        return record

    def _record(self) -> dict[str, object]:
        return {
            "id": self.id,
            "doc": self.doc,
            "symbol": self.symbol,
            "para": self.para,
            "sub": self.sub,
            "section": list(self.section),
            "text": self.text,
            "spans": [list(s) for s in self.spans],
            "reference": self.reference,
            "language": self.language,
        }


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    language: Language
    answer: str
    refused: bool
    citations: tuple[Citation, ...]
    see_also: tuple[Citation, ...]
    evidence_score: float
    cross_lingual: bool
    notes: tuple[str, ...] = field(default=())


def format_reference(unit: Unit, symbol: str | None, language: Language) -> str:
    """"第26段" / "第3(a)段" / "第85段，目标11" or "para. 26" / "para. 3 (a)" / "para. 85, target 11"."""
    if unit.para is not None and unit.kind in (UnitKind.PARAGRAPH, UnitKind.SUB):
        sub = unit.sub
        if sub is None:
            body = f"第{unit.para}段" if language == "zh" else f"para. {unit.para}"
        elif sub.startswith("target "):
            number = sub.split(" ", 1)[1]
            body = f"第{unit.para}段，目标{number}" if language == "zh" else f"para. {unit.para}, target {number}"
        else:
            body = f"第{unit.para}({sub})段" if language == "zh" else f"para. {unit.para} ({sub})"
    elif unit.kind is UnitKind.FOOTNOTE:
        body = "脚注" if language == "zh" else "footnote"
    elif unit.kind is UnitKind.FRONT:
        body = "文件首页" if language == "zh" else "front matter"
    else:
        body = unit.id
    if symbol:
        return f"{symbol}，{body}" if language == "zh" else f"{symbol}, {body}"
    return body


def _bracket(reference: str, language: Language) -> str:
    return f"（{reference}）" if language == "zh" else f" ({reference})"


def refusal_text(language: Language) -> str:
    return REFUSALS[language]


def make_citation(unit: Unit, symbol: str | None, language: Language, spans: tuple[tuple[int, int], ...] = ()) -> Citation:
    """The citation of ``unit``, its reference formatted for a question in ``language``."""
    return Citation(
        id=unit.id,
        doc=unit.doc,
        symbol=symbol,
        para=unit.para,
        sub=unit.sub,
        section=unit.section,
        text=unit.text,
        spans=spans,
        reference=format_reference(unit, symbol, language),
        language=detect_language(unit.text),
    )


def _citation(unit: Unit, index: LoadedIndex, language: Language, spans: tuple[tuple[int, int], ...]) -> Citation:
    meta = index.documents.get(unit.doc)
    return make_citation(unit, meta.symbol if meta else None, language, spans)


@dataclass(frozen=True, slots=True)
class _Evidence:
    unit: Unit
    start: int
    end: int
    score: float

    @property
    def text(self) -> str:
        return self.unit.text[self.start : self.end]


def _candidate_sentences(hits: tuple[Hit, ...], index: LoadedIndex, query_vector: np.ndarray, params: AnswerParams) -> list[_Evidence]:
    candidates: list[_Evidence] = []
    for hit in hits[: params.hits_considered]:
        sentences = index.unit_sentences(hit.unit.id)
        if not sentences:
            continue
        matrix = np.stack([vector for _, vector in sentences])
        scores = matrix @ query_vector
        for (sentence, _), score in zip(sentences, scores.tolist(), strict=True):
            penalised = score - params.rank_penalty * (hit.rank - 1)
            candidates.append(_Evidence(hit.unit, sentence.start, sentence.end, penalised))
    return sorted(candidates, key=lambda e: -e.score)


def _select(candidates: list[_Evidence], params: AnswerParams) -> list[_Evidence]:
    chosen = candidates[:1]
    for candidate in candidates[1:]:
        if len(chosen) >= params.max_sentences or candidate.score < chosen[0].score - params.second_sentence_margin:
            break
        if any(c.unit.id == candidate.unit.id and c.start == candidate.start for c in chosen):
            continue
        chosen.append(candidate)
    # read in document order within a unit, best unit first
    order = {e.unit.id: i for i, e in enumerate(chosen)}
    return sorted(chosen, key=lambda e: (order[e.unit.id], e.start))


def compose_answer(
    question: str,
    result: SearchResult,
    index: LoadedIndex,
    query_vector: np.ndarray,
    params: AnswerParams | None = None,
) -> Answer:
    """Answer ``question`` from the hits of ``result`` (the query vector scores the sentences)."""
    params = params or AnswerParams()
    language = detect_language(question)
    candidates = _candidate_sentences(result.hits, index, np.asarray(query_vector, dtype=np.float32), params)
    best = candidates[0].score if candidates else 0.0
    cross = bool(candidates) and detect_language(candidates[0].text) != language
    if not candidates or best < params.threshold(cross):
        see_also = tuple(_citation(h.unit, index, language, ()) for h in result.hits[: params.hits_considered])
        return Answer(question, language, refusal_text(language), True, (), see_also, best, cross)
    evidence = _select(candidates, params)
    citations: dict[str, Citation] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    for item in evidence:
        spans.setdefault(item.unit.id, []).append((item.start, item.end))
    for item in evidence:
        if item.unit.id not in citations:
            citations[item.unit.id] = _citation(item.unit, index, language, tuple(spans[item.unit.id]))
    notes: list[str] = []
    parts = []
    cross_lingual = False
    for item in evidence:
        reference = citations[item.unit.id].reference
        quoted = item.text
        if detect_language(quoted) != language:
            cross_lingual = True
            quoted = f"“{quoted}”"
        parts.append(quoted + _bracket(reference, language))
    if cross_lingual:
        lead = "The documents say, in the original Chinese (not translated): " if language == "en" else "文件原文（英文，未翻译）："
        notes.append("evidence quoted in the document's language, not translated")
        text = lead + " ".join(parts)
    else:
        text = ("" if language == "zh" else " ").join(parts)
    return Answer(question, language, text, False, tuple(citations.values()), (), best, cross, tuple(notes))
