"""The question's content words and how much of them a sentence states (rag.question_terms)."""

from __future__ import annotations

import pytest

from rag.crosslingual import BilingualLexicon
from rag.question_terms import SentenceFocus, content_terms, coverage


def test_content_terms_drop_question_words_and_bare_numbers() -> None:
    terms = content_terms("How many parties ratified the Doha Amendment in 2013?")
    assert "how" not in terms and "the" not in terms and "2013" not in terms
    assert {"parti", "ratifi", "doha", "amend"} <= set(terms)  # stemmed, as the index analyses English


def test_chinese_coverage_counts_the_question_words_a_sentence_states() -> None:
    question = "实现土地零净退化的主要挑战是什么？"
    assert coverage(content_terms(question), "实现土地零净退化所面临的主要挑战之一是设立基线和指标。") == 1.0
    assert coverage(content_terms(question), "会议编写了一份成果报告。") == 0.0


def test_focus_reads_a_question_number_in_a_chinese_ordinal() -> None:
    focus = SentenceFocus("What will SBSTTA 17 examine?")
    assert focus("科学、技术和工艺咨询附属机构第十七次会议将探讨科学和技术需求。")[1] is True
    assert focus("公约缔约方大会第十二次会议将采取措施。")[1] is False


@pytest.mark.slow
def test_an_english_question_meets_chinese_sentences_through_the_dictionary(settings) -> None:
    from rag.engine import make_lexicon

    lexicon: BilingualLexicon = make_lexicon(settings)
    focus = SentenceFocus("Progress on overfishing of marine fish", lexicon)
    fishing, _ = focus("一些地区的总体海洋鱼类捕获量大幅下降，不过，过度捕捞仍在许多地区发生。")
    lead, _ = focus("这些目标主要旨在通过国家战略和行动计划得到执行，执行情况概述如下。")
    assert fishing > lead
    # without a dictionary an English question states nothing of a Chinese sentence
    assert SentenceFocus("Progress on overfishing of marine fish")("过度捕捞仍在许多地区发生。")[0] == 0.0


@pytest.mark.slow
def test_a_chinese_question_meets_english_sentences_through_the_glosses(settings) -> None:
    from rag.engine import make_lexicon

    focus = SentenceFocus("诺曼在本赛季拦截了多少次传球？", make_lexicon(settings))
    intercepted, _ = focus("Cornerback Josh Norman intercepted four passes this season.")
    other, _ = focus("The Broncos finished the regular season with a 12-4 record.")
    assert intercepted > other  # 拦截 -> intercept, 传球 -> pass
