"""Reading document files whose encoding nobody told us.

UN Chinese texts turn up as UTF-8 (with or without a BOM) and as GB18030 from older
tool chains. We accept exactly those, verify a GB18030 reading is plausibly Chinese, and
otherwise fail with an error that names the file, so one bad file never stops the others.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DocumentDecodeError", "read_document_text"]

_MIN_CJK_SHARE_FOR_GB18030 = 0.3


class DocumentDecodeError(ValueError):
    """A document's bytes are neither UTF-8 nor plausible GB18030."""


def _cjk_share(text: str) -> float:
    letters = [c for c in text if not c.isspace() and c.isprintable()]
    if not letters:
        return 0.0
    cjk = sum(1 for c in letters if "\u3400" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef")
    return cjk / len(letters)


def read_document_text(path: Path) -> tuple[str, str]:
    """Return ``(text, encoding)`` for a document file.

    Raises:
        DocumentDecodeError: the file is not UTF-8 and not plausible GB18030 Chinese.
        OSError: the file cannot be read.
    """
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        first_bad = utf8_error.start
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is not None and _cjk_share(text) >= _MIN_CJK_SHARE_FOR_GB18030 and "\ufffd" not in text:
        return text, "gb18030"
    raise DocumentDecodeError(
        f"{path}: cannot decode the file as UTF-8 (invalid byte at offset {first_bad}) "
        "or as GB18030 Chinese; re-save it as UTF-8"
    )
