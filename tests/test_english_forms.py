"""English word forms for the dictionary look-up: irregular pasts, British spellings, ordinals."""

from __future__ import annotations

import pytest

from rag.english_forms import chinese_numeral, ordinal_translations, ordinal_value, session_translations, spelling_variants


@pytest.mark.parametrize(
    ("word", "expected"),
    [("took", "take"), ("held", "hold"), ("characterise", "characterize"), ("organisations", "organizations"),
     ("analysed", "analyzed"), ("labour", "labor"), ("programmes", "programs"), ("centre", "center"),
     ("defence", "defense"), ("catalogue", "catalog"), ("travelled", "traveled")],
)
def test_spelling_variants_reach_the_dictionary_form(word: str, expected: str) -> None:
    assert expected in spelling_variants(word)


def test_words_without_a_variant_have_none() -> None:
    assert spelling_variants("climate") == []
    assert spelling_variants("four") == [] and spelling_variants("hour") == []
    assert "left" not in spelling_variants("left")


@pytest.mark.parametrize(("n", "cn"), [(1, "一"), (10, "十"), (11, "十一"), (19, "十九"), (20, "二十"), (21, "二十一"), (68, "六十八"), (100, "一百"), (105, "一百零五"), (110, "一百一十")])
def test_chinese_numerals(n: int, cn: str) -> None:
    assert chinese_numeral(n) == cn


@pytest.mark.parametrize(("token", "value"), [("19th", 19), ("1st", 1), ("22nd", 22), ("3rd", 3), ("third", 3), ("Twentieth", 20), ("twenty-first", 21), ("sixty-eighth", 68), ("2012", None), ("thirds", None), ("0th", None)])
def test_ordinal_value(token: str, value: int | None) -> None:
    assert ordinal_value(token) == value


def test_ordinal_and_session_translations() -> None:
    assert [t for t, _ in ordinal_translations(19)][:3] == ["第十九届", "第十九次", "第十九"]
    assert [t for t, _ in session_translations(16)] == ["第十六届", "第十六次"]
    assert all(w < 1.0 for _, w in session_translations(16))  # a bare number is only possibly a session
    assert session_translations(2012) == ()
