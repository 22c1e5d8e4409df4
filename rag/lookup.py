"""Answers to questions that name a paragraph: the unit itself, or a sentence from within it.

No similarity threshold is involved: the reference says where the answer is. A pure look-up
("第26段讲了什么", "para 3 (a)") returns the unit's text, cited, its section path in the
citation. A look-up with a question ("第26段关于第二承诺期说了什么") quotes the closest
sentences of that unit and its sub-units. A unit that does not exist gets a sentence saying
what the document has ("本文件只有第1至90段。"), flagged as such, never a refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator

import numpy as np

from index.store import LoadedIndex
from rag.answer import (
    Answer,
    AnswerKind,
    AnswerParams,
    Focus,
    QuotedSentence,
    citation_for,
    focused,
    list_lead_ins,
    quoted_answer,
    select_sentences,
    sentence_in_sub_unit,
)
from rag.citation import Segment, join_segments
from rag.language import Language, detect_language
from rag.references import ParsedReference, Resolution, UnitRef, parse_reference, resolve_reference
from rag.units import Unit

__all__ = ["answer_reference", "document_titles", "named_documents"]


def document_titles(index: LoadedIndex) -> Iterator[str]:
    """Titles (both languages) and symbols of the indexed documents, as a question may name them.

    Lazy: parse_reference reads them only for a question that names a paragraph, so an ordinary
    question does not walk the whole library.
    """
    for meta in index.documents.values():
        yield from (n for n in (meta.title, meta.title_en, meta.symbol) if n)


def named_documents(question: str, parsed: ParsedReference, index: LoadedIndex) -> tuple[str, ...]:
    """Documents the question names by symbol or title."""
    lowered = question.lower()
    named = []
    for doc, meta in index.documents.items():
        symbol_hit = parsed.symbol is not None and meta.symbol is not None and parsed.symbol.upper() == meta.symbol.upper()
        title_hit = any(t and t.lower() in lowered for t in (meta.title, meta.title_en))
        if symbol_hit or title_hit:
            named.append(doc)
    return tuple(named)


def _ref_text(ref: UnitRef, language: Language) -> str:
    if ref.sub is None:
        return f"第{ref.para}段" if language == "zh" else f"paragraph {ref.para}"
    if ref.sub.startswith("target "):
        number = ref.sub.split()[1]
        return f"第{ref.para}段目标{number}" if language == "zh" else f"paragraph {ref.para}, target {number}"
    return f"第{ref.para}({ref.sub})段" if language == "zh" else f"paragraph {ref.para} ({ref.sub})"


def _missing_sentence(ref: UnitRef, doc: str | None, index: LoadedIndex, language: Language) -> str:
    numbered = index.paragraphs.get(doc, {}) if doc else {}
    if not numbered:
        return "索引中没有编号段落的文件。" if language == "zh" else "No indexed document has numbered paragraphs."
    paragraph = numbered.get(ref.para)
    if paragraph is None:
        first, last = min(numbered), max(numbered)
        return f"本文件只有第{first}至{last}段。" if language == "zh" else f"This document has paragraphs {first} to {last} only."
    labels = [u.sub for u in index.sub_units.get(paragraph.id, ()) if u.sub]
    if not labels:
        return f"第{ref.para}段没有分段。" if language == "zh" else f"Paragraph {ref.para} has no subparagraphs or targets."
    shown = "、".join(_label(s, language) for s in labels) if language == "zh" else ", ".join(_label(s, language) for s in labels)
    if language == "zh":
        return f"第{ref.para}段没有{_label(ref.sub or '', language)}；它有：{shown}。"
    return f"Paragraph {ref.para} has no {_label(ref.sub or '', language)}; it has {shown}."


def _label(sub: str, language: Language) -> str:
    if sub.startswith("target "):
        return f"目标{sub.split()[1]}" if language == "zh" else sub
    return f"({sub})项" if language == "zh" else f"subparagraph ({sub})"


def _plain(question: str, language: Language, text: str, kind: AnswerKind, notes: tuple[str, ...] = ()) -> Answer:
    return Answer(question, language, text, False, (), (), 0.0, False, notes, (Segment(text),), kind)


def _within(units: tuple[Unit, ...], index: LoadedIndex) -> list[Unit]:
    """The units and their sub-units (a paragraph's sentences already cover its sub-units' text)."""
    out: list[Unit] = []
    for unit in units:
        out.append(unit)
        out += [s for s in index.sub_units.get(unit.id, ()) if s not in out]
    return out


def _question_evidence(units: tuple[Unit, ...], index: LoadedIndex, vector: np.ndarray, params: AnswerParams) -> list[QuotedSentence]:
    candidates: dict[tuple[str, int], QuotedSentence] = {}
    for unit in _within(units, index):
        sentences = index.unit_sentences(unit.id)
        if not sentences:
            candidates[(unit.id, 0)] = QuotedSentence(unit, 0, len(unit.text), 0.0)
            continue
        scores = np.stack([v for _, v in sentences]) @ vector
        for (sentence, _), score in zip(sentences, scores.tolist(), strict=True):
            owner, start, end = sentence_in_sub_unit(unit, sentence.start, sentence.end, index)
            key = (owner.id, start)
            if key not in candidates or candidates[key].score < score:
                candidates[key] = QuotedSentence(owner, start, end, float(score))
    return sorted(candidates.values(), key=lambda e: -e.score)


def answer_reference(
    question: str,
    index: LoadedIndex,
    encode: Callable[[str], np.ndarray] | None,
    params: AnswerParams,
    *,
    doc: str | None = None,
    allowed: Collection[str] | None = None,
    focus_for: Callable[[str], Focus] | None = None,
) -> Answer | None:
    """The answer to a question that names a paragraph; None when it names none.

    ``allowed`` is the request's filter (the documents a search may draw from). Language
    versions of one document are not ambiguous: the version in the question's language is
    read when there is one. ``focus_for`` (the question without its reference -> a
    :class:`rag.question_terms.Focus`) picks, as for any answer, the sentence that states what is asked.
    """
    parsed = parse_reference(question, document_titles(index))
    if parsed is None:
        return None
    language = detect_language(question)
    named = named_documents(question, parsed, index)
    resolution: Resolution = resolve_reference(parsed, index.paragraphs, index.sub_units, doc=doc, named_docs=named, allowed=allowed)
    version = _one_document_version(resolution.ambiguous, index, language)
    if version is not None:
        resolution = resolve_reference(parsed, index.paragraphs, index.sub_units, doc=version)
    if resolution.ambiguous:
        names = [index.documents[d].symbol or index.documents[d].title or d for d in resolution.ambiguous]
        text = (
            f"有几份文件都有{_ref_text(parsed.refs[0], language)}：{'、'.join(names)}。请指明文件。"
            if language == "zh"
            else f"Several documents have {_ref_text(parsed.refs[0], language)}: {', '.join(names)}. Name the document."
        )
        return _plain(question, language, text, AnswerKind.AMBIGUOUS)
    missing = tuple(_missing_sentence(ref, resolution.doc, index, language) for ref in resolution.missing)
    missing = tuple(dict.fromkeys(missing))
    if not resolution.units:
        return _plain(question, language, ("" if language == "zh" else " ").join(missing), AnswerKind.NO_SUCH_UNIT)
    if parsed.pure or encode is None:
        citations = tuple(citation_for(u, index, language, ((0, len(u.text)),)) for u in resolution.units)
        segments = tuple(Segment(u.text.strip(), i) for i, u in enumerate(resolution.units))
        text = join_segments(segments, citations, language) if language == "en" else "\n".join(
            join_segments((s,), citations, language) for s in segments
        )
        return Answer(question, language, text, False, citations, (), 1.0, False, missing, segments, AnswerKind.LOOKUP)
    vector = np.asarray(encode(parsed.rest), dtype=np.float32)  # the reference itself would pull "第 81 和 82 段"
    candidates = _question_evidence(resolution.units, index, vector, params)
    if focus_for is not None:
        candidates = focused(candidates, focus_for(parsed.asked), params, list_lead_ins(candidates, index))
    answer = quoted_answer(question, language, select_sentences(candidates, params), index, candidates[0].score, AnswerKind.LOOKUP)
    return Answer(
        answer.question, answer.language, answer.answer, False, answer.citations, (), answer.evidence_score,
        answer.cross_lingual, (*answer.notes, *missing), answer.segments, AnswerKind.LOOKUP,
    )


def _one_document_version(ambiguous: tuple[str, ...], index: LoadedIndex, language: Language) -> str | None:
    """When every candidate is a language version of one document, the one to read (else None)."""
    metas = [index.documents[d] for d in ambiguous if d in index.documents]
    if len(metas) < 2 or len({m.document_key for m in metas}) != 1:
        return None
    return next((m.id for m in metas if m.language == language), metas[0].id)
