"""What a question specifically asks: answer type, quantities, numbers and names (rag.question_focus)."""

from __future__ import annotations

import pytest

from rag.question_focus import (
    answer_type,
    asked_measure,
    covered_share,
    has_answer_of_type,
    number_values,
    specific_names,
    states_measure,
)


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


@pytest.mark.parametrize(
    ("question", "measure"),
    [
        ("首次全球土壤周活动有多少人参加？", "zh:人"),
        ("2013年土地维持生命奖共收到多少份提名？", "zh:份"),
        ("绿色气候基金最初的资本规模是多少？", "money"),
        ("目前全球陆地实际已有多大比例被划为保护区？", "share"),
        ("What was the initial capitalization of the Green Climate Fund?", "money"),
        ("What percentage of species is threatened?", "share"),
        ("How many scientists attended?", "en:scientists"),
        ("What is the Green Climate Fund?", None),
        ("加拿大为什么退出《京都议定书》？", None),
    ],
)
def test_asked_measure(question: str, measure: str | None) -> None:
    assert asked_measure(question) == measure


def test_states_measure_needs_a_quantity_of_the_asked_kind() -> None:
    assert states_measure("zh:人", "有 4 300 名政府代表、3 900 名观察员出席")  # 人 and 名 both count people
    assert not states_measure("zh:人", "2012年11月18日至22日在柏林举办了首次全球土壤周活动")
    assert states_measure("money", "印度政府初步认捐 5 000 万美元。")
    assert not states_measure("money", "缔约方大会决定启动绿色气候基金的初始资本化进程。")
    assert states_measure("share", "保护 17%陆地的目标可以实现。")
    assert states_measure("en:scientists", "还有 189 名科学家参加了第二次科学会议", ["科学家"])
    assert states_measure("en:scientists", "Some 189 scientists attended the session.")
    assert not states_measure("en:scientists", "Scientists attended the session in 2013.")


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
