"""Language versions in answers: every citation carries its aligned units, and an answer
whose evidence was found in one language quotes the question's language when the library
holds that version of the same paragraph.

Paragraph numbers align across the official versions of a UN document, sentences do not, so
the quoted sentence of the aligned version is chosen the way evidence is chosen everywhere:
by the question's vector over that unit's stored sentence vectors.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rag.answer import Answer, Citation, make_citation
from rag.library import Library
from rag.units import Unit

__all__ = ["LANGUAGE_NAMES", "with_versions"]

LANGUAGE_NAMES = {
    "en": {"zh": "Chinese", "en": "English", "fr": "French", "es": "Spanish", "ru": "Russian", "ar": "Arabic"},
    "zh": {"zh": "中文", "en": "英文", "fr": "法文", "es": "西班牙文", "ru": "俄文", "ar": "阿拉伯文"},
}


def _best_spans(library: Library, unit: Unit, query: np.ndarray, count: int) -> tuple[tuple[int, int], ...]:
    """The ``count`` sentences of ``unit`` closest to the question, in reading order."""
    sentences = library.index.unit_sentences(unit.id)
    if not sentences:
        return ((0, len(unit.text)),) if unit.text else ()
    scores = np.stack([v for _, v in sentences]) @ query
    chosen = sorted(np.argsort(-scores, kind="stable")[: max(count, 1)].tolist())
    return tuple((sentences[i][0].start, sentences[i][0].end) for i in chosen)


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


def with_versions(answer: Answer, library: Library, query_vector: np.ndarray | None) -> Answer:
    """``answer`` with aligned versions on every citation; a cross-lingual answer re-quoted in the
    question's language when every cited paragraph has a version in it (the note says which
    language was searched)."""
    query = np.asarray(query_vector, dtype=np.float32) if query_vector is not None else None
    if query is None or not library.index.documents:
        return answer
    citations = tuple(replace(c, versions=_versions(c, library, answer.language, query)) for c in answer.citations)
    see_also = tuple(replace(c, versions=_versions(c, library, answer.language, query)) for c in answer.see_also)
    answer = replace(answer, citations=citations, see_also=see_also)
    if answer.refused or not answer.cross_lingual or not citations:
        return answer
    own = [next((v for v in c.versions if v.language == answer.language), None) for c in citations]
    if any(v is None for v in own):
        return answer
    searched = sorted({c.language for c in citations})
    names = LANGUAGE_NAMES[answer.language]
    searched_names = ", ".join(names.get(s, s) for s in searched)
    parts = []
    for version in own:
        assert version is not None
        quoted = " ".join(version.text[start:end].strip() for start, end in version.spans) or version.text
        parts.append(f"{quoted} ({version.reference})" if answer.language == "en" else f"{quoted}（{version.reference}）")
    if answer.language == "en":
        lead = f"Found in the {searched_names} version; quoted from the English version of the same paragraph: "
        note = f"searched the {searched_names} text; quoted the English version of the same paragraph"
    else:
        lead = f"在{searched_names}本中找到；引自同一段落的中文本："
        note = f"检索了{searched_names}本；引用同一段落的中文本"
    notes = (*(n for n in answer.notes if "not translated" not in n), note)
    text = lead + (" " if answer.language == "en" else "").join(parts)
    return replace(answer, answer=text, cross_lingual=False, notes=notes)
