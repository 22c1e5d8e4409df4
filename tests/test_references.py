"""The paragraph-reference parser: every form the issue lists, in both languages (no model needed)."""

from __future__ import annotations

import pytest

from rag.references import UnitRef, chinese_number, parse_reference


@pytest.mark.parametrize(
    ("question", "refs", "pure"),
    [
        ("第26段讲了什么？", [(26, None)], True),
        ("第 26 段", [(26, None)], True),
        ("第二十六段说了什么", [(26, None)], True),
        ("第3(a)段", [(3, "a")], True),
        ("第3（a）段的内容", [(3, "a")], True),
        ("第85段目标11", [(85, "target 11")], True),
        ("第85段，目标11", [(85, "target 11")], True),
        ("第90段(d)项", [(90, "d")], True),
        ("第81和82段", [(81, None), (82, None)], True),
        ("第81至82段", [(81, None), (82, None)], True),
        ("第81至83段", [(81, None), (82, None), (83, None)], True),
        ("para. 26", [(26, None)], True),
        ("What does paragraph 26 say?", [(26, None)], True),
        ("paras 81–82", [(81, None), (82, None)], True),
        ("paragraphs 81 and 82", [(81, None), (82, None)], True),
        ("para 3 (a)", [(3, "a")], True),
        ("paragraph 3(a)", [(3, "a")], True),
        ("subparagraph (d) of paragraph 90", [(90, "d")], True),
        ("target 11 of paragraph 85", [(85, "target 11")], True),
        ("What is in paragraph 85, target 11?", [(85, "target 11")], True),
        ("第26段关于第二承诺期说了什么", [(26, None)], False),
        ("What does paragraph 26 say about the second commitment period?", [(26, None)], False),
    ],
)
def test_references_are_recognised(question: str, refs: list[tuple[int, str | None]], pure: bool) -> None:
    parsed = parse_reference(question)
    assert parsed is not None
    assert parsed.refs == tuple(UnitRef(p, s) for p, s in refs)
    assert parsed.pure is pure


@pytest.mark.parametrize(
    "question",
    ["爱知目标11的进展", "第六十八届会议", "第 1/CP.17 号决定是什么", "What is the second commitment period?", "Who prepared the paragraph?"],
)
def test_questions_without_a_paragraph_reference(question: str) -> None:
    assert parse_reference(question) is None


def test_document_symbol_and_title_are_taken_out() -> None:
    parsed = parse_reference("What does para. 5 of A/68/150 say?")
    assert parsed is not None and parsed.symbol == "A/68/150" and parsed.pure
    title = "Implementation of United Nations environmental conventions"
    parsed = parse_reference(f"What does paragraph 5 of {title} say?", [title])
    assert parsed is not None and parsed.pure


def test_chinese_numbers() -> None:
    assert [chinese_number(t) for t in ("26", "十", "十二", "二十六", "九十", "一百零二", "两百")] == [26, 10, 12, 26, 90, 102, 200]
    assert chinese_number("第") is None


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        ("What does paragraph 85 say about overfishing?", "overfishing?"),
        ("Tell me what para. 26 says regarding the second commitment period", "second commitment period"),
        ("第26段关于第二承诺期说了什么", "关于第二承诺期说了什么"),  # Chinese: its question words are left to the analyser
    ],
)
def test_what_is_asked_beyond_the_reference(question: str, asked: str) -> None:
    parsed = parse_reference(question)
    assert parsed is not None and not parsed.pure
    assert parsed.asked == asked
