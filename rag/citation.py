"""How a unit is cited: the ONE place that formats references and cuts answers into segments.

The CLI, the API and the page all show "第26段" / "para. 85, target 11"; the rules live here
only (the page receives formatted references and never re-implements them). An answer is an
ordered list of segments, each a piece of text and the index of the citation it rests on (or
None for connecting text), so a client can put a chip after each quoted sentence without
parsing the flat answer text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.language import Language, detect_language
from rag.units import Unit, UnitKind

__all__ = [
    "Citation",
    "Segment",
    "bracket",
    "format_reference",
    "join_segments",
    "make_citation",
    "segments_from_text",
    "text_language",
]


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
    kind: str = UnitKind.PARAGRAPH.value
    versions: tuple[Citation, ...] = ()  # the same unit in every language version of the document (rag.bilingual)
    page: int | None = None  # the page the unit starts on, where the source has pages (PDF, paged text)

    @property
    def numbered(self) -> bool:
        """Cites a numbered paragraph or one of its sub-units (not front matter or a footnote)."""
        return self.para is not None and self.kind in (UnitKind.PARAGRAPH.value, UnitKind.SUB.value)

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
            "kind": self.kind,
            "section": list(self.section),
            "text": self.text,
            "spans": [list(s) for s in self.spans],
            "reference": self.reference,
            "language": self.language,
            "page": self.page,
        }


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of the answer and the index into the answer's citations it quotes (None: no citation)."""

    text: str
    citation: int | None = None

    def to_record(self) -> dict[str, object]:
        return {"text": self.text, "citation": self.citation}


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


def bracket(reference: str, language: Language) -> str:
    """The reference as it follows a quoted sentence: "（第26段）" / " (para. 26)"."""
    return f"（{reference}）" if language == "zh" else f" ({reference})"


def text_language(text: str) -> Language | None:
    """The language of a quoted text, or None when it has no words to judge by.

    "* A/68/150。" or "4 300" is neither Chinese nor English: labelling it "English, not
    translated" under a Chinese question is wrong. A text counts as English only with at least
    one Latin word of three letters or more.
    """
    if any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text):
        return detect_language(text)
    run = longest = 0
    for ch in text:
        run = run + 1 if ("a" <= ch.lower() <= "z") else 0
        longest = max(longest, run)
    return "en" if longest >= 3 else None


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
        kind=unit.kind.value,
        page=unit.page,
    )


def join_segments(segments: Sequence[Segment], citations: Sequence[Citation], language: Language) -> str:
    """The flat answer text: each cited segment followed by its bracketed reference."""
    parts: list[str] = []
    for position, segment in enumerate(segments):
        text = segment.text
        following = segments[position + 1].citation if position + 1 < len(segments) else None
        if segment.citation is not None and following != segment.citation:  # one bracket per run of a unit
            text += bracket(citations[segment.citation].reference, language)
        parts.append(text)
    glue = "" if language == "zh" else " "
    return glue.join(p.strip() if language == "en" else p for p in parts if p.strip())


def segments_from_text(text: str, citations: Sequence[Citation], language: Language) -> tuple[Segment, ...]:
    """Cut a flat answer (a generated one) at its bracketed references, longest reference first."""
    markers = sorted(
        ((bracket(c.reference, language).strip(), i) for i, c in enumerate(citations)), key=lambda m: -len(m[0])
    )
    segments: list[Segment] = []
    rest = text
    while rest:
        found = [(rest.find(marker), -len(marker), marker, i) for marker, i in markers if marker in rest]
        if not found:
            segments.append(Segment(rest.strip()))
            break
        position, _, marker, index = min(found)
        piece = rest[:position].strip()
        if piece:
            segments.append(Segment(piece, index))
        rest = rest[position + len(marker) :]
    return tuple(s for s in segments if s.text)
