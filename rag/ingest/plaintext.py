"""Plain-text reader: decode (UTF-8, GB18030, UTF-16 with or without BOM), split pages at form feeds.

Text extracted from a PDF (``pdftotext``) keeps each page's running header and footer and
separates pages with a form feed; those lines become running blocks so the parser can join a
paragraph across the page break. The source is the decoded file, unchanged, so offsets are the file's.
"""

from __future__ import annotations

import re
from pathlib import Path

from rag.ingest.blocks import Block, Extracted, IngestError
from rag.ingest.running import edge_running_lines
from rag.textio import DocumentDecodeError, decode_document

__all__ = ["read_text"]


def _page_lines(source: str) -> list[list[tuple[int, int]]]:
    """Per form-feed page, the (start, end) of each non-blank line, trimmed."""
    pages: list[list[tuple[int, int]]] = [[]]
    for match in re.finditer(r"[^\n\f]*(\f|\n|$)", source):
        raw = match.group(0).rstrip("\n\f")
        stripped = raw.strip(" \t\r\u3000\ufeff")
        if stripped:
            start = match.start() + raw.index(stripped)
            pages[-1].append((start, start + len(stripped)))
        if match.group(1) == "\f":
            pages.append([])
        if not match.group(0):
            break
    return pages


def read_text(path: Path, data: bytes) -> Extracted:
    """Read a text document; raises IngestError when it is not text in an accepted encoding."""
    try:
        decoded = decode_document(data, str(path))
    except DocumentDecodeError as error:
        raise IngestError(str(error)) from error
    source = decoded.text
    pages = _page_lines(source)
    paged = len(pages) > 1
    running = edge_running_lines([[source[s:e] for s, e in lines] for lines in pages])
    blocks: list[Block] = []
    for p, lines in enumerate(pages):
        page = p + 1 if paged else None
        run: list[tuple[int, int]] = []
        for i, (start, end) in enumerate([*lines, (-1, -1)]):
            reason = running.get((p, i))
            if (reason is not None or start < 0) and run:
                blocks.append(Block(source[run[0][0] : run[-1][1]], str(path), page, run[0][0]))
                run = []
            if start < 0:
                break
            if reason is not None:
                blocks.append(Block(source[start:end], str(path), page, start, reason))
            else:
                run.append((start, end))
    header = tuple(b.text for b in blocks if b.running and "symbol" in b.running)
    warnings = (decoded.warning,) if decoded.warning else ()
    return Extracted(str(path), "text", source, decoded.encoding, tuple(blocks), header, warnings)
