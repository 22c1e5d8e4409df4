"""The question's specific words, weighted by rarity, and the first citation they help choose."""

from __future__ import annotations

import pytest

from rag.evidence_terms import QuestionTerms
from rag.lexical import LexicalIndex

TEXTS = [
    "缔约方大会第十八届会议在多哈举行，会议通过了多项决定。",
    "缔约方大会第十八届会议通过了京都议定书多哈修正案。",
    "缔约方大会决定设立常设委员会，负责资金问题。",
    "缔约方大会邀请各缔约方提交意见。",
]


@pytest.fixture(scope="module")
def lexical() -> LexicalIndex:
    return LexicalIndex.build(TEXTS)


def test_a_rare_word_weighs_more_than_a_common_one(lexical: LexicalIndex) -> None:
    common, rare = lexical.specificity("缔约方"), lexical.specificity("修正案")
    assert common is not None and rare is not None and 0 < common < rare <= 1
    assert lexical.specificity("加拿大") is None  # not in the index at all


def test_coverage_counts_the_specific_word_most(lexical: LexicalIndex) -> None:
    terms = QuestionTerms("缔约方大会通过了什么修正案？", lexical)
    with_rare = terms.coverage(TEXTS[1])  # 缔约方, 大会, 通过, 修正案 all there
    without_rare = terms.coverage(TEXTS[0])  # the common words only
    assert with_rare == pytest.approx(1.0)
    assert 0 < without_rare < 0.6
    assert terms.coverage("天气很好。") == 0.0


def test_a_question_word_absent_from_the_index_counts_fully(lexical: LexicalIndex) -> None:
    terms = QuestionTerms("加拿大在缔约方大会上说了什么？", lexical)
    assert terms.coverage(TEXTS[3]) < 0.5  # 加拿大 (weight 1) is missing, only the common words are there


@pytest.mark.slow
def test_an_english_question_over_chinese_text_counts_dictionary_concepts(lexical: LexicalIndex) -> None:
    from rag.crosslingual import shared_lexicon

    terms = QuestionTerms("What did the Conference of the Parties decide about the Standing Committee?", lexical, shared_lexicon())
    assert terms.coverage(TEXTS[2]) > terms.coverage(TEXTS[3])  # 常设委员会 is in the one that answers
    assert terms.coverage("The Standing Committee met.") > 0  # English evidence: the question's own words
