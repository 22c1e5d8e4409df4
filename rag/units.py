"""The citable units a document is made of, and the parsed document that holds them.

Every answer cites a unit, so a unit carries everything a citation needs: a stable id, the
paragraph number and sub-unit label, the heading path, the text, and where that text lies in
the source file (character offsets into the decoded file) so a client can show it in place.
Units are immutable: once parsed, a citation can never drift from what was indexed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Debris", "Layout", "ParsedDocument", "SourceSpan", "Unit", "UnitKind", "unit_id"]


class UnitKind(StrEnum):
    """What a unit is; decides how it is cited and whether it is retrievable."""

    PARAGRAPH = "paragraph"  # numbered paragraph ("26.") or, for plain text, a blank-line block
    SUB = "sub"  # sub-item "(a)" or target "目标 11." inside a paragraph
    FRONT = "front"  # front matter: session, agenda item, title, transmittal sentence
    FOOTNOTE = "footnote"  # "* A/68/150。"
    HEADING = "heading"  # chapter, lettered section, numbered or unnumbered heading

    @property
    def retrievable(self) -> bool:
        """Headings live in every paragraph's section path; they are not answers themselves."""
        return self is not UnitKind.HEADING


class Layout(StrEnum):
    """How the document's structure was recovered."""

    UN = "un"  # numbered paragraphs in UN style were found
    PLAIN = "plain"  # fallback: blank-line blocks numbered in order, not real paragraph numbers


@dataclass(frozen=True, slots=True)
class SourceSpan:
    """Maps ``text[text_start:text_start + (end - start)]`` to ``source[start:end]``."""

    text_start: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Unit:
    """One citable (or, for headings, structural) piece of a document.

    ``text`` is the clean text: page-break joins repaired, the unit's own marker ("26.", "(a)",
    "目标 11.") removed. ``start``/``end`` bound the unit in the decoded source, marker included;
    ``spans`` map pieces of ``text`` back to the source exactly (joins insert no source text).
    """

    id: str
    doc: str
    kind: UnitKind
    para: int | None
    sub: str | None
    section: tuple[str, ...]
    text: str
    start: int
    end: int
    spans: tuple[SourceSpan, ...] = ()
    marker: tuple[int, int] | None = None
    parent: str | None = None  # id of the enclosing paragraph, for sub-units
    label: str | None = None  # for unnumbered units: "title-1", "footnote-1", "heading-3"…
    page: int | None = None  # page of the file where the unit starts, when the format has pages (PDF)

    def source_offset(self, text_offset: int) -> int | None:
        """Source offset of a character of ``text``; None for characters a join inserted."""
        for span in self.spans:
            if span.text_start <= text_offset < span.text_start + (span.end - span.start):
                return span.start + text_offset - span.text_start
        return None

    def to_record(self) -> dict[str, object]:
        """The JSON shape used by the CLI and the API."""
        return {
            "id": self.id,
            "doc": self.doc,
            "kind": self.kind.value,
            "para": self.para,
            "sub": self.sub,
            "label": self.label,
            "section": list(self.section),
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "page": self.page,
        }


@dataclass(frozen=True, slots=True)
class Debris:
    """Source characters deliberately left out of every unit, with the reason."""

    start: int
    end: int
    reason: str


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """A document split into units, plus everything the parser noticed on the way."""

    doc: str
    path: str
    source: str
    encoding: str
    layout: Layout
    units: tuple[Unit, ...]
    debris: tuple[Debris, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def paragraphs(self) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if u.kind is UnitKind.PARAGRAPH)

    def paragraph(self, number: int) -> Unit | None:
        return next((u for u in self.paragraphs if u.para == number), None)

    def sub_units(self, paragraph: Unit) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if u.parent == paragraph.id)


def unit_id(doc: str, *parts: str | int) -> str:
    """Stable id: document id, then paragraph number or unit label, then sub-unit slug.

    >>> unit_id("A-68-1", 85, "target 11")
    'A-68-1/85/target-11'
    """
    return "/".join([doc, *(str(p).replace(" ", "-") for p in parts)])
