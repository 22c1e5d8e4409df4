"""Which language a text is in, as far as retrieval cares: Chinese or English.

Fusion weights depend on whether a question and the corpus share a language, so the test
only needs to separate Han script from Latin script; it counts characters rather than
calling a language-id model.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["OFFICIAL_LANGUAGES", "Language", "detect_language"]

Language = Literal["zh", "en"]
OFFICIAL_LANGUAGES = ("zh", "en", "fr", "es", "ru", "ar")  # the UN's six, in the order versions are shown

_HAN_SHARE_FOR_CHINESE = 0.2


def detect_language(text: str) -> Language:
    """"zh" when at least a fifth of the letters are Han characters, else "en"."""
    han = latin = 0
    for ch in text:
        if "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff":
            han += 1
        elif ch.isalpha():
            latin += 1
    if han == 0:
        return "en"
    # a Han character carries about as much as a short Latin word: weight Latin by 1/4
    return "zh" if han / (han + latin / 4) >= _HAN_SHARE_FOR_CHINESE else "en"
