"""Which reader reads a file: by its content's signature first, then by its name.

A PDF saved as ``.txt`` or a Word file without an extension is still read correctly (with a
warning); a binary file with a text extension fails in the text reader with a clear line.
"""

from __future__ import annotations

import dataclasses
import zipfile
from collections.abc import Callable
from pathlib import Path

from rag.ingest.blocks import Extracted, IngestError
from rag.ingest.html import read_html
from rag.ingest.pdf import read_pdf
from rag.ingest.plaintext import read_text
from rag.ingest.word import read_docx

__all__ = ["DOCUMENT_SUFFIXES", "READERS", "read_document", "sniff_format"]

Reader = Callable[[Path, bytes], Extracted]
READERS: dict[str, Reader] = {"text": read_text, "pdf": read_pdf, "docx": read_docx, "html": read_html}
_BY_SUFFIX = {".txt": "text", ".text": "text", ".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html",
              ".xhtml": "html"}
DOCUMENT_SUFFIXES = tuple(_BY_SUFFIX)
_UNSUPPORTED = {".doc": "old binary Word (.doc) format: save it as .docx", ".rtf": "RTF is not supported: save it as .docx"}


def sniff_format(data: bytes) -> str | None:
    """The format the bytes announce, when they announce one."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            import io

            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return "docx" if "word/document.xml" in archive.namelist() else "zip"
        except zipfile.BadZipFile:
            return "damaged zip"
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    return None


def read_document(path: Path) -> Extracted:
    """Read any supported document file into blocks.

    Raises:
        IngestError: the file is of an unsupported kind or cannot be read; the message names it.
        OSError: the file cannot be opened.
    """
    suffix = path.suffix.lower()
    if suffix in _UNSUPPORTED:
        raise IngestError(f"{path}: {_UNSUPPORTED[suffix]}")
    data = path.read_bytes()
    named = _BY_SUFFIX.get(suffix)
    sniffed = sniff_format(data)
    if sniffed == "damaged zip":
        kind = "Word (.docx) document" if named == "docx" else "ZIP archive"
        raise IngestError(f"{path}: not a readable {kind} (the ZIP package is damaged or truncated)")
    if sniffed == "zip":
        if named == "docx":
            raise IngestError(f"{path}: not a readable Word (.docx) document (a ZIP archive without word/document.xml)")
        raise IngestError(f"{path}: a ZIP archive, not a document")
    fmt = sniffed or named
    if fmt is None:
        raise IngestError(f"{path}: unsupported file type {suffix or '(no extension)'}; supported: {', '.join(DOCUMENT_SUFFIXES)}")
    if named == "docx" and sniffed is None:
        raise IngestError(f"{path}: not a readable Word (.docx) document (not a ZIP package)")
    if named == "pdf" and sniffed is None:
        raise IngestError(f"{path}: not a readable PDF (no %PDF header)")
    extracted = READERS[fmt](path, data)
    if named is not None and named != fmt:
        warning = f"{path}: named {suffix} but the content is {fmt.upper()}; read as {fmt.upper()}"
        extracted = dataclasses.replace(extracted, warnings=(*extracted.warnings, warning))
    return extracted
