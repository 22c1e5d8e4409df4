"""Sentence boundaries inside a unit, for choosing the evidence an answer quotes.

A citation highlights the sentence (or clause list item) that answers, not the whole
paragraph. Chinese sentences end with 。！？ (and ； separates list clauses in UN texts);
English ones with . ! ? ; followed by a space. Offsets are into the unit's text.
"""

from __future__ import annotations

import re

__all__ = ["MIN_SENTENCE_CHARS", "split_sentences"]

MIN_SENTENCE_CHARS = 8  # shorter fragments are merged into the previous sentence
_END = re.compile(r"[。！？；!?;]+[”’\"')）」』]*|\.(?=\s+[A-Z(“\"])|\.$|\n+")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of the sentences of ``text``, whitespace trimmed, in order."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(text):
        spans.append((start, match.end()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    trimmed: list[tuple[int, int]] = []
    for begin, end in spans:
        piece = text[begin:end]
        left = len(piece) - len(piece.lstrip())
        right = len(piece.rstrip())
        if right <= left:
            continue
        begin, end = begin + left, begin + right
        if trimmed and end - begin < MIN_SENTENCE_CHARS:
            trimmed[-1] = (trimmed[-1][0], end)
        else:
            trimmed.append((begin, end))
    return trimmed
