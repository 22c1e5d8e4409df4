"""PDF reader on pypdfium2 (Google's PDFium; BSD/Apache, not AGPL code): lines by position, grouped into paragraphs.

PDFium finds the lines (and the spaces a layout engine leaves out of the content stream); each
line's box comes from its characters' boxes. A PDF has lines, not paragraphs: a new paragraph
starts where the gap above a line is clearly larger than the document's line gap, after a line
that stops well short of the right margin, or at a line opening with a paragraph or chapter
number ("30.", "三.") after a line that closed a sentence. Lines at a page's top and bottom edge
that are running headers or footers (see ``running``) are kept as running blocks. Each page is
its own run of blocks, so a paragraph that crosses a page break arrives as two blocks and the
parser joins them as it does for the text seed.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from rag.ingest.blocks import Extracted, IngestError, SourceBuilder
from rag.ingest.running import edge_running_lines

__all__ = ["read_pdf"]

_EDGE_BAND = 0.12  # share of the page height, top and bottom, where running lines may sit
_EDGE_LINES = 3
_PARAGRAPH_GAP = 0.3  # extra gap, in line heights, that separates paragraphs
_SHORT_LINE = 2.0  # a line ending this many line heights short of the margin ends its paragraph
# A line that opens with a paragraph number right after a line that closed a sentence starts a paragraph,
# even where the layout has no paragraph spacing and the previous line happened to fill the measure.
_MARKER = re.compile(r"^(?:\d+\s*[.．]\s*\S|[一二三四五六七八九十]+[.．、]|[IVXL]+\.\s|(?:目标|Target)\s*\d+)")
_SENTENCE_END = re.compile(r"[。！？.!?][”’\"')）]*$")  # not ；: — "(c)" after "；" is an inline list that wrapped
_CJK_SPACE = re.compile(r"(?<=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’《》]) (?=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’《》])")


@dataclass(frozen=True)
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float


def _open_error(path: Path, error: Exception) -> IngestError:
    chain, cause = [], error
    while cause is not None:
        chain.append(f"{type(cause).__name__} {cause}")
        cause = cause.__cause__ or cause.__context__
    described = " ".join(chain)
    if re.search(r"Password|Encrypt", described, re.IGNORECASE):
        return IngestError(f"{path}: the PDF is encrypted (password-protected); remove the password and add it again")
    return IngestError(f"{path}: not a readable PDF ({type(error).__name__}: {error})")


def _page_lines(page) -> list[_Line]:
    """The page's lines, top to bottom, with boxes in points from the top-left corner."""
    height = page.get_height()
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        lines, index = [], 0
        for raw in re.split(r"(\r\n|\n|\r)", text):
            if raw in ("\r\n", "\n", "\r"):
                index += len(raw)
                continue
            boxes = [textpage.get_charbox(index + k) for k, ch in enumerate(raw) if not ch.isspace()]
            index += len(raw)
            cleaned = _CJK_SPACE.sub("", raw).strip()
            if cleaned and boxes:
                left, bottom, right, top = (min(b[0] for b in boxes), min(b[1] for b in boxes),
                                            max(b[2] for b in boxes), max(b[3] for b in boxes))
                lines.append(_Line(cleaned, left, right, height - top, height - bottom))
        return lines
    finally:
        textpage.close()


def read_pdf(path: Path, data: bytes) -> Extracted:
    """Read a PDF's text layer; raises IngestError for encrypted, damaged or image-only PDFs."""
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(data)
    except Exception as error:  # PdfiumError for damaged or encrypted files
        raise _open_error(path, error) from error
    try:
        pages = []
        for number in range(len(document)):
            page = document[number]
            pages.append((_page_lines(page), float(page.get_height())))
            page.close()
    except Exception as error:
        raise IngestError(f"{path}: the PDF is damaged ({type(error).__name__}: {error})") from error
    finally:
        document.close()
    if not pages:
        raise IngestError(f"{path}: the PDF has no pages")
    if not any(lines for lines, _ in pages):
        raise IngestError(f"{path}: the PDF has no text layer (scanned images?); run OCR on it first")
    warnings = []
    empty = [str(n) for n, (lines, _) in enumerate(pages, start=1) if not lines]
    if empty:
        warnings.append(f"{path}: page(s) {', '.join(empty)} have no text layer (images?) and were skipped")

    edges = []
    for lines, height in pages:
        n = len(lines)
        index_edge = set(range(min(_EDGE_LINES, n))) | set(range(max(0, n - _EDGE_LINES), n))
        edges.append({i for i in index_edge
                      if lines[i].bottom < height * _EDGE_BAND or lines[i].top > height * (1 - _EDGE_BAND)})
    running = edge_running_lines([[line.text for line in lines] for lines, _ in pages], edges)

    body = [line for p, (lines, _) in enumerate(pages) for i, line in enumerate(lines) if (p, i) not in running]
    height = median(line.bottom - line.top for line in body) if body else 10.0
    gaps = sorted(b.top - a.bottom for a, b in itertools.pairwise(body) if b.top > a.bottom - height / 2)
    line_gap = gaps[len(gaps) // 5] if gaps else 0.0
    ends = sorted(line.x1 for line in body)
    right = ends[int(len(ends) * 0.9)] if ends else 0.0  # the measure's right edge; a wide table line does not move it

    builder = SourceBuilder(str(path))
    for p, (lines, _) in enumerate(pages):
        paragraph: list[_Line] = []
        for i, line in enumerate(lines):
            reason = running.get((p, i))
            starts_new = bool(paragraph) and (
                line.top - paragraph[-1].bottom > line_gap + _PARAGRAPH_GAP * height
                or paragraph[-1].x1 < right - _SHORT_LINE * height
                or line.top < paragraph[-1].top  # a new column or a text box
                or (_MARKER.match(line.text) is not None and _SENTENCE_END.search(paragraph[-1].text) is not None)
            )
            if paragraph and (reason is not None or starts_new):
                builder.add("\n".join(item.text for item in paragraph), p + 1)
                paragraph = []
            if reason is not None:
                builder.add(line.text, p + 1, reason)
            else:
                paragraph.append(line)
        if paragraph:
            builder.add("\n".join(item.text for item in paragraph), p + 1)
    header = tuple(dict.fromkeys(b.text for b in builder.blocks if b.running and "symbol" in b.running))
    return Extracted(str(path), "pdf", builder.source, "pdf", tuple(builder.blocks), header, tuple(warnings))
