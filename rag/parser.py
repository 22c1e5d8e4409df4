"""Recover the citable structure of a UN document from its plain text.

UN documents (Chinese and English alike) number their paragraphs ("26." / "26. The…"), group
them under chapters ("一." / "I."), lettered sections ("A."), numbered and unnumbered headings,
and split paragraphs into sub-items ("(a)") or targets ("目标 11." / "Target 11."). Text
extracted from the published layout adds page-break debris: paragraphs cut mid-sentence by
blank lines, sometimes with the character at the cut repeated on the next page.

The parser works on blank-line blocks. Each block is classified by its opening marker; a
block with no marker either continues the open paragraph (when that paragraph stopped
mid-sentence, i.e. at a page break) or is an unnumbered heading. A numbered block is a
paragraph when its number continues the sequence; a short, unpunctuated numbered block out of
sequence ("1. 名古屋议定书" after paragraph 80) is a numbered heading. Every source character
ends up in a unit, in a marker, in recorded debris, or is whitespace.
"""

from __future__ import annotations

import dataclasses
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.ingest.blocks import Block
from rag.textjoin import TextBlock, TextBuilder, split_blocks
from rag.units import Debris, Layout, ParsedDocument, SourceSpan, Unit, UnitKind, unit_id

__all__ = ["parse_document"]

_CHAPTER = re.compile(r"^(?P<num>[一二三四五六七八九十]+)\s*[.．、]\s*\S|^(?P<roman>[IVXL]{1,6})\.\s+\S")
_SECTION = re.compile(r"^(?P<letter>[A-Z])\s*[.．]\s+\S|^(?P<letter2>[A-Z])[.．](?=[\u3400-\u9fff《“])")
_NUMBERED = re.compile(r"^(?P<num>\d+)\s*[.．](?:\s+|(?=[^\d\s]))")
_SUBITEM = re.compile(r"^\((?P<label>[a-z]{1,4})\)\s*")
_TARGET = re.compile(r"^(?:目标|Target)\s*(?P<num>\d{1,2})\s*[.．:：]\s*")
_FOOTNOTE = re.compile(r"^\*+\s*\S")
_INLINE_SUBITEM = re.compile(r"\((?P<label>[a-z])\)\s*")

_TERMINAL = set("。；：！？.;:!?")
_CLOSERS = "”’\"')）」』]】"
_MAX_HEADING_CHARS = 120
_MAX_UNSEQUENCED_DIGITS = 3  # "2013. …" out of sequence is a year, not paragraph 2013; in sequence it is a paragraph


def _ends_sentence(text: str) -> bool:
    stripped = text.rstrip().rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _TERMINAL


def _looks_like_heading(text: str) -> bool:
    return 0 < len(text) <= _MAX_HEADING_CHARS and not _ends_sentence(text)


@dataclass
class _SubMarker:
    label: str
    text_start: int  # where the marker starts in the paragraph text
    text_content: int  # where the sub-unit's own text starts
    source_marker: tuple[int, int]


@dataclass
class _OpenParagraph:
    number: int
    section: tuple[str, ...]
    marker: tuple[int, int]
    builder: TextBuilder
    start: int
    subs: list[_SubMarker] = field(default_factory=list)


class _Parser:
    """One pass over the blocks of one document; produces units, debris and warnings."""

    def __init__(self, doc: str, source: str) -> None:
        self.doc = doc
        self.source = source
        self.units: list[Unit] = []
        self.debris: list[Debris] = []
        self.warnings: list[str] = []
        self.chapter: str | None = None
        self.section: str | None = None
        self.section_letter: str | None = None
        self.subheading: str | None = None
        self.minor_heading: str | None = None
        self.open: _OpenParagraph | None = None
        self.last_number = 0
        self.started = False
        self.used_ids: set[str] = set()
        self.counters: dict[str, int] = {}

    # -- helpers ---------------------------------------------------------------------------
    def _first_line(self, block: TextBlock) -> str:
        return self.source[block.lines[0].start : block.lines[0].end]

    def _block_text(self, block: TextBlock) -> str:
        builder = TextBuilder(self.source, [])
        builder.append_block(block, block.start)
        return builder.text

    def _path(self) -> tuple[str, ...]:
        return tuple(h for h in (self.chapter, self.section, self.subheading, self.minor_heading) if h)

    def _unique_id(self, *parts: str | int) -> str:
        base = unit_id(self.doc, *parts)
        candidate, n = base, 1
        while candidate in self.used_ids:
            n += 1
            candidate = f"{base}~{n}"
        self.used_ids.add(candidate)
        return candidate

    def _next_label(self, role: str) -> str:
        self.counters[role] = self.counters.get(role, 0) + 1
        return f"{role}-{self.counters[role]}"

    def _simple_unit(self, block: TextBlock, kind: UnitKind, label: str, section: tuple[str, ...]) -> Unit:
        builder = TextBuilder(self.source, self.debris)
        builder.append_block(block, block.start)
        return Unit(
            id=self._unique_id(label),
            doc=self.doc,
            kind=kind,
            para=None,
            sub=None,
            section=section,
            text=builder.text,
            start=block.start,
            end=block.end,
            spans=tuple(builder.spans),
            label=label,
        )

    # -- block handlers --------------------------------------------------------------------
    def feed(self, block: TextBlock) -> None:
        first = self._first_line(block)
        if _FOOTNOTE.match(first):
            self.units.append(self._simple_unit(block, UnitKind.FOOTNOTE, self._next_label("footnote"), self._path()))
            return
        if chapter := _CHAPTER.match(first):
            if self._is_section_not_chapter(chapter):
                self._heading(block, level="section")
            else:
                self._heading(block, level="chapter")
            return
        if _SECTION.match(first) and _looks_like_heading(self._block_text(block)):
            self._heading(block, level="section")
            return
        numbered = _NUMBERED.match(first)
        if numbered and (len(numbered.group("num")) <= _MAX_UNSEQUENCED_DIGITS or int(numbered.group("num")) == self.last_number + 1):
            self._numbered(block, int(numbered.group("num")), block.start + numbered.end())
            return
        if self.open is not None and (sub := _SUBITEM.match(first) or _TARGET.match(first)):
            label = sub.group("label") if "label" in sub.groupdict() else f"target {int(sub.group('num'))}"
            self._sub_block(block, label, block.start + sub.end())
            return
        self._unmarked(block)

    def _is_section_not_chapter(self, match: re.Match[str]) -> bool:
        """"I." is section I after section H, chapter I otherwise (likewise V and X)."""
        roman = match.group("roman")
        if roman is None or len(roman) != 1 or self.section_letter is None:
            return False
        return ord(roman) == ord(self.section_letter) + 1

    def _heading(self, block: TextBlock, *, level: str) -> None:
        self._close_paragraph()
        self.started = True
        text = self._block_text(block)
        if level == "chapter":
            self.chapter, self.section, self.section_letter = text, None, None
            self.subheading = self.minor_heading = None
        elif level == "section":
            self.section, self.subheading, self.minor_heading = text, None, None
            self.section_letter = text[0]
        elif level == "subheading":
            self.subheading, self.minor_heading = text, None
        else:
            self.minor_heading = text
        path = self._path()
        self.units.append(self._simple_unit(block, UnitKind.HEADING, self._next_label("heading"), path[:-1]))

    def _numbered(self, block: TextBlock, number: int, content_start: int) -> None:
        text = self._block_text(block)
        in_sequence = number == self.last_number + 1
        if not in_sequence and self.started and _looks_like_heading(text):
            self._heading(block, level="subheading")
            return
        if not in_sequence:
            kind = "duplicate" if number <= self.last_number else "out-of-order"
            self.warnings.append(
                f"{self.doc}: paragraph {number} is {kind} (previous was {self.last_number}); kept as written"
            )
        self._close_paragraph()
        self.started = True
        builder = TextBuilder(self.source, self.debris)
        builder.append_block(block, content_start)
        self.open = _OpenParagraph(number, self._path(), (block.start, content_start), builder, block.start)
        self.last_number = max(self.last_number, number)

    def _sub_block(self, block: TextBlock, label: str, content_start: int) -> None:
        assert self.open is not None
        builder = self.open.builder
        marker_text_start = len(builder.text) + 1
        builder.append_block(block, block.start, separator="\n")
        self.open.subs.append(
            _SubMarker(label, marker_text_start, marker_text_start + (content_start - block.start), (block.start, content_start))
        )

    def _unmarked(self, block: TextBlock) -> None:
        text = self._block_text(block)
        if self.open is not None and not _ends_sentence(self.open.builder.text):
            self.open.builder.append_block(block, block.start)  # page break mid-sentence
            return
        if not self.started:
            role = self._front_role(text)
            self.units.append(self._simple_unit(block, UnitKind.FRONT, self._next_label(role), ()))
            return
        if _looks_like_heading(text):
            self._heading(block, level="minor")
            return
        if self.open is not None:
            self.open.builder.append_block(block, block.start, separator="\n")  # closing text after sub-items
            return
        self.warnings.append(f"{self.doc}: unnumbered text at offset {block.start} outside any paragraph; kept as its own unit")
        self.units.append(self._simple_unit(block, UnitKind.FRONT, self._next_label("text"), self._path()))

    @staticmethod
    def _front_role(text: str) -> str:
        if re.search(r"^第.+届会议$|\bsession$", text, re.IGNORECASE):
            return "session"
        if re.search(r"议程|agenda", text, re.IGNORECASE):
            return "agenda"
        if _ends_sentence(text) and len(text) > 30:
            return "transmittal"
        return "title"

    # -- paragraphs and sub-units ----------------------------------------------------------
    def _close_paragraph(self) -> None:
        para = self.open
        if para is None:
            return
        self.open = None
        builder = para.builder
        paragraph_id = self._unique_id(para.number)
        subs = para.subs or self._inline_subs(builder.text)
        self.units.append(
            Unit(
                id=paragraph_id,
                doc=self.doc,
                kind=UnitKind.PARAGRAPH,
                para=para.number,
                sub=None,
                section=para.section,
                text=builder.text,
                start=para.start,
                end=builder.source_end(),
                spans=tuple(builder.spans),
                marker=para.marker,
            )
        )
        for i, sub in enumerate(subs):
            end = subs[i + 1].text_start if i + 1 < len(subs) else len(builder.text)
            if not para.subs:  # inline list: the last item ends with its sentence
                end = self._inline_item_end(builder.text, sub.text_content, end)
            self.units.append(self._sub_unit(para, paragraph_id, sub, end))

    def _inline_subs(self, text: str) -> list[_SubMarker]:
        """Items "(a) …；(b) …" written inside the paragraph: only a run a, b, c… counts."""
        markers: list[_SubMarker] = []
        for match in _INLINE_SUBITEM.finditer(text):
            expected = chr(ord("a") + len(markers))
            if match.group("label") == expected:
                markers.append(_SubMarker(expected, match.start(), match.end(), (-1, -1)))
        return markers if len(markers) >= 2 else []

    @staticmethod
    def _inline_item_end(text: str, start: int, limit: int) -> int:
        stop = re.search(r"[。!?！？]|\.(?:\s|$)", text[start:limit])
        return start + stop.end() if stop else limit

    def _sub_unit(self, para: _OpenParagraph, paragraph_id: str, sub: _SubMarker, end: int) -> Unit:
        text = para.builder.text[sub.text_content:end]
        trimmed = len(text) - len(text.rstrip())
        text = text.rstrip()
        spans = _slice_spans(para.builder.spans, sub.text_content, end - trimmed)
        marker_start = _source_at(para.builder.spans, sub.text_start)
        marker_end = _source_at(para.builder.spans, sub.text_content) if sub.text_content < end else marker_start
        return Unit(
            id=self._unique_id(para.number, sub.label),
            doc=self.doc,
            kind=UnitKind.SUB,
            para=para.number,
            sub=sub.label,
            section=para.section,
            text=text,
            start=marker_start if marker_start is not None else (spans[0].start if spans else para.start),
            end=spans[-1].end if spans else para.start,
            spans=spans,
            marker=(marker_start, marker_end) if marker_start is not None and marker_end is not None else None,
            parent=paragraph_id,
        )

    def finish(self) -> None:
        self._close_paragraph()


def _slice_spans(spans: list[SourceSpan], start: int, end: int) -> tuple[SourceSpan, ...]:
    """Spans of ``text[start:end]``, re-based so the slice starts at text offset 0."""
    out: list[SourceSpan] = []
    for span in spans:
        length = span.end - span.start
        lo, hi = max(start, span.text_start), min(end, span.text_start + length)
        if lo < hi:
            out.append(SourceSpan(lo - start, span.start + lo - span.text_start, span.start + hi - span.text_start))
    return tuple(out)


def _source_at(spans: list[SourceSpan], text_offset: int) -> int | None:
    for span in spans:
        if span.text_start <= text_offset < span.text_start + span.end - span.start:
            return span.start + text_offset - span.text_start
    return None


def _parse_plain(doc: str, source: str, blocks: list[TextBlock]) -> tuple[list[Unit], list[Debris]]:
    """Fallback for text that is not a UN document: each blank-line block is one paragraph."""
    debris: list[Debris] = []
    units = []
    for number, block in enumerate(blocks, start=1):
        builder = TextBuilder(source, debris)
        builder.append_block(block, block.start)
        units.append(
            Unit(
                id=unit_id(doc, number),
                doc=doc,
                kind=UnitKind.PARAGRAPH,
                para=number,
                sub=None,
                section=(),
                text=builder.text,
                start=block.start,
                end=block.end,
                spans=tuple(builder.spans),
            )
        )
    return units, debris


def _with_pages(units: Sequence[Unit], body: Sequence[Block]) -> tuple[Unit, ...]:
    """Give each unit the page of the reader block it starts in (formats with pages only)."""
    if not any(b.page is not None for b in body):
        return tuple(units)
    starts = [b.offset for b in body]
    return tuple(dataclasses.replace(u, page=body[max(0, bisect_right(starts, u.start) - 1)].page) for u in units)


def parse_document(
    doc: str, source: str, *, path: str = "", encoding: str = "utf-8", blocks: Sequence[Block] | None = None
) -> ParsedDocument:
    """Split a document's decoded text into citable units.

    Args:
        doc: the document id used in every unit id.
        source: the decoded (or, for PDF/Word/HTML, extracted) text; all offsets refer to it.
        path: where the text came from, for messages.
        encoding: the encoding it was decoded from, recorded for provenance.
        blocks: a reader's blocks tiling ``source`` (see ``rag.ingest``); running headers and
            footers among them become debris, and units take their page. None: the whole text.
    """
    body = [b for b in blocks if b.running is None] if blocks is not None else []
    running = [Debris(b.offset, b.offset + len(b.text), b.running) for b in blocks or () if b.running is not None]
    text_blocks = split_blocks(source) if blocks is None else [tb for b in body for tb in split_blocks(source, b.offset, b.offset + len(b.text))]
    if not text_blocks:
        return ParsedDocument(doc, path, source, encoding, Layout.PLAIN, (), tuple(running), (f"{path or doc}: the document is empty",))
    parser = _Parser(doc, source)
    for block in text_blocks:
        parser.feed(block)
    parser.finish()
    numbered = sum(1 for u in parser.units if u.kind is UnitKind.PARAGRAPH)
    if numbered >= 2:
        debris = tuple(sorted([*parser.debris, *running], key=lambda d: d.start))
        return ParsedDocument(
            doc, path, source, encoding, Layout.UN, _with_pages(parser.units, body), debris, tuple(parser.warnings)
        )
    units, debris = _parse_plain(doc, source, text_blocks)
    warning = f"{path or doc}: no UN paragraph numbering found; blank-line blocks numbered 1..{len(units)} in order"
    debris = sorted([*debris, *running], key=lambda d: d.start)
    return ParsedDocument(doc, path, source, encoding, Layout.PLAIN, _with_pages(units, body), tuple(debris), (warning,))
