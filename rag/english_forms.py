"""English word forms a dictionary look-up misses: irregular verbs, British spellings, ordinals.

Why
---
The English→Chinese lexicon (:mod:`rag.crosslingual`) keys on dictionary glosses, which are
base forms in American spelling. A question written the way UN documents are written ("the
ministers *took* the floor", "how did it *characterise* drought", "the *19th* session") then
finds no translation for exactly its most specific words: the regular de-inflection (-s, -ed,
-ing) does not reach "took", CC-CEDICT spells "characterize", and a digit ordinal was kept
verbatim although the Chinese text writes 第十九届. This module gives the candidate forms (verb
lemmas from lemminflect's tables, Chinese numerals as the parser writes them
(:func:`rag.ingest.numbering.chinese_number`), the spelling rules by hand); the
lexicon decides which of them it knows.
"""

from __future__ import annotations

import re

from lemminflect import getLemma

from rag.ingest.numbering import chinese_number

__all__ = ["chinese_numeral", "ordinal_translations", "ordinal_value", "session_translations", "spelling_variants"]

# British -> American endings (the dictionary spells American; UN English is British).
_SPELLINGS = (
    (re.compile(r"isation(s?)$"), r"ization\1"),
    (re.compile(r"is(e|es|ed|ing|er|ers)$"), r"iz\1"),
    (re.compile(r"ys(e|es|ed|ing)$"), r"yz\1"),
    (re.compile(r"(?<=[a-z]{3})our(s|ed|ing|able|ite|ites)?$"), r"or\1"),  # labour, not four/hour
    (re.compile(r"programme(s?)$"), r"program\1"),
    (re.compile(r"([^aeiou])tre(s?)$"), r"\1ter\2"),
    (re.compile(r"ence(s?)$"), r"ense\1"),  # defence, licence, offence
    (re.compile(r"ogue(s?)$"), r"og\1"),
    (re.compile(r"([aeiou])ll(ed|ing|er|ers)$"), r"\1l\2"),  # travelled, modelling, labelled
)

_WORD_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
    "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "sixtieth": 60, "seventieth": 70, "eightieth": 80,
    "ninetieth": 90, "hundredth": 100,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_DIGIT_ORDINAL = re.compile(r"^(\d{1,3})(?:st|nd|rd|th)$")


def spelling_variants(word: str) -> list[str]:
    """Other forms of a lower-case word the dictionary may know, likeliest first: the lemma of a
    verb form ("took" -> "take") and its American spelling, then the word's American spelling
    ("characterised" -> "characterise", "characterize", "characterized"). Empty when there is none."""
    out: list[str] = []
    for lemma in getLemma(word, upos="VERB", lemmatize_oov=False):
        out += [lemma, *_american(lemma)]
    out += _american(word)
    return [w for i, w in enumerate(out) if w != word and w not in out[:i]]


def _american(word: str) -> list[str]:
    return [v for pattern, replacement in _SPELLINGS if (v := pattern.sub(replacement, word)) != word]


def chinese_numeral(n: int) -> str:
    """1..999 in Chinese numerals as UN Chinese texts write session numbers (十九, 二十一, 一百零五)."""
    if not 0 < n < 1000:
        raise ValueError("only 1..999")
    return chinese_number(n)


def ordinal_value(token: str) -> int | None:
    """The number of an ordinal token: "19th" -> 19, "third" -> 3, "twenty-first" -> 21; else None."""
    low = token.lower()
    m = _DIGIT_ORDINAL.match(low)
    if m:
        value = int(m.group(1))
        return value if value > 0 else None
    if low in _WORD_ORDINALS:
        return _WORD_ORDINALS[low]
    head, _, tail = low.partition("-")
    if head in _TENS and tail in _WORD_ORDINALS and _WORD_ORDINALS[tail] < 10:
        return _TENS[head] + _WORD_ORDINALS[tail]
    return None


def ordinal_translations(n: int) -> tuple[tuple[str, float], ...]:
    """Chinese forms of an ordinal: 第十九届 (session), 第十九次 (meeting), 第十九, and 第19 (digits)."""
    if not 0 < n < 1000:
        return ()
    cn = chinese_numeral(n)
    return ((f"第{cn}届", 1.0), (f"第{cn}次", 1.0), (f"第{cn}", 1.0), (f"第{n}", 0.8))


def session_translations(n: int) -> tuple[tuple[str, float], ...]:
    """A bare number that may name a session ("COP 16" is 缔约方大会第十六届会议): its ordinal forms,
    weighted below the digits themselves."""
    if not 0 < n < 100:
        return ()
    cn = chinese_numeral(n)
    return ((f"第{cn}届", 0.6), (f"第{cn}次", 0.6))
