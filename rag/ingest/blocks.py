"""What every reader produces: the document's text, cut into blocks that remember where they came from.

A reader turns a file (text, PDF, Word, HTML) into one ``source`` string — the text the parser's
offsets and the API's "show in place" refer to — and a sequence of :class:`Block` that tile it.
A block is a run of text from one page; blocks the reader recognised as running headers or footers
(the symbol line, page numbers, job numbers, "Please recycle") carry the reason in ``running``: the
parser records them as debris instead of reading them as paragraphs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Block", "Extracted", "IngestError", "SourceBuilder"]


class IngestError(ValueError):
    """A file cannot be read as a document; the message names the file and says why."""


@dataclass(frozen=True, slots=True)
class Block:
    """``text`` is exactly ``source[offset:offset + len(text)]`` of the document it belongs to."""

    text: str
    file: str
    page: int | None  # 1-based page of the file, None for formats without pages
    offset: int
    running: str | None = None  # why this is a running header/footer ("page number", …); None for body text


@dataclass(frozen=True)
class Extracted:
    """One file, read: the text, its blocks, the running-header lines and anything worth a warning."""

    path: str
    format: str  # "text", "pdf", "docx", "html"
    source: str
    encoding: str
    blocks: tuple[Block, ...]
    header_lines: tuple[str, ...] = ()  # running-header text: where UN documents print their symbol (and body, date)
    warnings: tuple[str, ...] = ()

    @property
    def body(self) -> tuple[Block, ...]:
        return tuple(b for b in self.blocks if b.running is None)


class SourceBuilder:
    """Assembles ``source`` from paragraphs, separating them by a blank line, and records their blocks."""

    def __init__(self, file: str) -> None:
        self.file = file
        self._parts: list[str] = []
        self._length = 0
        self.blocks: list[Block] = []

    def add(self, text: str, page: int | None, running: str | None = None) -> None:
        text = text.strip()
        if not text:
            return
        if self._parts:
            self._parts.append("\n\n")
            self._length += 2
        self.blocks.append(Block(text, self.file, page, self._length, running))
        self._parts.append(text)
        self._length += len(text)

    @property
    def source(self) -> str:
        return "".join(self._parts) + ("\n" if self._parts else "")
