"""Answer-type matching: questions that ask for a number prefer passages that state one."""

from __future__ import annotations

import dataclasses

import pytest

from rag.answer_type import expects_number, has_number


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("京都第二承诺期起止时间", True),
        ("多哈会议有多少名政府代表参加？", True),
        ("第二次科学会议是哪一年举行的？", True),
        ("When does the second commitment period end?", True),
        ("How many decisions did the COP adopt?", True),
        ("What year was the Decade declared?", True),
        ("名古屋议定书在什么条件下生效？", False),
        ("Who chairs the Green Climate Fund board?", False),
        ("Why is land degradation a global challenge?", False),
    ],
)
def test_expects_number(question: str, expected: bool) -> None:
    assert expects_number(question) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("于2013年1月1日开始", True),
        ("有 4 300 名政府代表", True),
        ("为期五年", True),
        ("设立了三个工作组", True),
        ("一些国家采取了统一行动", False),
        ("第十八届会议", False),  # an ordinal names a meeting, it answers no "how many"
        ("第 67/211 号决议", False),
        ("第1/CP.18号决定", False),
        ("通过了 16 项决定", True),
        ("five years", True),
        ("敦促所有缔约方批准第二承诺期；", False),
        ("urges all parties to ratify", False),
    ],
)
def test_has_number(text: str, expected: bool) -> None:
    assert has_number(text) is expected


@pytest.mark.slow
def test_a_date_question_raises_passages_that_state_a_date(retriever) -> None:
    question = "京都议定书第二承诺期的起止时间是什么？"
    bonus = retriever.fusion.answer_type_bonus
    assert bonus > 0
    plain = type(retriever)(retriever.index, retriever.encoder, fusion=dataclasses.replace(retriever.fusion, answer_type_bonus=0.0))
    with_type = {h.unit.id: h.score for h in retriever.search(question, k=10).hits}
    without = {h.unit.id: h.score for h in plain.search(question, k=10).hits}
    p26 = "000_75fc5355e1129b16/26"  # "于2013年1月1日开始，2020年12月31日结束"
    p33c = "000_75fc5355e1129b16/33/c"  # "敦促…批准京都议定书第二承诺期" (no date)
    assert with_type[p26] - without[p26] == pytest.approx(bonus)
    assert with_type[p33c] == pytest.approx(without[p33c])
    unchanged = {h.unit.id: h.score for h in retriever.search("名古屋议定书在什么条件下生效？", k=5).hits}
    assert unchanged == {h.unit.id: h.score for h in plain.search("名古屋议定书在什么条件下生效？", k=5).hits}


@pytest.mark.slow
def test_a_quantity_question_raises_the_paragraph_stating_that_quantity(retriever) -> None:
    """"多少份" wants "137 份申请" (para. 50), not the "3 名获奖者" of para. 47, though both state a number."""
    question = "2013年土地维持生命奖共收到多少份参评材料？"
    bonus = retriever.fusion.answer_type_bonus
    plain = type(retriever)(retriever.index, retriever.encoder, fusion=dataclasses.replace(retriever.fusion, answer_type_bonus=0.0))
    with_type = {h.unit.id: h.score for h in retriever.search(question, k=10).hits}
    without = {h.unit.id: h.score for h in plain.search(question, k=10).hits}
    p50, p47 = "000_75fc5355e1129b16/50", "000_75fc5355e1129b16/47"
    assert with_type[p50] - without[p50] == pytest.approx(bonus)
    assert with_type[p47] == pytest.approx(without[p47])
    assert next(iter(with_type)) == p50
