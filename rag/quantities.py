"""Quantity questions: "多少个缔约方" wants "N 个缔约方", "how much money" wants an amount.

A paragraph that names the Cartagena Protocol but states no number of its parties does not answer
"How many parties does the Cartagena Protocol have?", however close it is in meaning. So the
verifier asks two things of a quantity question: *what* it counts -- money, a share, or a counted
noun with its Chinese classifier ("个缔约方", "位国家元首", "parties") -- and whether the evidence
states a quantity of that kind that the question does not already contain ("India's 50 million
dollar pledge: how much was paid?" is not answered by "a pledge of 50 million dollars").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import jieba.posseg

from rag.answer_type import has_count, join_digit_groups

__all__ = ["AskedMeasure", "asked_measure", "counted_renderings", "states_measure"]

_HAN = re.compile(r"[\u3400-\u9fff]")
_ZH_MONEY = re.compile(r"资金|经费|预算|费用|损失|认捐|捐款|出资|资本|金额|美元|欧元|拨付|筹资|花费|花了|成本|供资")
_ZH_SHARE = re.compile(r"比例|百分之|百分比|几成|占多少")
# 多少/几 + a classifier; "哪几个国家" asks which ones, not how many
_ZH_COUNT = re.compile(r"(?<!哪)(?:多少|几)\s*([个名项次份位倍届种家所条座人国])")
_ZH_QUANTITY = re.compile(r"(?<!哪)(?:多少|几(?!乎)|多大|多高|多长)")
_EN_MONEY = re.compile(
    r"\bhow much (money|funding|financ\w*)|\b(costs?|budget|funding|capitali[sz]ation|dollars|price|worth)\b",
    re.I,
)
# with "how much" only: "What did the translation contribute to?" asks no amount
_EN_MONEY_VERB = re.compile(r"\b(pledged?|pledges|spent|spend|losses|lost|contribut\w*|donat\w*|paid|disburs\w*|allocat\w*|invest\w*|raised?|cost)\b", re.I)
# "what share of", "how much of": not "What does an MSP share with the Commons?"
_EN_SHARE = re.compile(
    r"\b(what|which)\s+(?:\w+\s+)?(percentage|proportion|share|fraction|per ?cent)\b|\bhow much of\b|\b(percentage|proportion|share) of\b",
    re.I,
)
_EN_COUNT = re.compile(r"\bhow many\s+(?:of\s+(?:the\s+|its\s+|their\s+)?)?(.+)", re.I)
# words that end the counted noun phrase of "how many ...": auxiliaries, prepositions, common verbs
_EN_PHRASE_END = frozenset(
    "did does do have has had are is were was will would can could should may might must been be "
    "in at on for to from by with of per during since under over into within among between before after "
    "that which who whom whose took take sit sat make made met attend attended join joined receive received".split()
)
_EN_IRREGULAR_PLURALS = frozenset("people children men women staff personnel police delegates".split())

_ZH_NUM = r"(?:\d[\d ,.]*[千万亿]*|[零〇一二两三四五六七八九十百千万亿]+)\s*(?:多|余)?\s*"
_ZH_GAP = r"[^，。；、,.;：:（）()]{0,6}?"  # "99 次是部长", "13 个联合国机构": a few characters between number and noun
_ZH_PEOPLE = "人名位"
_ZH_COUNTRIES = r"(?:国|国家|缔约方|会员国|成员国)"
_MONEY_EVIDENCE = re.compile(
    r"\d[\d ,.]*\s*(?:[千万亿]+)?\s*(?:[\u3400-\u9fff]{0,3}?(?:元|圆|币|盾|镑|卢比|法郎|比索|马克|卢布|里拉|兰特))|[$€£¥]\s*\d|"
    r"\b\d[\d,.]*\s*(?:million|billion|thousand|m|bn)?\s*(?:US )?(?:dollars|euros|pounds|francs|yen|rupees|marks|pesos|USD|EUR)\b|\bUS\$",
    re.I,
)
_SHARE_EVIDENCE = re.compile(
    r"\d\s*[%％]|百分之|[\d零一二三四五六七八九十]+\s*分之|\d\s*比\s*\d|\bper ?cent\b|\bpercent|\bhalf\b|\bmajority\b|一半|"
    r"\b(?:one|two|three)[- ](?:thirds?|quarters?|fifths?)\b",
    re.I,
)
_EN_NUMBER_WORD = (
    r"(?:once|twice|thrice|a dozen|dozens|hundreds|thousands|millions|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|"
    r"million|dozen)s?"
)


@dataclass(frozen=True, slots=True)
class AskedMeasure:
    """What a quantity question counts.

    ``kind``: money, a share, or a count. A count has the Chinese ``classifier`` after 多少/几
    (个, 人, 项 …; empty for English) and the ``nouns`` counted ("缔约方"; English head nouns,
    "parties", or two for "agencies and organizations"), when the question names them.
    """

    kind: Literal["money", "share", "count"]
    classifier: str = ""
    nouns: tuple[str, ...] = ()


def _zh_counted_noun(question: str, after: int) -> str:
    """The noun a Chinese count asks about: the nouns right after the classifier ("个缔约方" → 缔约方)."""
    noun = ""
    for piece in jieba.posseg.cut(question[after:]):
        if piece.flag.startswith(("n", "j")) or piece.flag == "vn":
            noun += piece.word
            continue
        break
    return noun


def _en_counted_nouns(phrase: str) -> tuple[str, ...]:
    """Head nouns of the phrase after "how many": its plural words before the verb ("Cartagena Protocol parties had …")."""
    words = re.findall(r"[A-Za-z][A-Za-z\-]*", phrase)
    kept: list[str] = []
    for word in words[:6]:
        if word.lower() in _EN_PHRASE_END:
            break
        kept.append(word.lower())
    if not kept:
        return ()
    plurals = [w for w in kept if w in _EN_IRREGULAR_PLURALS or (len(w) > 3 and w.endswith("s") and not w.endswith("ss"))]
    if plurals:
        return tuple(dict.fromkeys(plurals[:2]))
    return (kept[0],)


def asked_measure(question: str) -> AskedMeasure | None:
    """What a quantity question counts; None when it asks no quantity (or asks "which ones": 哪几个)."""
    if _HAN.search(question):
        if not _ZH_QUANTITY.search(question):
            return None
        if _ZH_SHARE.search(question):
            return AskedMeasure("share")
        if _ZH_MONEY.search(question):
            return AskedMeasure("money")
        match = _ZH_COUNT.search(question)
        if match is None:
            return None
        noun = _zh_counted_noun(question, match.end())
        return AskedMeasure("count", match.group(1), (noun,) if noun else ())
    if _EN_SHARE.search(question) and re.search(r"\bwhat\b|\bhow\b", question, re.I):
        return AskedMeasure("share")
    if _EN_MONEY.search(question) and re.search(r"\bhow\b|\bwhat\b", question, re.I):
        return AskedMeasure("money")
    if _EN_MONEY_VERB.search(question) and re.search(r"\bhow much\b", question, re.I):
        return AskedMeasure("money")
    match = _EN_COUNT.search(question)
    if match is None:
        return None
    nouns = _en_counted_nouns(match.group(1))
    return AskedMeasure("count", "", nouns) if nouns else None


@lru_cache(maxsize=1024)  # one question is checked against every candidate paragraph
def _question_numbers(question: str) -> re.Pattern[str] | None:
    """The numbers ``question`` states, as one pattern (None: it states none beyond 0 and 1)."""
    numbers = sorted(set(re.findall(r"\d+(?:\.\d+)?", join_digit_groups(question))) - {"0", "1"})
    if not numbers:
        return None
    return re.compile(r"(?<![\d.])(?:" + "|".join(map(re.escape, numbers)) + r")(?![\d.])")


def _without_question_numbers(evidence: str, question: str) -> str:
    """``evidence`` with the numbers the question itself states taken out (digit groups joined first)."""
    flat = join_digit_groups(evidence)
    stated = _question_numbers(question)
    return flat if stated is None else stated.sub(" ", flat)


def _zh_states_count(measure: AskedMeasure, evidence: str) -> bool:
    classifier = measure.classifier
    if classifier == "国":
        if re.search(_ZH_NUM + r"个?" + _ZH_COUNTRIES, evidence):
            return True
    elif classifier and classifier != "个":  # a specific classifier counts its kind: "N 名", "N 项"
        units = _ZH_PEOPLE if classifier in _ZH_PEOPLE else re.escape(classifier)
        if re.search(_ZH_NUM + f"[{units}]", evidence):
            return True
    wanted = [n for n in measure.nouns if n]
    if any(n in ("国", "国家", "缔约方") for n in wanted):
        wanted.append(_ZH_COUNTRIES)
    else:
        wanted = [re.escape(n) for n in wanted]
    if not wanted:  # "多少个" and nothing named after it: any "N 个"
        return classifier == "个" and bool(re.search(_ZH_NUM + "个", evidence))
    return any(re.search(_ZH_NUM + _ZH_GAP + n, evidence) for n in wanted)


def _en_states_count(measure: AskedMeasure, evidence: str) -> bool:
    for noun in measure.nouns:
        if noun == "times" and re.search(r"\b(?:once|twice|thrice)\b", evidence, re.I):
            return True
        if noun == "people":
            stem = "(?:people|person|persons|participants|delegates|individuals)"
        else:
            base = noun[:-1] if noun.endswith("s") and len(noun) > 3 else noun
            stem = re.escape(base[: max(4, len(base) - 2)])
        number = rf"\b(?:\d[\d,.]*|{_EN_NUMBER_WORD})"
        if re.search(number + r"\s+(?:[A-Za-z\-]+\s+){0,2}" + stem, evidence, re.I):
            return True
    return False


def states_measure(measure: AskedMeasure, evidence: str, question: str = "", translations: Iterable[str] = ()) -> bool:
    """Does ``evidence`` state a quantity of the asked kind that ``question`` does not already state?

    ``translations``: Chinese renderings of an English question's counted nouns, for Chinese evidence.
    """
    text = _without_question_numbers(evidence, question) if question else evidence
    if measure.kind == "money":
        return bool(_MONEY_EVIDENCE.search(text))
    if measure.kind == "share":
        return bool(_SHARE_EVIDENCE.search(text))
    if _SHARE_EVIDENCE.search(text):  # "how many of them": "two thirds", "the majority", "7 per cent"
        return True
    if measure.classifier and not _HAN.search(text):  # a Chinese question over English text: any number it does not state
        return has_count(text)
    if measure.classifier:  # a Chinese question
        return _zh_states_count(measure, text)
    if _en_states_count(measure, text):
        return True
    named = [t for t in translations if t and t in text]
    if named:  # the counted thing is named in the Chinese text: a number must come with it
        return any(re.search(_ZH_NUM + _ZH_GAP + re.escape(t), text) for t in named)
    # over Chinese text, not named (the dictionary may not know its rendering): any number the question does not state
    return bool(_HAN.search(text)) and has_count(text)


def counted_renderings(measure: AskedMeasure, lookup: Callable[[str], Sequence[tuple[str, float]]], per_noun: int = 8) -> list[str]:
    """Chinese renderings of an English question's counted nouns ("parties" → 缔约方), from the
    English→Chinese dictionary's ``lookup``, for :func:`states_measure` over Chinese text."""
    return [rendering for noun in measure.nouns for rendering, _ in lookup(noun)[:per_noun]]
