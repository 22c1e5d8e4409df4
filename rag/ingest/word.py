"""Word (.docx) reader: body paragraphs with Word's own automatic numbering rendered as text.

UN Word documents number paragraphs ("26."), sub-items ("(a)") and chapters ("一.") with Word
list numbering: the number is not in the paragraph's text but computed from ``numbering.xml``
(format, level text such as ``%1.`` or ``(%2)``, start value, restarts). We replay that counter
so the parser sees the label the reader of the document sees. Running headers and footers live
in their own parts in a .docx and are never body text; header lines are kept for the catalogue
(the symbol, and on a first-page header the issuing body and date).
Pages are known only where Word recorded them (rendered or hard page breaks).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.ingest.blocks import Extracted, IngestError, SourceBuilder
from rag.ingest.numbering import format_counter

__all__ = ["read_docx"]

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_LEVELS = 9


def _val(element, tag: str) -> str | None:
    child = element.find(_W + tag) if element is not None else None
    return child.get(_W + "val") if child is not None else None


@dataclass(frozen=True)
class _Level:
    start: int
    fmt: str
    text: str
    suffix: str
    legal: bool


class _WordNumbering:
    """Replays Word's list counters over the paragraphs in document order."""

    def __init__(self, root) -> None:
        self.abstract: dict[str, dict[int, _Level]] = {}
        self.nums: dict[str, tuple[str, dict[int, int]]] = {}
        self.counters: dict[str, list[int | None]] = {}
        if root is None:
            return
        for abstract in root.iter(_W + "abstractNum"):
            levels = {}
            for lvl in abstract.iter(_W + "lvl"):
                levels[int(lvl.get(_W + "ilvl", "0"))] = _Level(
                    start=int(_val(lvl, "start") or 1),
                    fmt=_val(lvl, "numFmt") or "decimal",
                    text=_val(lvl, "lvlText") or "",
                    suffix={"nothing": "", "space": " "}.get(_val(lvl, "suff") or "tab", " "),
                    legal=lvl.find(_W + "isLgl") is not None,
                )
            self.abstract[abstract.get(_W + "abstractNumId")] = levels
        for num in root.iter(_W + "num"):
            overrides = {}
            for override in num.iter(_W + "lvlOverride"):
                start = _val(override, "startOverride")
                if start is not None:
                    overrides[int(override.get(_W + "ilvl", "0"))] = int(start)
            self.nums[num.get(_W + "numId")] = (_val(num, "abstractNumId") or "", overrides)

    def label(self, num_id: str, ilvl: int) -> str | None:
        """The rendered label of the next item of list ``num_id`` at level ``ilvl``, counting it."""
        if num_id not in self.nums or not 0 <= ilvl < _LEVELS:
            return None
        abstract_id, overrides = self.nums[num_id]
        levels = self.abstract.get(abstract_id, {})
        if ilvl not in levels:
            return None
        counters = self.counters.setdefault(num_id, [None] * _LEVELS)
        current = counters[ilvl]
        counters[ilvl] = overrides.get(ilvl, levels[ilvl].start) if current is None else current + 1
        for deeper in range(ilvl + 1, _LEVELS):
            counters[deeper] = None
        level = levels[ilvl]
        text = level.text
        for k in range(ilvl + 1):
            if f"%{k + 1}" not in text:
                continue
            value = counters[k] if counters[k] is not None else levels.get(k, level).start
            rendered = format_counter(value, "decimal" if level.legal else levels.get(k, level).fmt)
            if rendered is None:
                return None  # a bullet: no label the parser could use
            text = text.replace(f"%{k + 1}", rendered)
        if levels[ilvl].fmt == "bullet":
            return None
        return text + level.suffix if text else None


class _StyleLists:
    """numPr of each paragraph style, inherited through ``basedOn`` (read once: python-docx's lookups are slow)."""

    def __init__(self, styles_root) -> None:
        self.own: dict[str, object] = {}
        self.based_on: dict[str, str] = {}
        self.default: str | None = None
        for style in styles_root.iter(_W + "style"):
            if style.get(_W + "type") != "paragraph":
                continue
            style_id = style.get(_W + "styleId")
            p_pr = style.find(_W + "pPr")
            self.own[style_id] = p_pr.find(_W + "numPr") if p_pr is not None else None
            if (base := _val(style, "basedOn")) is not None:
                self.based_on[style_id] = base
            if style.get(_W + "default") in ("1", "true"):
                self.default = style_id

    def num_pr(self, style_id: str | None):
        seen: set[str] = set()
        style_id = style_id or self.default
        while style_id is not None and style_id not in seen:
            seen.add(style_id)
            if self.own.get(style_id) is not None:
                return self.own[style_id]
            style_id = self.based_on.get(style_id)
        return None


def _num_pr(paragraph, styles: _StyleLists) -> tuple[str, int] | None:
    """(numId, ilvl) from the paragraph, else from its style chain."""
    p_pr = paragraph._p.pPr
    num_pr = p_pr.find(_W + "numPr") if p_pr is not None else None
    if num_pr is None:
        num_pr = styles.num_pr(_val(p_pr, "pStyle") if p_pr is not None else None)
    if num_pr is None:
        return None
    num_id = _val(num_pr, "numId")
    if num_id is None or num_id == "0":
        return None
    return num_id, int(_val(num_pr, "ilvl") or 0)


def _body_paragraphs(document):
    """Body paragraphs in order: table cells (each merged cell once) and content controls (``w:sdt``) included."""
    from docx.text.paragraph import Paragraph

    def walk(container):
        for child in container.iterchildren():
            if child.tag == _W + "p":
                yield Paragraph(child, document.part)
            elif child.tag == _W + "tbl":
                for row in child.findall(_W + "tr"):
                    for cell in row.findall(_W + "tc"):
                        yield from walk(cell)
            elif child.tag == _W + "sdt":
                content = child.find(_W + "sdtContent")
                if content is not None:
                    yield from walk(content)

    yield from walk(document.element.body)


def _page_breaks(paragraph, rendered: bool) -> int:
    if rendered:
        return len(paragraph._p.findall(f".//{_W}lastRenderedPageBreak"))
    return sum(1 for br in paragraph._p.iter(_W + "br") if br.get(_W + "type") == "page")


def read_docx(path: Path, data: bytes) -> Extracted:
    """Read a .docx; raises IngestError when it is not a readable Word document."""
    import io

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        try:
            numbering_root = document.part.numbering_part.element
        except (KeyError, NotImplementedError):
            numbering_root = None
        numbering = _WordNumbering(numbering_root)
        styles = _StyleLists(document.styles.element)
        paragraphs = list(_body_paragraphs(document))
        header_lines = []
        for section in document.sections:
            for header in (section.header, section.first_page_header, section.even_page_header):
                if not header.is_linked_to_previous:
                    header_lines += [p.text.strip() for p in header.paragraphs if p.text.strip()]
    except Exception as error:  # python-docx, zipfile and lxml raise many kinds for a damaged file
        raise IngestError(f"{path}: not a readable Word (.docx) document ({type(error).__name__}: {error})") from error
    rendered = any(p._p.find(f".//{_W}lastRenderedPageBreak") is not None for p in paragraphs)
    has_pages = rendered or any(_page_breaks(p, False) for p in paragraphs)
    builder = SourceBuilder(str(path))
    page = 1
    for paragraph in paragraphs:
        p_pr = paragraph._p.pPr
        if has_pages and not rendered and p_pr is not None and p_pr.find(_W + "pageBreakBefore") is not None:
            page += 1
        text = paragraph.text.strip()
        num = _num_pr(paragraph, styles)
        label = numbering.label(*num) if num else None
        if text:
            builder.add(f"{label}{text}" if label else text, page if has_pages else None)
        if has_pages:
            page += _page_breaks(paragraph, rendered)
    return Extracted(str(path), "docx", builder.source, "docx", tuple(builder.blocks), tuple(dict.fromkeys(header_lines)))
