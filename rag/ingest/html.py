"""HTML reader (Beautiful Soup over lxml): block elements become paragraphs; ordered lists get their numbers.

A browser numbers ``<ol>`` items itself, so, as for Word numbering, the label is rendered here from
the list's ``type``, ``start`` and each item's ``value``; lettered and roman items take the UN form
"(a)", "(i)". ``<header>``/``<footer>``/``<nav>`` are page furniture: kept as running blocks (the
header is where a symbol may be printed), scripts and styles dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

from rag.ingest.blocks import Extracted, IngestError, SourceBuilder
from rag.ingest.numbering import format_counter
from rag.ingest.running import SYMBOL
from rag.textio import DocumentDecodeError, decode_document

__all__ = ["read_html"]

_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "td", "th", "caption", "pre", "blockquote", "div",
           "section", "article", "main", "address", "figcaption")
_FURNITURE = ("header", "footer", "nav")
_DROPPED = ("script", "style", "template", "noscript", "head")


def _text(element) -> str:
    for br in element.find_all("br"):
        br.replace_with("\n")
    text = element.get_text("")
    return "\n".join(" ".join(line.split()) for line in text.split("\n") if line.strip())


def _label(item) -> str | None:
    parent = item.find_parent(["ol", "ul"])
    if parent is None or parent.name != "ol":
        return None
    kind = parent.get("type", "1")
    siblings = parent.find_all("li", recursive=False)
    number = int(parent.get("start", 1)) if str(parent.get("start", "1")).lstrip("-").isdigit() else 1
    for sibling in siblings:
        value = sibling.get("value")
        if value is not None and str(value).isdigit():
            number = int(value)
        if sibling is item:
            break
        number += 1
    rendered = format_counter(number, kind)
    if rendered is None:
        return None
    return f"({rendered}) " if kind in ("a", "i") else f"{rendered}. "


def read_html(path: Path, data: bytes) -> Extracted:
    """Read an HTML page's text; raises IngestError when it is not decodable markup."""
    from bs4 import BeautifulSoup

    try:
        decoded = decode_document(data, str(path))
    except DocumentDecodeError as error:
        raise IngestError(str(error)) from error
    soup = BeautifulSoup(decoded.text, "lxml")
    for element in soup.find_all(_DROPPED):
        element.decompose()
    builder = SourceBuilder(str(path))
    for element in soup.find_all([*_BLOCKS, *_FURNITURE]):
        if element.find([*_BLOCKS, *_FURNITURE]) is not None or element.name in _FURNITURE:
            continue  # only innermost blocks carry text; furniture is taken below
        furniture = element.find_parent(_FURNITURE)
        text = _text(element)
        if not text:
            continue
        if furniture is not None:
            for line in text.split("\n"):
                builder.add(line, None, f"running {furniture.name}")
            continue
        label = _label(element) if element.name == "li" else None
        builder.add(f"{label}{text}" if label else text, None)
    header = tuple(b.text for b in builder.blocks if b.running and SYMBOL.match(b.text))
    if not builder.blocks and re.search(r"<\s*(html|body|p|div)\b", decoded.text, re.IGNORECASE) is None:
        raise IngestError(f"{path}: not an HTML document (no markup and no text)")
    return Extracted(str(path), "html", builder.source, decoded.encoding, tuple(builder.blocks), header,
                     (decoded.warning,) if decoded.warning else ())
