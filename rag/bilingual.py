"""Language versions in answers: every citation carries its aligned units, and an answer
whose evidence was found in one language quotes the question's language when the library
holds that version of the same paragraph.

Paragraph numbers align across the official versions of a UN document, sentences do not, so
the quoted sentence of the aligned version is chosen the way evidence is chosen everywhere:
by the question's vector over that unit's stored sentence vectors.

A refusal is reconsidered the same way: a cross-lingual refusal compares an English question
with Chinese sentences against the (lower, noisier) cross-language threshold; when the library
holds the English version of a closest paragraph, its best sentence is judged against the
same-language threshold instead, and quoted when it passes.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rag.answer import Answer, AnswerKind, AnswerParams, Citation, make_citation
from rag.citation import Segment
from rag.library import Library
from rag.units import Unit

__all__ = ["LANGUAGE_NAMES", "with_versions"]

LANGUAGE_NAMES = {
    "en": {"zh": "Chinese", "en": "English", "fr": "French", "es": "Spanish", "ru": "Russian", "ar": "Arabic"},
    "zh": {"zh": "中文", "en": "英文", "fr": "法文", "es": "西班牙文", "ru": "俄文", "ar": "阿拉伯文"},
}


def _best_spans(library: Library, unit: Unit, query: np.ndarray, count: int) -> tuple[tuple[int, int], ...]:
    """The ``count`` sentences of ``unit`` closest to the question, in reading order."""
    return _scored_spans(library, unit, query, count)[0]


def _scored_spans(library: Library, unit: Unit, query: np.ndarray, count: int) -> tuple[tuple[tuple[int, int], ...], float]:
    """The ``count`` best sentences of ``unit`` (reading order) and the best one's cosine."""
    sentences = library.index.unit_sentences(unit.id)
    if not sentences:
        return (((0, len(unit.text)),) if unit.text else ()), 0.0
    scores = np.stack([v for _, v in sentences]) @ query
    order = np.argsort(-scores, kind="stable")
    chosen = sorted(order[: max(count, 1)].tolist())
    return tuple((sentences[i][0].start, sentences[i][0].end) for i in chosen), float(scores[order[0]])


def _reconsider_refusal(answer: Answer, library: Library, query: np.ndarray, params: AnswerParams) -> Answer:
    """Answer from the question's-language version of a closest paragraph when its best sentence
    passes the same-language threshold (a lower-ranked paragraph must win by a margin, as in rag.answer)."""
    best: tuple[float, Citation, Citation] | None = None
    for rank, candidate in enumerate(answer.see_also):
        if candidate.language == answer.language:
            continue
        own = next((v for v in candidate.versions if v.language == answer.language), None)
        unit = library.index.units.get(own.id) if own else None
        if own is None or unit is None:
            continue
        spans, score = _scored_spans(library, unit, query, 1)
        score -= params.other_unit_margin if rank else 0.0
        if best is None or score > best[0]:
            best = (score, candidate, replace(own, spans=spans))
    if best is None or best[0] < params.refuse_below_same_language:
        return answer
    score, candidate, own = best
    source = library.index.units[candidate.id]
    source_spans = _best_spans(library, source, query, 1)
    versions = tuple(own if v.id == own.id else replace(v, spans=source_spans) if v.id == candidate.id else v for v in candidate.versions)
    cited = replace(candidate, spans=source_spans, versions=versions)
    return replace(answer, refused=False, citations=(cited,), see_also=(), evidence_score=score, cross_lingual=True)


def _versions(citation: Citation, library: Library, language: str, query: np.ndarray) -> tuple[Citation, ...]:
    unit = library.index.units.get(citation.id)
    if unit is None:
        return ()
    versions = []
    for version_language, aligned in library.aligned(unit).items():
        if aligned.id == citation.id:
            versions.append(replace(citation, versions=()))
            continue
        spans = _best_spans(library, aligned, query, len(citation.spans)) if citation.spans else ()
        version = make_citation(aligned, library.symbol(aligned.doc), language, spans)  # type: ignore[arg-type]
        versions.append(replace(version, language=version_language))  # type: ignore[arg-type]
    return tuple(versions) if len(versions) > 1 else ()


def with_versions(answer: Answer, library: Library, query_vector: np.ndarray | None, params: AnswerParams | None = None) -> Answer:
    """``answer`` with aligned versions on every citation; a cross-lingual answer re-quoted in the
    question's language when every cited paragraph has a version in it (the note says which
    language was searched); with ``params``, a cross-lingual refusal reconsidered on that version."""
    query = np.asarray(query_vector, dtype=np.float32) if query_vector is not None else None
    if query is None or not library.index.documents:
        return answer
    citations = tuple(replace(c, versions=_versions(c, library, answer.language, query)) for c in answer.citations)
    see_also = tuple(replace(c, versions=_versions(c, library, answer.language, query)) for c in answer.see_also)
    answer = replace(answer, citations=citations, see_also=see_also)
    if answer.refused and params is not None:
        answer = _reconsider_refusal(answer, library, query, params)
        citations = answer.citations
    if answer.refused or not answer.cross_lingual or not citations:
        return answer
    own = [next((v for v in c.versions if v.language == answer.language), None) for c in citations]
    if any(v is None for v in own):
        return answer
    searched = sorted({c.language for c in citations})
    names = LANGUAGE_NAMES[answer.language]
    searched_names = ", ".join(names.get(s, s) for s in searched)
    parts = []
    quotes: list[Segment] = []
    for position, version in enumerate(own):
        assert version is not None
        quoted = " ".join(version.text[start:end].strip() for start, end in version.spans) or version.text
        quotes.append(Segment(quoted, position))
        parts.append(f"{quoted} ({version.reference})" if answer.language == "en" else f"{quoted}（{version.reference}）")
    if answer.language == "en":
        lead = f"Found in the {searched_names} version; quoted from the English version of the same paragraph: "
        note = f"searched the {searched_names} text; quoted the English version of the same paragraph"
    else:
        lead = f"在{searched_names}本中找到；引自同一段落的中文本："
        note = f"检索了{searched_names}本；引用同一段落的中文本"
    notes = (*(n for n in answer.notes if "not translated" not in n), note)
    text = lead + (" " if answer.language == "en" else "").join(parts)
    # a refusal reconsidered here becomes an answer: its segments are the quotes, each citing its paragraph
    segments = (Segment(lead), *quotes)
    kind = AnswerKind.ANSWER if answer.kind is AnswerKind.REFUSAL else answer.kind
    return replace(answer, answer=text, cross_lingual=False, notes=notes, segments=segments, kind=kind)
