"""Writing a list counter the way Word and HTML render it: 3 → "3", "c", "C", "iii", "III", "三".

Word's automatic paragraph numbering and HTML's ordered lists store a counter and a format, not
the label a reader sees; the parser needs the label ("26.", "(a)", "一.") to find paragraphs.
"""

from __future__ import annotations

__all__ = ["chinese_number", "format_counter", "parse_chinese_number"]

_ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
          (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
_CN_DIGITS = "零一二三四五六七八九"
_CN_UNITS = ((1000, "千"), (100, "百"), (10, "十"))


def _roman(n: int) -> str:
    out = []
    for value, numeral in _ROMAN:
        while n >= value:
            out.append(numeral)
            n -= value
    return "".join(out)


def _letters(n: int) -> str:
    """Word and HTML repeat the letter past z: 27 → "aa" (Word) — the common, simple form."""
    count, index = divmod(n - 1, 26)
    return chr(ord("a") + index) * (count + 1)


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 19 → 十九, 68 → 六十八, 105 → 一百零五 (up to 9999)."""
    if n == 0:
        return "零"
    out, pending_zero = [], False
    for value, unit in _CN_UNITS:
        digit, n = divmod(n, value)
        if digit:
            if pending_zero:
                out.append("零")
            out.append(("" if value == 10 and not out and digit == 1 else _CN_DIGITS[digit]) + unit)
            pending_zero = False
        elif out:
            pending_zero = True
    if n:
        if pending_zero:
            out.append("零")
        out.append(_CN_DIGITS[n])
    return "".join(out)


def parse_chinese_number(text: str) -> int | None:
    """Inverse of :func:`chinese_number` ("六十八" → 68); None when ``text`` is not such a numeral."""
    if not text or any(c not in _CN_DIGITS + "十百千两" for c in text):
        return None
    total, digit = 0, None
    for ch in text:
        if ch in "十百千":
            total += (1 if digit is None else digit) * {"十": 10, "百": 100, "千": 1000}[ch]
            digit = None
        else:
            digit = 2 if ch == "两" else _CN_DIGITS.index(ch)
    return total + (digit or 0)


def format_counter(n: int, fmt: str) -> str | None:
    """Render counter ``n`` in a Word ``numFmt`` (or HTML ``type``) format; None for bullets and unknown formats."""
    if fmt in ("decimal", "1", "decimalZero"):
        return f"{n:02d}" if fmt == "decimalZero" else str(n)
    if fmt in ("lowerLetter", "a"):
        return _letters(n)
    if fmt in ("upperLetter", "A"):
        return _letters(n).upper()
    if fmt in ("lowerRoman", "i"):
        return _roman(n).lower()
    if fmt in ("upperRoman", "I"):
        return _roman(n)
    if fmt in ("chineseCounting", "chineseCountingThousand", "taiwaneseCounting",
               "taiwaneseCountingThousand", "chineseLegalSimplified"):
        return chinese_number(n)
    if fmt == "none":
        return ""
    return None
