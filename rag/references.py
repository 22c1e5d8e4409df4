"""Paragraph references in questions: "第26段", "第3(a)段", "para. 85, target 11", "paras 81–82".

Looking up what a cited paragraph says is the most common thing a diplomat does with a UN
document, and similarity search is the wrong tool for it: "第26段讲了什么" shares no words with
paragraph 26. This module recognises such references (one parser, used by the CLI, the API and
the page through :class:`rag.qa.QuestionAnswerer`), says whether the question is a pure look-up
or a question about the referenced unit, and resolves the reference against an index.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from rag.units import Unit

__all__ = [
    "ParsedReference",
    "Resolution",
    "UnitRef",
    "chinese_number",
    "parse_reference",
    "resolve_reference",
]


@dataclass(frozen=True, slots=True)
class UnitRef:
    """One referenced unit: a paragraph number and an optional sub-unit label ("a", "target 11")."""

    para: int
    sub: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedReference:
    """What a question refers to, and what else it asks.

    ``pure`` is True when nothing but the reference and look-up words ("讲了什么", "what does …
    say") remain: the unit itself is the answer. ``rest`` is the question without the reference.
    """

    refs: tuple[UnitRef, ...]
    pure: bool
    rest: str
    symbol: str | None = None  # a UN document symbol named in the question ("A/68/150")

    @property
    def asked(self) -> str:
        """What is asked beyond the reference, English look-up words left out ("What does … say
        about overfishing?" -> "overfishing"): the words an answer's sentence should state."""
        return " ".join(_EN_ASKING.sub(" ", self.rest).split())


@dataclass(frozen=True, slots=True)
class Resolution:
    """A reference resolved against an index: the units, or why there are none."""

    doc: str | None
    units: tuple[Unit, ...]
    missing: tuple[UnitRef, ...]
    ambiguous: tuple[str, ...] = ()  # several documents have the paragraph and none was named


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUM = r"[零〇一二两三四五六七八九十百]+"
_NUM = rf"(?:\d+|{_CN_NUM})"


def chinese_number(text: str) -> int | None:
    """"26" → 26, "二十六" → 26, "一百零二" → 102; None when it is not a number below 1000."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _CN_DIGITS and ch not in "十百" for ch in text):
        return None
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _CN_DIGITS[ch]
    return total + current


_SUB = r"[a-z]{1,2}|[ivx]{1,4}"
_ZH_SUB = rf"\s*[(（]\s*({_SUB})\s*[)）]"
_ZH_TARGET = rf"[，,、的\s]*(?:爱知)?(?:生物多样性)?目标\s*({_NUM})"
_ZH_SUB_AFTER = rf"[，,的\s]*(?:第\s*)?[(（]\s*({_SUB})\s*[)）]\s*(?:项|分段|小段|款)?"
_RANGE_ZH = r"\s*(和|与|及|、|至|到|-|–|—|~)\s*(?:第\s*)?"

# 第81和82段, 第81至82段, 第 81-82 段
_ZH_RANGE = re.compile(rf"第\s*({_NUM})\s*段?{_RANGE_ZH}({_NUM})\s*段")
# 第26段, 第3(a)段, 第85段目标11, 第90段(d)项
_ZH_ONE = re.compile(rf"第\s*({_NUM})\s*(?:{_ZH_SUB})?\s*段(?:{_ZH_TARGET}|{_ZH_SUB_AFTER})?")
_EN_PARA = r"(?:paragraphs?|paras?\.?|¶)"
# subparagraph (d) of paragraph 90
_EN_SUB_OF = re.compile(rf"\b(?:sub-?paragraph|item|point)\s*\(?\s*({_SUB})\s*\)?\s+of\s+{_EN_PARA}\s*(\d+)", re.IGNORECASE)
# target 11 of paragraph 85
_EN_TARGET_OF = re.compile(rf"\b(?:aichi\s+)?target\s*(\d+)\s+(?:of|in|under)\s+{_EN_PARA}\s*(\d+)", re.IGNORECASE)
# paras 81–82, paragraphs 81 and 82, paragraphs 81 to 82
_EN_RANGE = re.compile(rf"(?<![A-Za-z]){_EN_PARA}\s*(\d+)\s*(and|to|through|-|–|—|&)\s*(\d+)\b", re.IGNORECASE)
# para. 26, paragraph 3 (a), para 3(a), paragraph 85, target 11
_EN_ONE = re.compile(
    rf"(?<![A-Za-z]){_EN_PARA}\s*(\d+)(?:\s*\(\s*({_SUB})\s*\))?(?:[,\s]+(?:aichi\s+)?target\s*(\d+))?(?![\d/])",
    re.IGNORECASE,
)
_SYMBOL = re.compile(r"\b[A-Z]{1,8}(?:/[A-Z0-9.\-]+){2,}\b")

# What remains of a pure look-up once the reference is taken out.
_ZH_LOOKUP_WORDS = re.compile(
    r"请|麻烦|帮我|给我|显示|查看|查阅|看看|看一下|读一下|列出|引用|原文|全文|内容|文本|讲了什么|说了什么|写了什么|讲的是什么|说的是什么|"
    r"讲的什么|说的什么|讲什么|说什么|写什么|是什么|有什么|什么|怎么说|如何说|本文件|文件|该|这|那|的|了|吗|呢|是|中|里|"
    r"项|分段|小段|段落|段|和|与|及|至|到"
)
_EN_LOOKUP_WORDS = {
    "what", "whats", "does", "do", "did", "is", "are", "in", "say", "says", "said", "the", "of", "show", "me", "text",
    "read", "contain", "contains", "content", "contents", "document", "this", "that", "please", "tell", "quote",
    "give", "full", "and", "to", "through", "a", "an", "it", "its", "there", "can", "you", "i", "see", "print",
    "display", "written", "write", "states", "state", "stated", "exact", "wording", "which", "was",
}
_WORD = re.compile(r"[A-Za-z]+|[\u3400-\u9fff]")
_EN_ASKING = re.compile(
    r"\b(?:" + "|".join(sorted(_EN_LOOKUP_WORDS | {"about", "regarding", "concerning", "on"}, key=len, reverse=True)) + r")\b", re.IGNORECASE
)


def _sub_label(letter: str | None, target: str | None) -> str | None:
    if target is not None:
        number = chinese_number(target)
        return None if number is None else f"target {number}"
    return letter.lower() if letter else None


def _expand(first: int, last: int, joiner: str) -> list[int]:
    if joiner in ("和", "与", "及", "、", "and", "&") or last < first or last - first > 50:
        return [first, last]
    return list(range(first, last + 1))


def _find(question: str) -> tuple[list[UnitRef], list[tuple[int, int]]]:
    refs: list[UnitRef] = []
    spans: list[tuple[int, int]] = []

    def taken(match: re.Match[str]) -> bool:
        return any(s < match.end() and match.start() < e for s, e in spans)

    def add(match: re.Match[str], found: Iterable[UnitRef]) -> None:
        spans.append(match.span())
        refs.extend(found)

    for m in _EN_SUB_OF.finditer(question):
        add(m, [UnitRef(int(m.group(2)), m.group(1).lower())])
    for m in _EN_TARGET_OF.finditer(question):
        if not taken(m):
            add(m, [UnitRef(int(m.group(2)), f"target {int(m.group(1))}")])
    for m in _EN_RANGE.finditer(question):
        if not taken(m):
            add(m, [UnitRef(p) for p in _expand(int(m.group(1)), int(m.group(3)), m.group(2).lower())])
    for m in _EN_ONE.finditer(question):
        if not taken(m):
            add(m, [UnitRef(int(m.group(1)), _sub_label(m.group(2), m.group(3)))])
    for m in _ZH_RANGE.finditer(question):
        first, last = chinese_number(m.group(1)), chinese_number(m.group(3))
        if first is not None and last is not None and not taken(m):
            add(m, [UnitRef(p) for p in _expand(first, last, m.group(2))])
    for m in _ZH_ONE.finditer(question):
        number = chinese_number(m.group(1))
        if number is not None and not taken(m):
            add(m, [UnitRef(number, _sub_label(m.group(2) or m.group(4), m.group(3)))])
    order = sorted(range(len(spans)), key=lambda i: spans[i][0])
    return refs, [spans[i] for i in order]


def _is_pure(rest: str) -> bool:
    """Nothing is asked beyond the reference: only look-up words and punctuation remain."""
    rest = _ZH_LOOKUP_WORDS.sub(" ", rest)
    return all(word.lower() in _EN_LOOKUP_WORDS for word in _WORD.findall(rest))


def parse_reference(question: str, titles: Iterable[str] = ()) -> ParsedReference | None:
    """The paragraph reference in ``question``, or None when it names no paragraph.

    ``titles``: document titles the question may name ("… of the Note by the Secretary-General");
    they are taken out before deciding whether anything but the reference is asked.
    """
    refs, spans = _find(question)
    if not refs:
        return None
    rest = question
    for start, end in sorted(spans, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    symbol_match = _SYMBOL.search(rest)
    symbol = symbol_match.group(0) if symbol_match else None
    if symbol_match:
        rest = rest[: symbol_match.start()] + " " + rest[symbol_match.end() :]
    for title in sorted((t for t in titles if t), key=len, reverse=True):
        rest = re.sub(re.escape(title), " ", rest, flags=re.IGNORECASE)
    unique = tuple(dict.fromkeys(refs))
    rest = " ".join(rest.split())
    return ParsedReference(unique, _is_pure(rest), rest, symbol)


def resolve_reference(
    reference: ParsedReference,
    paragraphs: Mapping[str, Mapping[int, Unit]],
    sub_units: Mapping[str, tuple[Unit, ...]],
    *,
    doc: str | None = None,
    named_docs: tuple[str, ...] = (),
    allowed: Collection[str] | None = None,
) -> Resolution:
    """Find the referenced units in one document.

    ``doc`` (the request's document) wins; otherwise a document the question names
    (``named_docs``, by symbol or title); otherwise the only document, or the only one that has
    every referenced paragraph. ``allowed`` (the request's filter) restricts all of these. When
    several qualify, ``ambiguous`` lists them.
    """
    candidates = [doc] if doc is not None else list(named_docs) or list(paragraphs)
    if allowed is not None:
        candidates = [d for d in candidates if d in allowed] or [d for d in paragraphs if d in allowed and doc is None]
    if len(candidates) > 1:
        having = [d for d in candidates if all(r.para in paragraphs.get(d, {}) for r in reference.refs)]
        if len(having) > 1:
            return Resolution(None, (), (), tuple(having))
        candidates = having or candidates[:1]
    if not candidates:
        return Resolution(None, (), reference.refs)
    chosen = candidates[0]
    numbered = paragraphs.get(chosen, {})
    units: list[Unit] = []
    missing: list[UnitRef] = []
    for ref in reference.refs:
        paragraph = numbered.get(ref.para)
        if paragraph is None:
            missing.append(ref)
            continue
        if ref.sub is None:
            units.append(paragraph)
            continue
        sub = next((u for u in sub_units.get(paragraph.id, ()) if u.sub == ref.sub), None)
        if sub is None:
            missing.append(ref)
        else:
            units.append(sub)
    return Resolution(chosen, tuple(units), tuple(missing))
