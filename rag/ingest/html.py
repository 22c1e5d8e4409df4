"""HTML reader (Beautiful Soup over lxml): block elements become paragraphs; ordered lists get their numbers.

The tree is walked in document order; inline text accumulates until a block element opens or
closes, as a browser lays it out, so text between or around nested blocks is never lost. A browser
numbers ``<ol>`` items itself, so, as for Word numbering, the label is rendered here from the
list's ``type``, ``start`` and each item's ``value``; lettered and roman items take the UN form
"(a)", "(i)". ``<header>``/``<footer>``/``<nav>`` are page furniture: kept as running blocks (the
header is where a symbol may be printed); scripts, styles and comments are dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

from rag.ingest.blocks import Extracted, IngestError, SourceBuilder
from rag.ingest.numbering import format_counter
from rag.ingest.running import SYMBOL
from rag.textio import DocumentDecodeError, decode_document

__all__ = ["read_html"]

_BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "td", "th", "caption", "pre", "blockquote",
                     "div", "section", "article", "main", "aside", "address", "figcaption", "figure", "ol", "ul", "dl",
                     "table", "tr", "thead", "tbody", "tfoot", "form", "fieldset", "hr", "body", "html"})
_FURNITURE = frozenset({"header", "footer", "nav"})
_DROPPED = frozenset({"script", "style", "template", "noscript", "head", "title"})


def _label(item) -> str | None:
    """The label a browser shows for ``<li>`` ``item`` of an ``<ol>``, in UN form."""
    parent = item.parent
    if parent is None or parent.name != "ol":
        return None
    kind = parent.get("type", "1")
    start = str(parent.get("start", "1"))
    number = int(start) if start.lstrip("-").isdigit() else 1
    for sibling in parent.find_all("li", recursive=False):
        value = str(sibling.get("value", ""))
        if value.isdigit():
            number = int(value)
        if sibling is item:
            break
        number += 1
    rendered = format_counter(number, kind)
    if rendered is None:
        return None
    return f"({rendered}) " if kind in ("a", "i") else f"{rendered}. "


class _Walker:
    def __init__(self, builder: SourceBuilder) -> None:
        self.builder = builder
        self.buffer: list[str | None] = []  # None is a <br>
        self.label: str | None = None

    def flush(self, furniture: str | None) -> None:
        lines, current = [], []
        for piece in [*self.buffer, None]:
            if piece is None:
                lines.append(" ".join("".join(current).split()))
                current = []
            else:
                current.append(piece)
        self.buffer = []
        text = "\n".join(line for line in lines if line)
        if not text:
            return
        if furniture is not None:
            for line in text.split("\n"):
                self.builder.add(line, None, f"running {furniture}")
            return
        label, self.label = self.label, None
        self.builder.add(f"{label}{text}" if label else text, None)

    def walk(self, node, furniture: str | None) -> None:
        from bs4 import Comment, Declaration, Doctype, NavigableString, ProcessingInstruction

        for child in node.children:
            if isinstance(child, Comment | Declaration | Doctype | ProcessingInstruction):
                continue
            if isinstance(child, NavigableString):
                self.buffer.append(str(child))
            elif child.name in _DROPPED:
                continue
            elif child.name == "br":
                self.buffer.append(None)
            elif child.name in _FURNITURE or child.name in _BLOCKS:
                self.flush(furniture)
                if child.name == "li":
                    self.label = _label(child)
                self.walk(child, child.name if child.name in _FURNITURE else furniture)
                self.flush(child.name if child.name in _FURNITURE else furniture)
            else:
                self.walk(child, furniture)


def read_html(path: Path, data: bytes) -> Extracted:
    """Read an HTML page's text; raises IngestError when it is not decodable markup."""
    from bs4 import BeautifulSoup

    try:
        decoded = decode_document(data, str(path))
    except DocumentDecodeError as error:
        raise IngestError(str(error)) from error
    if re.search(r"<\s*(html|body|p|div|h\d)\b", decoded.text[:65536], re.IGNORECASE) is None:
        raise IngestError(f"{path}: not an HTML document (no <html>, <body>, <p> or <div> markup)")
    builder = SourceBuilder(str(path))
    walker = _Walker(builder)
    walker.walk(BeautifulSoup(decoded.text, "lxml"), None)
    walker.flush(None)
    header = tuple(b.text for b in builder.blocks if b.running and SYMBOL.match(b.text))
    return Extracted(str(path), "html", builder.source, decoded.encoding, tuple(builder.blocks), header,
                     (decoded.warning,) if decoded.warning else ())
