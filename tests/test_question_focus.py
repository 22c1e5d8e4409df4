"""What a question specifically asks: answer type, numbers and names (rag.question_focus)."""

from __future__ import annotations

import pytest

from rag.question_focus import answer_type, covered_share, has_answer_of_type, number_values, specific_names


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("第十九届缔约方大会在哪个城市举行？", "place"),
        ("Where was the nineteenth session held?", "place"),
        ("多哈会议高级别部分由谁宣布开幕？", "person"),
        ("Who opened the high-level segment?", "person"),
        ("京都议定书第二承诺期何时结束？", "time"),
        ("When does the second commitment period end?", "time"),
        ("多哈会议有多少名政府代表参加？", "number"),
        ("How many scientists attended the conference?", "number"),
        ("加拿大为什么退出《京都议定书》？", None),
        ("Why did Canada withdraw?", None),
        ("哪几个海湾阿拉伯国家作出了保证？", None),  # which ones, not how many
        ("首届全球土壤周在哪几个城市举行？", "place"),
    ],
)
def test_answer_type_in_both_languages(question: str, kind: str | None) -> None:
    assert answer_type(question) == kind


def test_a_place_question_needs_a_place_the_question_does_not_name() -> None:
    question = "第十九届缔约方大会在哪个城市举行？"
    assert not has_answer_of_type("place", "缔约方大会应在其第十九届会议上为绿色气候基金提供初步指导。", question)
    assert has_answer_of_type("place", "第十九届会议于2013年11月在华沙举行。", question)
    assert not has_answer_of_type("place", "It will be held in the city.", "Where is it held?")
    assert has_answer_of_type("place", "The session was held in Warsaw in 2013.", "Where was the session held?")


def test_a_day_question_needs_a_day_not_just_a_year() -> None:
    question = "秘书长计划在2014年召开的气候峰会将在哪一天举行？"
    assert not has_answer_of_type("time", "宣布计划在2014年召集世界各国领导人开会。", question)
    assert has_answer_of_type("time", "峰会于2014年9月23日举行。", question)
    assert has_answer_of_type("time", "The period ends on 31 December 2020.", "When does the period end?")
    assert not has_answer_of_type("time", "The period is under review.", "When does the period end?")


def test_number_values_read_ordinals_and_chinese_numerals() -> None:
    assert "19" in number_values("第十九届缔约方大会")
    assert "19" in number_values("the 19th session") and "19" in number_values("the nineteenth session")
    assert "4300" in number_values("有 4 300 名政府代表")
    assert "18" in number_values("第十八届会议") and "19" not in number_values("第十八届会议")


def test_specific_names_and_their_coverage() -> None:
    names = specific_names("《名古屋议定书》最终在哪一天正式生效？")
    assert "名古屋议定书" in names
    assert "Green Climate Fund" in specific_names("What was the initial capitalization of the Green Climate Fund?")
    assert covered_share([], []) == 1.0 and covered_share(["19"], {"18"}) == 0.0


def test_answer_types_in_forms_the_tagger_misses() -> None:
    assert has_answer_of_type("time", "约瑟夫·普利斯特里于1774发现了氧气。", "约瑟夫·普利斯特里在哪一年发现氧气?")
    assert not has_answer_of_type("time", "第 67/210 号决议邀请秘书处报告。", "公约是哪一年开放签署的？")
    assert has_answer_of_type("person", "此前的纪录保持者是约翰·埃尔维。", "谁曾是年龄最大的四分卫记录保持者？")
