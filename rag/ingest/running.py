"""Recognising the running headers and footers UN documents print on every page.

The symbol line ("A/68/150"), the page number, the job number ("13-41234 (C)", often with two
dates and a barcode rendering "*1341234*") and the recycling line ("请回收", "Please recycle") are
layout, not text: left in, they would split paragraphs that cross a page break and turn up in
citations. Only lines at a page's top or bottom edge are judged, by their form or because the same
line (digits aside) recurs at the edge of most pages.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

__all__ = ["SYMBOL", "edge_running_lines", "running_reason"]

SYMBOL = re.compile(r"^[A-Z]{1,8}(?:/[A-Z0-9][A-Za-z0-9.\-]*(?:\([A-Za-z0-9.\-]+\))?)+$")
_PAGE_NUMBER = re.compile(r"^(?:[-–—]?\s*\d{1,5}\s*[-–—]?|Page\s+\d+(?:\s+of\s+\d+)?|第\s*\d+\s*页(?:\s*[，,]?\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+)$",
                          re.IGNORECASE)
_JOB_NUMBER = re.compile(r"^\d{2}-\d{5}\s*(?:\([A-Z]\))?(?:\s+\d{6}){0,2}(?:\s*\*\d{7}\*)?$|^\*\d{7}\*$")
_RECYCLE = re.compile(r"^(?:请回收|請回收|Please\s+recycle|Merci\s+de\s+recycler)\s*♲?$", re.IGNORECASE)
_EDGE_LINES = 3  # how many lines at the top and at the bottom of a page may be running text
_MIN_RECURRING_SHARE = 0.5


def running_reason(line: str, *, at_edge: bool) -> str | None:
    """Why ``line`` is a running header/footer, or None. Job-number and recycling lines count anywhere."""
    text = " ".join(line.split())
    if _JOB_NUMBER.match(text):
        return "running footer: job number"
    if _RECYCLE.match(text):
        return "running footer: recycling line"
    if not at_edge:
        return None
    if SYMBOL.match(text):
        return "running header: document symbol"
    if _PAGE_NUMBER.match(text):
        return "running header/footer: page number"
    return None


def _shape(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split()))


def edge_running_lines(
    pages: Sequence[Sequence[str]], edges: Sequence[set[int]] | None = None
) -> dict[tuple[int, int], str]:
    """``{(page index, line index): reason}`` for the running lines of each page.

    ``edges`` gives, per page, the indices of the lines in the header and footer bands (a reader
    that knows positions passes them); by default the first and last few lines of each page.
    """
    if edges is None:
        edges = []
        for lines in pages:
            n = len(lines)
            edges.append(set(range(min(_EDGE_LINES, n))) | set(range(max(0, n - _EDGE_LINES), n)))
    shapes = Counter(s for p, lines in enumerate(pages) for s in {_shape(lines[i]) for i in edges[p]} if s)
    recurring = {s for s, count in shapes.items() if len(pages) >= 3 and count / len(pages) >= _MIN_RECURRING_SHARE}
    found: dict[tuple[int, int], str] = {}
    for p, lines in enumerate(pages):
        for i in range(len(lines)):
            reason = running_reason(lines[i], at_edge=i in edges[p])
            if reason is None and i in edges[p] and _shape(lines[i]) in recurring:
                reason = "running header/footer: repeated on most pages"
            if reason is not None:
                found[(p, i)] = reason
    return found
