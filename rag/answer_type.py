"""Answer-type matching: a "when" or "how many" question is answered by a passage with a number.

Topic similarity alone lets a passage that only *mentions* the subject ("urges all parties to
ratify the second commitment period") outrank the one that *answers* ("the second commitment
period runs from 1 January 2013 to 31 December 2020"). Classic open-domain QA systems rank
candidates by whether they contain an entity of the type the question asks for (Prager et al.
2000, "Question-answering by predictive annotation", SIGIR; Moldovan et al. 2000, "The
structure and performance of an open-domain question answering system", ACL). We use the one
type that is cheap and reliable in both languages without a tagger: numbers and dates.
"""

from __future__ import annotations

import re

__all__ = ["MONTHS", "expects_number", "has_count", "has_number", "join_digit_groups"]

_ZH_NUMERIC_QUESTION = re.compile(
    r"多少|几[个名项次年月日天周届份倍位国家所]?|多大|多高|多长|多久|多远|多重|哪一?年|哪一?天|何时|什么时候|"
    r"什么时间|起止|期限|截止|日期|时间|百分之几|比例|金额|数量|人数|规模"
)
_EN_NUMERIC_QUESTION = re.compile(
    r"\b(how (many|much|long|old|large|big|often|far|high)|when|what (year|date|day|month|time|percentage|"
    r"proportion|share|amount|number)|which (year|date|day|month)|by what date|until when|dates?\b|deadline|"
    r"number of|amount of|percentage)",
    re.IGNORECASE,
)
# Cardinal numbers and dates. Ordinals ("第六次会议", "第 67/211 号决议", "第十八届") name things,
# they do not answer "how many", so a numeral run right after 第 does not count.
_NUMERAL_RUN = re.compile(
    r"\d[\dA-Za-z,./:\-]*(?:\s\d[\dA-Za-z,./:\-]*)*|[零〇一二三四五六七八九十百千万亿两]+(?=年|月|日|个|名|项|次|届|份|倍|天|周|亿|万|%|支|只|条|张|本|部|座|家|所|辆|架|艘|种|门|场|轮|位|人|岁)|"
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
    r"thousand|million|billion|per cent|percent|half|dozen)\b",
    re.IGNORECASE,
)


def expects_number(question: str) -> bool:
    """Does the question ask for a quantity, a date or a time span?"""
    return bool(_ZH_NUMERIC_QUESTION.search(question) or _EN_NUMERIC_QUESTION.search(question))


def has_number(text: str) -> bool:
    """Does the text state a number or a date (Arabic digits, Chinese numerals with a unit, number words)?"""
    return any(not text[:match.start()].rstrip().endswith("第") for match in _NUMERAL_RUN.finditer(text))


_DIGIT_GROUP = re.compile(r"(?<=\d)[ ,\u00a0](?=\d{3}(?!\d))")


def join_digit_groups(text: str) -> str:
    """``text`` with thousands separators taken out of its numbers ("4 300" and "5 000万" read as one number)."""
    return _DIGIT_GROUP.sub("", text)


#: English month names (full; :data:`_MONTH` also takes the abbreviations "Oct.", "Sept")
MONTHS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b\.?"
_RANGE = r"\s*(?:[-–—～~至到]|to|and|和|及)\s*"
_ORDINAL = r"(?:st|nd|rd|th)?"
# Dates and years, which state when, never how many: 2012年11月18日至22日, 11月18—22日, 1-5 October 2012, 1 Oct. 2012,
# October 1st, 2012, 2012-11-18, "in 2012", "the 2015 season". A bare year before a plural noun or a classifier
# ("2000 participants", "2000 people", "2000 名") is a count, and stays.
_DATE = re.compile(
    r"\d{1,4}\s*年(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}(?:" + _RANGE + r"\d{1,2})?\s*[日号])?"
    r"|\d{1,2}\s*月\s*\d{1,2}(?:" + _RANGE + r"\d{1,2})?\s*[日号]"
    r"|\d{1,2}(?:" + _RANGE + r"\d{1,2})?\s*日"
    r"|(?:[-–—～~至到和及])\s*\d{1,2}\s*[日号]"
    r"|\b\d{1,2}" + _ORDINAL + r"(?:" + _RANGE + r"\d{1,2}" + _ORDINAL + r")?\s+" + _MONTH + r"(?:,?\s*\d{4})?"
    r"|\b" + _MONTH + r"\s*\d{4}\b"
    r"|\b" + _MONTH + r"\s*\d{1,2}" + _ORDINAL + r"(?:" + _RANGE + r"\d{1,2}" + _ORDINAL + r")?(?:,?\s*\d{4})?"
    r"|\b\d{4}-\d{2}-\d{2}\b"
    r"|\b(?:1[89]|20)\d\d\b(?!\s*(?:[名人位个项次份家所国]|people|men|women|children|staff|personnel|(?!was\b|is\b|has\b|as\b)[A-Za-z]+s\b))",
    re.IGNORECASE,
)


# "一个议定书", "一项决定", "one of the challenges": the indefinite article, not a count
_ARTICLE = re.compile(r"(?<![\d零〇一二三四五六七八九十百千万亿两第])一(?=[个项套次种份条])|\bone of\b", re.IGNORECASE)


def has_count(text: str) -> bool:
    """Does the text state a number other than a date, a year or an indefinite article (what "how many"
    needs, when the counted noun cannot be placed)?"""
    return has_number(_ARTICLE.sub(" ", _DATE.sub(" ", text)))
