"""A list item is read with its lead-in (rag.list_items, rag.answer.focused), on hand-built units: no model.

The paragraph is the seed's para. 63, shortened: a lead sentence on the Seoul consultation, a lead-in
"会议的目标是：", and two items.
"""

from __future__ import annotations

import pytest

from rag.answer import AnswerParams, QuotedSentence, focused
from rag.list_items import ITEM_WORDS_BEYOND_LEAD_IN, item_in_context, lead_in_end, stated_words
from rag.question_terms import SentenceFocus
from rag.units import SourceSpan, Unit, UnitKind

LEAD = "2013年6月26日和27日，大韩民国政府在首尔举行了一次非正式专家协商会议。会议的目标是："
ITEMS = ("收集意见和建议，供大会谈判；", "说明设立特设工作组的理由和必要因素。")


def _paragraph() -> tuple[Unit, tuple[Unit, ...]]:
    text = LEAD + "".join(f"({letter}) {item}" for letter, item in zip("ab", ITEMS, strict=True))
    paragraph = Unit("doc/63", "doc", UnitKind.PARAGRAPH, 63, None, (), text, 0, len(text), (SourceSpan(0, 0, len(text)),))
    items = []
    for letter, item in zip("ab", ITEMS, strict=True):
        start = text.index(f"({letter})")
        items.append(Unit(f"doc/63/{letter}", "doc", UnitKind.SUB, 63, letter, (), item, start, start + len(item) + 4, parent="doc/63"))
    return paragraph, tuple(items)


def test_the_lead_in_ends_where_the_first_item_starts() -> None:
    paragraph, items = _paragraph()
    assert paragraph.text[: lead_in_end(paragraph, items)] == LEAD
    assert lead_in_end(paragraph, ()) == 0
    opening = Unit("doc/1", "doc", UnitKind.PARAGRAPH, 1, None, (), "(a) 第一项；", 0, 8, (SourceSpan(0, 0, 8),))
    first = Unit("doc/1/a", "doc", UnitKind.SUB, 1, "a", (), "第一项；", 0, 8, parent="doc/1")
    assert lead_in_end(opening, (first,)) == 0  # a paragraph that opens with its first item has no lead-in


class _Words:
    """A focus that counts which of a fixed list of question words a text contains."""

    def __init__(self, *words: str) -> None:
        self.words = words

    def __call__(self, sentence: str) -> tuple[float, bool]:
        return sum(w in sentence for w in self.words) / len(self.words), False

    def size(self, sentence: str) -> int:
        return len(self.words)


def test_an_item_counts_with_its_lead_in_only_beyond_one_word() -> None:
    focus = _Words("首尔", "专家协商会议", "说明", "特设工作组")
    lead_words = stated_words(focus, LEAD)
    assert lead_words == 2
    assert item_in_context(focus, LEAD, lead_words, ITEMS[1]) == (1.0, False)  # two words beyond the lead-in
    one_word = _Words("首尔", "专家协商会议", "建议", "日内瓦")
    assert ITEM_WORDS_BEYOND_LEAD_IN == 2
    assert item_in_context(one_word, LEAD, stated_words(one_word, LEAD), ITEMS[0]) is None  # one word is chance


def _candidates() -> list[QuotedSentence]:
    paragraph, (first, second) = _paragraph()
    lead_sentence = QuotedSentence(paragraph, 0, LEAD.index("。") + 1, 0.86)
    return [lead_sentence, QuotedSentence(second, 0, len(second.text), 0.84), QuotedSentence(first, 0, len(first.text), 0.83)]


@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        # context in the lead sentence, answer in item (b): the item, read with the lead-in, is quoted first
        ("首尔的专家协商会议要说明设立特设工作组的什么理由？", "doc/63/b"),
        # the lead sentence answers: no item adds two words, and it keeps its bonus
        ("首尔的非正式专家协商会议是哪一天举行的？", "doc/63"),
    ],
)
def test_focused_quotes_the_item_the_question_is_about(question: str, quoted: str) -> None:
    candidates = _candidates()
    lead_ins = {"doc/63": LEAD}
    params = AnswerParams()
    rescored = focused(candidates, SentenceFocus(question), params, lead_ins)
    assert rescored[0].unit.id == quoted
    by_unit = {c.unit.id: c.score for c in rescored}
    if quoted == "doc/63/b":  # the lead sentence is context: no word bonus
        assert by_unit["doc/63"] == pytest.approx(0.86)
    else:
        assert by_unit["doc/63"] > 0.86
    # without the lead-ins the lead sentence, closer and sharing more words, is quoted
    assert focused(candidates, SentenceFocus(question), params)[0].unit.id == "doc/63"
