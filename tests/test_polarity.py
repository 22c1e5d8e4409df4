"""A sentence that says the opposite of the question about whom it concerns (rag.polarity)."""

from __future__ import annotations

import pytest

from rag.polarity import Polarity

# para. 17 (c) and para. 19 of the seed (A/68/…): the same words, for the other group of countries
NOT_LDC = "考虑如何通过特别气候变化基金, 使不是最不发达国家缔约方的有关发展中国家缔约方能够开展国家适应计划进程的筹备活动。"
LDC = "缔约方大会向全环基金提供了指导，使最不发达国家缔约方能够开展制订国家适应计划的活动，包括通过最不发达国家基金提供资金。"


def test_a_question_that_negates_a_group_is_contradicted_by_a_sentence_about_that_group() -> None:
    polarity = Polarity("对于不属于最不发达国家的发展中国家，缔约方大会希望全环基金借助哪个基金支持其国家适应计划的前期准备？")
    assert polarity.contradicts(LDC)
    assert not polarity.contradicts(NOT_LDC)


def test_a_sentence_that_negates_what_the_question_affirms_contradicts_it() -> None:
    polarity = Polarity("最不发达国家如何获得编制国家适应计划的资金？")
    assert polarity.contradicts(NOT_LDC)
    assert not polarity.contradicts(LDC)


def test_no_negation_no_contradiction_and_africa_is_not_a_negation() -> None:
    assert not Polarity("全环基金为哪些活动提供资金？").contradicts(LDC)
    # 非洲 (Africa) and 非常 (very) begin with 非 but negate nothing
    assert not Polarity("非洲国家的干旱防范计划有哪些？").contradicts("亚洲国家的干旱防范计划已经通过。")
    assert not Polarity("亚洲国家的干旱防范计划有哪些？").contradicts("非洲国家的干旱防范计划非常重要。")


def test_english_non_and_other_than() -> None:
    polarity = Polarity("What support goes to non-Annex I Parties for their reports?")
    assert polarity.contradicts("Annex I Parties shall submit their reports annually.")
    assert not polarity.contradicts("Support was given to non-Annex I Parties for their reports.")
    other = Polarity("How are developing countries other than least developed countries supported?")
    assert other.contradicts("Least developed countries are supported through the LDC Fund.")
    # a passive verb is not an addressee: "was not adopted" is left alone
    assert not Polarity("When was the resolution adopted?").contradicts("The amendment was not adopted at that session.")
    # one word is too little to tell addressees apart: non-State actors, non-compliance
    assert not Polarity("How do non-State actors take part?").contradicts("Each State shall report.")
    assert not Polarity("What does the compliance committee do?").contradicts("It considers non-compliance with the Protocol.")


@pytest.mark.parametrize(
    "question",
    [
        "How are developing countries other than the least developed countries supported?",
        "对于不属于《巴黎协定执行细则》所列缔约方的国家有何安排？",
        "不是最不发达国家缔约方的发展中国家缔约方如何获得资金？",
        "What support goes to non-Annex I Parties for their reports?",
    ],
)
def test_a_question_never_contradicts_its_own_wording(question: str) -> None:
    assert not Polarity(question).contradicts(question)


def test_unless_ngos_and_a_sentence_naming_both_groups_are_no_contradiction() -> None:
    assert not Polarity("缔约方大会通过了什么决定？").contradicts("除非缔约方大会另有决定，本规则适用。")  # 除非: unless
    assert not Polarity("非政府组织如何参与？").contradicts("各国政府组织了磋商。")
    assert not Polarity("政府组织如何参与？").contradicts("非政府组织参与了磋商。")  # 非政府组织 negates no 政府组织
    both = "附件一缔约方和非附件一缔约方都应提交国家信息通报。"
    assert not Polarity("附件一缔约方应提交什么？").contradicts(both)
    assert not Polarity("非附件一缔约方应提交什么？").contradicts(both)


@pytest.mark.slow
def test_an_english_question_is_read_in_chinese_sentences_through_the_dictionary(settings) -> None:
    from rag.engine import make_lexicon

    lexicon = make_lexicon(settings)
    polarity = Polarity("How will least developed countries get money to prepare national adaptation plans?", lexicon)
    assert polarity.contradicts(NOT_LDC)
    assert not polarity.contradicts(LDC)
    # odd spacing is read as the dictionary reads it: "are  not" is "are not"
    spaced = Polarity("Which developing countries are  not least developed countries?", lexicon)
    assert spaced.contradicts("最不发达国家缔约方将获得资金。")
    non_annex = Polarity("What support goes to non-Annex I Parties?", lexicon)
    assert non_annex.contradicts("附件一缔约方应提交年度清单。")
    assert not non_annex.contradicts("为非附件一缔约方编写此类报告提供技术支助资金;")


@pytest.mark.slow
def test_the_seed_question_about_countries_that_are_not_least_developed_cites_para_17_c(answerer) -> None:
    answer = answerer.ask("对于不属于最不发达国家的发展中国家，缔约方大会希望全环基金借助哪个基金支持其国家适应计划的前期准备？").answer
    assert not answer.refused
    first = answer.citations[0]
    assert (first.para, first.sub) == (17, "c")  # para. 19 (least developed countries) was cited before
    assert "特别气候变化基金" in answer.answer


@pytest.mark.slow
def test_a_top_hit_that_only_contradicts_the_question_loses_its_top_rank(answerer) -> None:
    """Para. 17 (c) (not least developed countries) is the top fused hit: it shares every word of the question."""
    answer = answerer.ask("How will least developed countries be funded for national adaptation plans?").answer
    assert not answer.refused
    assert answer.citations[0].para == 19


JOINED = "What does the report ask of parties that have not yet joined the Cartagena Protocol?"


@pytest.mark.parametrize(
    ("question", "sentence", "contradicts"),
    [
        # seed en-075: para. 83 reports instruments of accession deposited; 90 (f) calls on those that have not acted
        (JOINED, "截至 2013 年 6 月 21 日，《卡塔赫纳议定书》的 14 个缔约方交存了其批准、核准，接受或加入《补充议定书》的文书。", True),
        (JOINED, "吁请尚未批准或加入《卡塔赫纳生物安全议定书》的所有公约缔约方批准或加入这两项议定书。", False),
        # a call to act reports nothing taken
        (JOINED, "敦促尚未这样做的缔约方批准或加入议定书。", False),
        (JOINED, "吁请各国加入议定书。", False),
        (JOINED, "未来将有更多国家加入。", False),
        ("Which parties have not yet ratified the amendment?", "Urges parties that have not yet done so to ratify the amendment.", False),
        ("Which parties have not yet ratified the amendment?", "Parties should consider ratification of the amendment.", False),
        # a list of actions not taken, in either language
        ("Which parties have not yet ratified the amendment?", "States that have not yet signed, ratified or acceded to it were urged to.", False),
        ("哪些缔约方尚未接受或加入？", "加入了议定书的缔约方有 10 个。", True),
        # completed forms
        ("Which parties have not yet ratified the amendment?", "Twenty parties ratified the amendment.", True),
        ("Which parties haven't ratified the amendment?", "Twenty parties have ratified the amendment.", True),
        ("Which parties have not yet acceded to the Protocol?", "Ten States deposited their instruments of accession.", True),
        ("Which parties have not yet acceded to the Protocol?", "Ten States joined the Protocol.", True),
        ("哪些缔约方尚未批准《名古屋议定书》？", "已有 20 个缔约方批准了《名古屋议定书》。", True),
        # no action not taken in the question, or no action in the sentence
        ("Which parties ratified the amendment?", "Twenty parties ratified the amendment.", False),
        ("Which States have not signed the treaty?", "The treaty is significant.", False),
    ],
)
def test_a_treaty_action_not_yet_taken_is_contradicted_only_by_a_report_that_it_was(question: str, sentence: str, contradicts: bool) -> None:
    assert Polarity(question).contradicts(sentence) is contradicts
