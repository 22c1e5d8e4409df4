"""Decoding document bytes whose encoding nobody told us.

UN Chinese texts turn up as UTF-8 (with or without a BOM), as GB18030 from older tool chains,
and as UTF-16 from Windows tools — with a BOM, or without one (then ASCII-heavy text shows as
NUL-interleaved bytes, and Chinese text as bytes that are neither UTF-8 nor GB18030). We accept
exactly those, check that a guessed reading is plausible text, warn when the choice was a guess,
and otherwise fail with an error that names the file, so one bad file never stops the others.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DecodedText", "DocumentDecodeError", "decode_document", "read_document_text"]

_MIN_CJK_SHARE_FOR_GB18030 = 0.3
_MIN_NUL_SHARE = 0.2  # of the bytes at one parity, for ASCII-heavy UTF-16 without a BOM
_MIN_PLAUSIBLE_SHARE = 0.97  # letters of a guessed UTF-16 reading that must be ordinary script characters
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig", "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"))


class DocumentDecodeError(ValueError):
    """A document's bytes are not text in any encoding we accept."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str
    warning: str | None = None  # set when the encoding was inferred without a BOM and could be wrong


def _cjk_share(text: str) -> float:
    letters = [c for c in text if not c.isspace() and c.isprintable()]
    if not letters:
        return 0.0
    cjk = sum(1 for c in letters if "\u3400" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef")
    return cjk / len(letters)


def _ordinary(ch: str) -> bool:
    """A character real UN text is made of: Latin, Cyrillic, Arabic, CJK, punctuation, space."""
    code = ord(ch)
    return (
        ch.isspace()
        or 0x20 <= code < 0x7F
        or 0xA0 <= code < 0x0700  # Latin supplements, Greek, Cyrillic, Arabic
        or 0x2000 <= code < 0x2070  # general punctuation
        or 0x3000 <= code < 0xA000  # CJK punctuation and ideographs
        or 0xFF00 <= code < 0xFFF0  # full-width forms
    )


def _plausible_share(text: str) -> float:
    sample = text[:20000]
    return sum(1 for c in sample if _ordinary(c)) / len(sample) if sample else 0.0


def _decode_utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """The UTF-16 reading that looks like text, if exactly one does."""
    if len(data) < 2 or len(data) % 2:
        return None
    readings = []
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text and _plausible_share(text) >= _MIN_PLAUSIBLE_SHARE:
            readings.append((text, codec))
    return readings[0] if len(readings) == 1 else None


def _nul_parity(data: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be" when NULs sit at one byte parity only (ASCII-heavy UTF-16)."""
    half = len(data) // 2
    if half == 0:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    if odd / half >= _MIN_NUL_SHARE and even == 0:
        return "utf-16-le"
    if even / half >= _MIN_NUL_SHARE and odd == 0:
        return "utf-16-be"
    return None


def decode_document(data: bytes, name: str) -> DecodedText:
    """Decode a document's bytes; ``name`` is used in messages.

    Raises:
        DocumentDecodeError: the bytes are not UTF-8, GB18030 Chinese or UTF-16 text.
    """
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec).lstrip("\ufeff")
            except UnicodeDecodeError as error:
                raise DocumentDecodeError(f"{name}: starts with a {label} byte-order mark but is not valid {label} "
                                          f"(bad bytes at offset {error.start})") from error
            if label != "utf-8" and text and _plausible_share(text) < _MIN_PLAUSIBLE_SHARE:
                raise DocumentDecodeError(f"{name}: starts with a {label} byte-order mark but does not read as text in it")
            return DecodedText(text, label)
    parity = _nul_parity(data)
    if parity is not None and (reading := _decode_utf16_without_bom(data)) is not None and reading[1] == parity:
        return DecodedText(reading[0], parity)  # NUL interleaving makes this certain
    first_bad = None
    if b"\x00" not in data:
        try:
            return DecodedText(data.decode("utf-8"), "utf-8")
        except UnicodeDecodeError as utf8_error:
            first_bad = utf8_error.start
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            text = None
        if text is not None and _cjk_share(text) >= _MIN_CJK_SHARE_FOR_GB18030 and "\ufffd" not in text:
            return DecodedText(text, "gb18030")
    reading = _decode_utf16_without_bom(data)
    if reading is not None:
        text, codec = reading
        return DecodedText(text, codec, f"{name}: no byte-order mark; read as {codec.upper()} because the bytes are not "
                                        "UTF-8 or GB18030 and only that reading gives ordinary text — check the result")
    where = f" (invalid byte at offset {first_bad})" if first_bad is not None else " (contains NUL bytes)"
    raise DocumentDecodeError(
        f"{name}: not text: cannot decode it as UTF-8{where}, GB18030 Chinese or UTF-16; "
        "if it is a document, re-save it as UTF-8 text"
    )


def read_document_text(path: Path) -> tuple[str, str]:
    """Return ``(text, encoding)`` for a document file (see :func:`decode_document`).

    Raises:
        DocumentDecodeError: the file is not text in an accepted encoding.
        OSError: the file cannot be read.
    """
    decoded = decode_document(path.read_bytes(), str(path))
    return decoded.text, decoded.encoding
