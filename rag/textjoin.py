"""Exact-offset text assembly for the parser: blank-line blocks, and joins across lines and pages.

A unit's clean text is built from pieces of the source with every piece's offsets kept, so a
citation maps back to the file exactly. Joining two pieces decides what the join needs: nothing
between Chinese characters, a space between words, no hyphen at a broken word, and no repeated
character at a page join (the layout sometimes prints the cut character twice: "生" + "生物").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rag.units import Debris, SourceSpan

__all__ = ["TextBlock", "TextBuilder", "TextLine", "is_cjk", "is_cjk_or_fullwidth", "split_blocks"]

_RARE_PAIR_FREQUENCY = 100  # a doubled character rarer than this in jieba's dictionary is page-join debris


def is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def is_cjk_or_fullwidth(ch: str) -> bool:
    return is_cjk(ch) or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef" or ch in "“”‘’《》"


@lru_cache(maxsize=1)
def _word_frequencies() -> dict[str, int]:
    """jieba's dictionary, read once; used only to tell reduplication (常常) from page debris (生生)."""
    import logging

    import jieba

    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer.FREQ


@dataclass
class TextLine:
    start: int  # first non-blank character
    end: int  # one past the last non-blank character


@dataclass
class TextBlock:
    lines: list[TextLine]

    @property
    def start(self) -> int:
        return self.lines[0].start

    @property
    def end(self) -> int:
        return self.lines[-1].end


_LINE = re.compile(r"[^\n]*(?:\n|$)")


def split_blocks(source: str, start: int = 0, end: int | None = None) -> list[TextBlock]:
    """Group the non-blank lines of ``source[start:end]`` into blank-line-separated blocks, with exact offsets."""
    blocks: list[TextBlock] = []
    current: list[TextLine] = []
    for match in _LINE.finditer(source, start, len(source) if end is None else end):
        raw = match.group(0)
        if not raw:
            continue
        content = raw.rstrip("\n\r \t\u3000")
        stripped = content.lstrip(" \t\u3000\ufeff")
        if not stripped:
            if current:
                blocks.append(TextBlock(current))
                current = []
            continue
        start = match.start() + (len(content) - len(stripped))
        current.append(TextLine(start, match.start() + len(content)))
    if current:
        blocks.append(TextBlock(current))
    return blocks


@dataclass
class TextBuilder:
    """Accumulates a unit's clean text with exact source spans, repairing joins as it goes."""

    source: str
    debris: list[Debris]
    text: str = ""
    spans: list[SourceSpan] = field(default_factory=list)

    def append(self, start: int, end: int, *, separator: str | None = None) -> None:
        """Append ``source[start:end]``; ``separator`` None means "a line or page join": decide."""
        if start >= end:
            return
        if self.text and separator is None:
            start, separator = self._join(start, end)
        if separator:
            self.text += separator
        if start < end:
            self.spans.append(SourceSpan(len(self.text), start, end))
            self.text += self.source[start:end]

    def _join(self, start: int, end: int) -> tuple[int, str]:
        prev, nxt = self.text[-1], self.source[start]
        if prev == nxt and is_cjk(prev) and _word_frequencies().get(prev + nxt, 0) < _RARE_PAIR_FREQUENCY:
            self.debris.append(Debris(start, start + 1, f"character {nxt!r} repeated across a page join"))
            return start + 1, ""
        if prev == "-" and len(self.text) > 1 and self.text[-2].isalpha() and nxt.islower():
            self._drop_last_char("hyphen at a line break")
            return start, ""
        if is_cjk_or_fullwidth(prev) or is_cjk_or_fullwidth(nxt):
            return start, ""
        return start, " "

    def _drop_last_char(self, reason: str) -> None:
        last = self.spans[-1]
        self.debris.append(Debris(last.end - 1, last.end, reason))
        self.text = self.text[:-1]
        if last.end - 1 > last.start:
            self.spans[-1] = SourceSpan(last.text_start, last.start, last.end - 1)
        else:
            self.spans.pop()

    def append_block(self, block: TextBlock, from_offset: int, *, separator: str | None = None) -> None:
        first = True
        for line in block.lines:
            start = max(line.start, from_offset)
            if start >= line.end:
                continue
            self.append(start, line.end, separator=separator if first else None)
            first = False

    def source_end(self) -> int:
        return self.spans[-1].end if self.spans else 0

