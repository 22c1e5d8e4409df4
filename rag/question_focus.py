"""What a question is specifically about, and what kind of answer it wants.

"第十九届缔约方大会在哪个城市举行？" shares almost every word with a paragraph about the
eighteenth session in Doha; what that paragraph lacks is the question's *specific* content (the
nineteenth session) and, had it been about Warsaw, a city would still be the kind of answer
wanted. Answer verification therefore looks at two things beyond topical similarity: whether the
evidence covers the question's specific terms -- numbers and ordinals (第十九届 = 19th = 19),
names, quoted terms -- and whether it holds an element of the asked answer type (a place for
"哪个城市/where", a person or body for "谁/who", a number for "多少/how many", a date for
"何时/when") that the question does not already contain. Chinese text is tagged with
``jieba.posseg`` (ns place, nr person, nt organisation, t time, m numeral); English text by
capitalisation and numbers. This is the predictive-annotation idea of classic open-domain QA
(Prager et al. 2000, SIGIR; Moldovan et al. 2000, ACL), used here to verify, not to extract.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

import cn2an
import jieba.posseg

from rag.answer_type import MONTHS, has_number, join_digit_groups

__all__ = [
    "AnswerType",
    "answer_type",
    "covered_share",
    "has_answer_of_type",
    "number_values",
    "specific_names",
]

AnswerType = str  # "place" | "person" | "time" | "number"

_ZH_TYPES = (
    ("place", re.compile(r"哪几?[个座一些]?(?:城市|国家|地区|地方|国|省|州|市)|在哪[里儿]?|何地|何处|什么地方|哪里|哪儿")),
    ("person", re.compile(r"谁|哪几?位|何人|什么人|哪几?[个些家]?(?:组织|机构|国家|缔约方)")),
    ("time", re.compile(r"何时|什么时候|哪一?年|哪一?天|哪个月|几月|几号|什么时间|日期|起止|期限|截止")),
    ("number", re.compile(r"多少|(?<!哪)几(?!乎)[个名项次年届份倍位国家所种]?|多[大高长久远重]|百分之几|比例|金额|数量|人数|规模")),
)
_EN_TYPES = (
    ("place", re.compile(r"\bwhere\b|\b(which|what) (city|country|town|place|region|state|nation|continent)\b", re.I)),
    ("person", re.compile(r"\bwho(m|se)?\b|\b(which|what) (person|organi[sz]ation|body|agency|countries|country)\b", re.I)),
    ("time", re.compile(r"\bwhen\b|\b(what|which) (year|date|day|month|time|period|century|decade)\b|\bhow long ago\b", re.I)),
    ("number", re.compile(r"\bhow (many|much|long|old|large|big|far|high|often)\b|\bwhat (percentage|proportion|share|amount|number|size)\b|\bnumber of\b", re.I)),
)
# jieba.posseg flags that answer each type (ns place, nr* person, nt organisation, nz other proper noun, t time, m numeral)
_ZH_FLAGS = {
    "place": ("ns",),
    "person": ("nr", "nt", "ns", "nz"),
    "time": ("t", "m"),
    "number": ("m",),
}
_ZH_NUMERAL = re.compile(r"(第)?([零〇一二两三四五六七八九十百千万亿]+)(?=[届次个项名年月日份倍位种号条段期轮])")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_EN_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.I)
_EN_WORDS = {
    w: i
    for i, w in enumerate(
        "zero first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
        "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split()
    )
    if i
}
_EN_WORDS.update({w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split()) if i > 1})
_EN_WORD_RE = re.compile(r"\b(" + "|".join(_EN_WORDS) + r")\b", re.I)
_EN_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b([A-Z][a-zA-Z\-]+(?:\s+(?:of\s+the\s+|of\s+|for\s+|and\s+)?[A-Z][a-zA-Z\-]+)*)")
_EN_QUOTED = re.compile(r"[\"“]([^\"”]{3,60})[\"”]")
_ZH_QUOTED = re.compile(r"《([^》]+)》|“([^”]+)”")
_EN_GENERIC = frozenset(
    "what which who whom whose when where why how is are was were does did do the a an in on of for and "
    "un united nations conference parties party convention".split()
)


def answer_type(question: str) -> AnswerType | None:
    """The kind of answer the question asks for, or None (why/how/what-about questions)."""
    for name, pattern in _ZH_TYPES if re.search(r"[\u3400-\u9fff]", question) else _EN_TYPES:
        if pattern.search(question):
            return name
    return None


@lru_cache(maxsize=4096)
def _tags(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((p.word, p.flag) for p in jieba.posseg.cut(text))


_EN_YEAR = re.compile(r"\b(1[5-9]|20)\d\d\b|\b\d{1,2}(?:st|nd|rd|th)? " + MONTHS + r"|" + MONTHS + r"\b|\b\d{1,2}(?:st|nd|rd|th)? century\b")
_ZH_DATE = re.compile(
    r"\d+\s*[年月日]|[〇零一二三四五六七八九十]+\s*[年月日]|(?<![\d/.])(?:1[0-9]|20)\d\d(?![\d/.])|世纪|年代|今年|明年|去年|当年|同年|[春夏秋冬]季"
)
_ZH_DAY = re.compile(r"\d+\s*日|[一二三四五六七八九十]+\s*日|\d+\s*号")
_ZH_TRANSLITERATED = re.compile(r"[\u3400-\u9fff]{1,6}(?:[·・•][\u3400-\u9fff]{1,6})+")
_EN_DAY = re.compile(r"\b\d{1,2}(?:st|nd|rd|th)? " + MONTHS + r"|" + MONTHS + r" \d{1,2}\b")


def has_answer_of_type(kind: AnswerType, evidence: str, question: str) -> bool:
    """Does ``evidence`` hold an element of type ``kind`` that the question does not already name?

    A time question needs a date (a year, a month, a day -- a day when it asks "哪一天/which day"),
    not any number; a place or person question a proper noun the question does not contain.
    """
    zh_evidence = bool(re.search(r"[\u3400-\u9fff]", evidence))
    if kind == "time":
        day = bool(re.search(r"哪一?天|几号|几月几日|\bwhich day\b|\bwhat (day|date)\b", question, re.I))
        if zh_evidence:
            found = [m.group(0) for m in (_ZH_DAY if day else _ZH_DATE).finditer(evidence)]
        else:
            found = [m.group(0) for m in (_EN_DAY if day else _EN_YEAR).finditer(evidence)]
        return any(f.replace(" ", "") not in question.replace(" ", "") for f in found)
    if kind == "number" and not zh_evidence:
        return has_number(evidence)
    if not zh_evidence:  # English evidence: a name the question does not contain
        asked = question.lower()
        return any(n.lower() not in asked for n in _EN_NAME.findall(evidence))
    # transliterated names the tagger splits: 约翰·埃尔维
    if kind in ("person", "place") and any(name not in question for name in _ZH_TRANSLITERATED.findall(evidence)):
        return True
    flags = _ZH_FLAGS[kind]
    for word, flag in _tags(evidence):
        if len(word) < 2 and flag != "m":
            continue
        if flag.startswith(flags) and word not in question:
            if kind == "number" and not has_number(word) and not re.search(r"\d", word):
                continue
            return True
    return False


def _zh_numeral_values(text: str) -> set[str]:
    values = set()
    for match in _ZH_NUMERAL.finditer(text):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                values.add(str(int(cn2an.cn2an(match.group(2), "smart"))))
            except (ValueError, KeyError, TypeError):
                continue
    return values


def number_values(text: str) -> set[str]:
    """The numbers a text states, as Arabic digits: 1 000 → 1000, 第十九届 → 19, 19th/nineteenth → 19."""
    return set(_number_values(text))


@lru_cache(maxsize=8192)  # evidence sentences recur across questions, and cn2an is slow
def _number_values(text: str) -> frozenset[str]:
    flat = join_digit_groups(text)
    values = {n for n in _NUMBER.findall(flat)}
    values |= {m.group(1) for m in _EN_ORDINAL.finditer(flat)}
    values |= {str(_EN_WORDS[w.lower()]) for w in _EN_WORD_RE.findall(flat)}
    if re.search(r"[\u3400-\u9fff]", text):
        values |= _zh_numeral_values(text)
    return frozenset(v for v in values if v not in ("0", "1"))


def specific_names(question: str) -> list[str]:
    """The question's names and quoted terms (Chinese: posseg proper nouns and 《》/“” terms)."""
    if re.search(r"[\u3400-\u9fff]", question):
        names = [a or b for a, b in _ZH_QUOTED.findall(question)]
        quoted = "".join(names)
        for word, flag in _tags(question):
            if len(word) >= 2 and flag.startswith(("ns", "nr", "nt", "nz")) and word not in quoted:
                names.append(word)
        return list(dict.fromkeys(names))
    names = [q for q in _EN_QUOTED.findall(question)]
    for name in _EN_NAME.findall(question):
        if name.lower() not in _EN_GENERIC:
            names.append(name)
    return list(dict.fromkeys(names))


# words jieba tags as places or persons that name a kind of place, or no place at all ("在哪座城市", 海洋保护区)
_PLACE_KINDS = frozenset("城市 国家 东道国 地区 海湾 首都 各国 世界 全球 国际 本国 大陆 沿海 当地 全国 海洋 岛屿 小岛屿 北极 南极".split())
# a place that names an instrument ("京都议定书", "巴黎协定") is not what the question asks about
_INSTRUMENTS = frozenset("议定书 协定 公约 修正案 宣言 纲要 行动纲领 平台 路线图 条约 宪章".split())
_INSTRUMENT_ENDINGS = tuple(_INSTRUMENTS)
# a country's short name and the official one UN texts use instead (美国 is not a substring of 美利坚合众国)
_OFFICIAL_NAMES = {"美国": ("美利坚合众国",), "英国": ("联合王国",), "韩国": ("大韩民国",)}


def _is_place_or_person(word: str, flag: str) -> bool:
    return len(word) >= 2 and flag.startswith(("ns", "nr")) and word not in _PLACE_KINDS


def places_and_people(question: str, translate: Callable[[str], Sequence[tuple[str, float]]] | None = None) -> list[tuple[str, ...]]:
    """The places and persons a question names, each as the strings that show it in evidence.

    Chinese: those of its names (:func:`specific_names`) that ``jieba.posseg`` tags as places or persons
    (美国, with the official 美利坚合众国; 新西兰). English: its names whose dictionary translations are,
    for the most part, such a word ("New Zealand" -> 新西兰, but not "Kyoto Protocol" -> 京都议定书), with
    those translations; without ``translate`` (the English->Chinese lookup) an English question names none.
    """
    if re.search(r"[\u3400-\u9fff]", question):
        tags = _tags(question)
        names = set(specific_names(question))
        return [
            (word, *_OFFICIAL_NAMES.get(word, ()))
            for (word, flag), (following, _) in zip(tags, (*tags[1:], ("", "")), strict=True)
            if word in names and _is_place_or_person(word, flag) and following not in _INSTRUMENTS
        ]
    if translate is None:
        return []
    named = []
    for name in specific_names(question):
        renderings = [t for t, _ in translate(name)[:8]]
        if any(_renders_place_or_person(t) for t in renderings):
            named.append((name, *renderings))
    return named


def _renders_place_or_person(rendering: str) -> bool:
    """Mostly a place or person, and no instrument: 新西兰, but not 卡塔赫纳议定书 ("Cartagena Protocol"), whose
    place is most of its characters."""
    tags = _tags(rendering)
    if any(word.endswith(_INSTRUMENT_ENDINGS) for word, _ in tags):
        return False
    return 2 * sum(len(w) for w, f in tags if _is_place_or_person(w, f)) > len(rendering)


def covered_share(items: Iterable[str], present: Iterable[str]) -> float:
    """Share of ``items`` found in ``present`` (1.0 when there are none)."""
    wanted = list(items)
    if not wanted:
        return 1.0
    have = set(present)
    return sum(1 for i in wanted if i in have) / len(wanted)
