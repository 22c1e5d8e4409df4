"""Which sentence an answer quotes first, on the real seed index.

The first citation stays with the top fused hit unless another hit's best sentence is closer to the
question by ``other_unit_margin``; a list's lead-in read together with its first item is cited as
that item.
"""

from __future__ import annotations

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
