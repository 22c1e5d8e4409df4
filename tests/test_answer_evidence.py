"""Which sentence an answer quotes first, on the real seed index.

The first citation stays with the top fused hit unless another hit's best sentence is closer to the
question by ``other_unit_margin``; a list's lead-in read together with its first item is cited as
that item.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.answer import AnswerParams, candidate_sentences, sentence_in_sub_unit
from rag.retriever import Hit

pytestmark = pytest.mark.slow


def _unit(retriever, para: int):
    doc = next(iter(retriever.index.documents))
    return retriever.index.units[f"{doc}/{para}"]


def _plain_paragraphs(retriever):
    """Two paragraphs without sub-units (so a sentence is cited as its paragraph)."""
    index = retriever.index
    plain = [u for u in index.units.values() if u.para is not None and u.sub is None and not index.sub_units.get(u.id) and index.unit_sentences(u.id)]
    return plain[0], plain[5]


def _hits(*units) -> tuple[Hit, ...]:
    return tuple(Hit(u, None, rank, 1.0 / (rank + 1), None, None) for rank, u in enumerate(units))


def _query_between(retriever, top, other, lean: float) -> tuple[np.ndarray, float]:
    """A query vector between ``top``'s first sentence and ``other``'s, leaning ``lean`` towards ``other``;
    also how much closer ``other``'s sentence is to it than ``top``'s."""
    a = retriever.index.unit_sentences(top.id)[0][1]
    b = retriever.index.unit_sentences(other.id)[0][1]
    query = (1 - lean) * a + lean * b
    query = (query / np.linalg.norm(query)).astype(np.float32)
    return query, float(b @ query - a @ query)


@pytest.mark.parametrize("para", [50])
def test_lead_in_read_with_its_first_item_is_cited_as_the_item(retriever, para: int) -> None:
    unit = _unit(retriever, para)
    sentence = next(s for s, _ in retriever.index.unit_sentences(unit.id) if "(a)" in unit.text[s.start : s.end])
    assert unit.text[sentence.start : sentence.end].startswith("2013年的获奖者为")  # the seed's lead-in + (a)
    cited, start, end = sentence_in_sub_unit(unit, sentence.start, sentence.end, retriever.index)
    assert (cited.para, cited.sub) == (para, "a")
    assert cited.text[start:end].startswith("印度非政府组织生态安全基金会")


def test_re_anchoring_never_quotes_an_empty_or_shifted_span(retriever) -> None:
    unit = _unit(retriever, 61)  # "会议编写了一份成果报告……内容包括：(a) ……": a lead-in read with item (a)
    for sentence, _ in retriever.index.unit_sentences(unit.id):
        cited, start, end = sentence_in_sub_unit(unit, sentence.start, sentence.end, retriever.index)
        assert cited.text[start:end].strip(), "a quoted span is never empty"
        if cited is unit:
            assert unit.text[start:end] == unit.text[sentence.start : sentence.end]


def test_top_hit_keeps_the_first_citation_within_the_margin(retriever) -> None:
    params = AnswerParams()
    top, other = _plain_paragraphs(retriever)
    for lean in np.linspace(0.5, 0.8, 31):  # the lowest lean at which the other sentence is closer, but not by the margin
        query, advantage = _query_between(retriever, top, other, float(lean))
        if 0 < advantage < params.other_unit_margin:
            break
    else:
        pytest.fail("no query vector puts the other paragraph's sentence just ahead")
    first = candidate_sentences("q", _hits(top, other), retriever.index, query, params)[0]
    assert first.unit.id == top.id


def test_another_hit_wins_when_clearly_closer(retriever) -> None:
    params = AnswerParams()
    top, other = _plain_paragraphs(retriever)
    query, advantage = _query_between(retriever, top, other, 0.95)
    assert advantage > params.other_unit_margin
    first = candidate_sentences("q", _hits(top, other), retriever.index, query, params)[0]
    assert first.unit.id == other.id


@pytest.mark.parametrize(
    ("question", "para", "sub"),
    [
        # the lead-in of para. 85 ("执行情况概述如下") is closest by cosine; the answer is target 19's
        # "科学、技术和工艺咨询附属机构第十七次会议将探讨…" (17 = 第十七次) and target 6's overfishing
        ("What will SBSTTA 17 examine with regard to the Aichi targets?", 85, "target 19"),
        ("Progress on sustainable fisheries and overfishing under the Aichi targets", 85, "target 6"),
        # a list's lead-in ("包括下列几届会议：") repeats the question's words but is not the answer
        ("2012年多哈会议上，长期合作行动特设工作组开的是第几届会议？", 2, "f"),
        # the lead sentence holds the question's context (the Israel conference, the Seoul consultation), the
        # item its answer: an item is read with its lead-in (rag.list_items)
        ("以色列旱地国际会议认为实现土地退化零增长的主要难点之一是什么？", 61, "c"),
        ("What was the Seoul expert consultation supposed to explain about an ad hoc working group?", 63, "c"),
    ],
)
def test_the_quoted_sentence_states_the_question_not_only_its_topic(answerer, question: str, para: int, sub: str) -> None:
    answer = answerer.ask(question).answer
    assert not answer.refused
    first = answer.citations[0]
    assert (first.para, first.sub) == (para, sub)


def test_focus_keeps_the_cited_paragraph_and_rescores_its_sentences(retriever) -> None:
    from rag.answer import QuotedSentence, focused
    from rag.question_terms import SentenceFocus

    lead, item = _unit(retriever, 2), retriever.index.units[f"{next(iter(retriever.index.documents))}/2/f"]
    other = _unit(retriever, 26)
    candidates = [
        QuotedSentence(other, 0, 20, 0.90),  # another paragraph's sentence, ranked first: stays the cited one
        QuotedSentence(item, 0, len(item.text), 0.80),
        QuotedSentence(lead, 0, lead.text.index("：") + 1, 0.85),
    ]
    focus = SentenceFocus("长期合作行动特设工作组开的是第几届会议？")
    params = AnswerParams()
    rescored = focused(candidates, focus, params)
    assert rescored[0].unit is other
    # the item repeats the question's words and gains; the lead-in ending in a colon gains nothing
    by_unit = {c.unit.id: c.score for c in rescored}
    assert by_unit[item.id] > 0.80 + 0.5 * params.coverage_weight
    assert by_unit[lead.id] == pytest.approx(0.85)
    assert by_unit[item.id] > by_unit[lead.id]


@pytest.mark.parametrize(
    ("question", "para", "quoted"),
    [
        # the lead-in answers; an item that shares one word with the question (地 of 地区 for "Land") does not outdo it
        ("How many semi-finalists were shortlisted for the 2013 Land for Life Award, and how many experts sat on the jury?", 50, "16名半决赛参赛者"),
        ("首尔的土地零净退化非正式专家协商会议是什么时候举行的？", 63, "2013年6月26日和27日"),
    ],
)
def test_a_question_the_lead_in_answers_quotes_the_lead_in(answerer, question: str, para: int, quoted: str) -> None:
    answer = answerer.ask(question).answer
    assert not answer.refused
    first = answer.citations[0]
    assert (first.para, first.sub) == (para, None)
    assert quoted in answer.segments[1 if answer.cross_lingual else 0].text


def test_lead_in_is_the_paragraph_before_its_first_item(retriever) -> None:
    from rag.list_items import lead_in_end

    paragraph = _unit(retriever, 63)
    items = retriever.index.sub_units[paragraph.id]
    lead = paragraph.text[: lead_in_end(paragraph, items)]
    assert lead.startswith("2013年6月26日和27日") and lead.rstrip().endswith("会议的目标是：")
    assert lead_in_end(_plain_paragraphs(retriever)[0], ()) == 0


def test_an_english_list_item_is_cited_with_its_lead_in_context(settings, tmp_path) -> None:
    """tests/fixtures/english_un.txt para. 2: "The eleventh meeting … in Hyderabad … adopted 33 decisions, including:
    (a) … (b) A decision on marine and coastal biodiversity; …" -- the question names the lead-in's meeting."""
    import shutil

    from rag.engine import build_from_documents, load_seed_corpus, open_retriever
    from rag.qa import QuestionAnswerer

    (tmp_path / "docs").mkdir()
    shutil.copy(Path(__file__).parent / "fixtures" / "english_un.txt", tmp_path / "docs")
    local = settings.with_changes({"seeds_dir": tmp_path / "docs", "index_dir": tmp_path / "index"})
    build_from_documents(local, load_seed_corpus(local), index_dir=local.resolved_index_dir)
    answerer = QuestionAnswerer(open_retriever(local), local.answer_params)
    item = answerer.ask("Which decision of the Hyderabad Conference of the Parties concerned marine biodiversity?").answer
    assert (item.citations[0].para, item.citations[0].sub) == (2, "b")
    assert item.segments[0].text.startswith("A decision on marine and coastal biodiversity")
    lead = answerer.ask("Where was the eleventh meeting of the Conference of the Parties held?").answer
    assert (lead.citations[0].para, lead.citations[0].sub) == (2, None)
    assert "Hyderabad, India" in lead.segments[0].text
