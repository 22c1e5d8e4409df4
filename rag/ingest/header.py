"""Catalogue fields a UN document prints in its own header: symbol, session, agenda items, date, body.

Read only what is printed, in the places UN documents print it, and never guess: the symbol is
taken from the running header or from a front-matter line that is nothing but a symbol (a
footnote such as "* A/68/150。" names another document — there the provisional agenda — and is
never read as this document's symbol). Fields not printed stay None.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rag.ingest.numbering import parse_chinese_number
from rag.ingest.running import SYMBOL

__all__ = ["HeaderFields", "read_header"]

_ORDINAL_UNITS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
                  "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
                  "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19}
_TENS = {"twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "sixtieth": 60, "seventieth": 70,
         "eightieth": 80, "ninetieth": 90, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
         "seventy": 70, "eighty": 80, "ninety": 90}
_MONTHS = {m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                       "september", "october", "november", "december"], start=1)}
_BODIES = (
    (r"General Assembly|^大会$", "General Assembly"),
    (r"Security Council|安全理事会", "Security Council"),
    (r"Economic and Social Council|经济及社会理事会", "Economic and Social Council"),
    (r"Human Rights Council|人权理事会", "Human Rights Council"),
    (r"Trusteeship Council|托管理事会", "Trusteeship Council"),
)
_ZH_SESSION = re.compile(r"^第([零一二三四五六七八九十百两\d]+)届(?:会议|常会)$")
_EN_SESSION = re.compile(r"^([A-Za-z]+(?:-[A-Za-z]+)?|\d+(?:st|nd|rd|th))\s+(?:regular\s+)?session$", re.IGNORECASE)
_ZH_AGENDA = re.compile(r"^(?:临时)?议程\s*\**\s*项目\s*(.+?)$")
_EN_AGENDA = re.compile(r"^Items?\s+(.+?)\s+of\s+the\s+(?:provisional\s+)?agenda\**\.?$", re.IGNORECASE)
_AGENDA_ITEM = re.compile(r"(\d+)\s*((?:\([a-z]\)\s*(?:[、,，]|和|and|及)?\s*)*)")
_EN_DATE = re.compile(r"\b(\d{1,2})\s+(January|February|March|April|May|June|July|August|September|October|November|December)\s+(\d{4})\b")
_ZH_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")


@dataclass(frozen=True)
class HeaderFields:
    symbol: str | None = None
    session: int | None = None
    agenda_items: tuple[str, ...] = ()
    date: str | None = None  # ISO 8601
    body: str | None = None


def _english_ordinal(word: str) -> int | None:
    word = word.lower()
    if m := re.fullmatch(r"(\d+)(?:st|nd|rd|th)", word):
        return int(m.group(1))
    if word in _ORDINAL_UNITS:
        return _ORDINAL_UNITS[word]
    if word in _TENS:
        return _TENS[word]
    tens, _, unit = word.partition("-")
    if tens in _TENS and unit in _ORDINAL_UNITS:
        return _TENS[tens] + _ORDINAL_UNITS[unit]
    return None


def _session(line: str) -> int | None:
    if m := _ZH_SESSION.match(line):
        raw = m.group(1)
        return int(raw) if raw.isdigit() else parse_chinese_number(raw)
    if m := _EN_SESSION.match(line):
        return _english_ordinal(m.group(1))
    return None


def _agenda(line: str) -> tuple[str, ...]:
    m = _ZH_AGENDA.match(line) or _EN_AGENDA.match(line)
    if m is None:
        return ()
    items = []
    for item in _AGENDA_ITEM.finditer(m.group(1)):
        letters = re.findall(r"\(([a-z])\)", item.group(2))
        items += [f"{item.group(1)}({letter})" for letter in letters] or [item.group(1)]
    return tuple(items)


def _date(line: str) -> str | None:
    try:
        if m := _EN_DATE.search(line):
            return date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1))).isoformat()
        if m := _ZH_DATE.search(line):
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return None
    return None


def read_header(front_lines: Sequence[str], running_lines: Sequence[str] = ()) -> HeaderFields:
    """Fields printed in the document's front matter (lines before the first heading or paragraph).

    ``running_lines`` are the running-header lines a reader set aside: the symbol is printed there,
    and on a first page also the issuing body and the date.
    """
    running = [" ".join(line.split()) for line in running_lines if line.strip()]
    symbols = [line for line in running if SYMBOL.match(line)]
    symbols += [line for line in front_lines if SYMBOL.match(" ".join(line.split()))]
    lines = [*running, *(" ".join(line.split()) for line in front_lines if line.strip())]
    session = next((s for line in lines if (s := _session(line)) is not None), None)
    agenda = next((a for line in lines if (a := _agenda(line))), ())
    dated = [line for line in lines if re.search(r"Distr\.|分发|^\d{1,2}\s+\w+\s+\d{4}$|^\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日$", line)]
    when = next((d for line in dated if (d := _date(line)) is not None), None)
    body = next((name for line in lines for pattern, name in _BODIES if re.search(pattern, line)
                 and len(line) <= len(name) + 8), None)
    return HeaderFields(symbol=" ".join(symbols[0].split()) if symbols else None, session=session, agenda_items=agenda, date=when, body=body)
