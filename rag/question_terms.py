"""The question's own words, and how many of them a piece of evidence states.

Two consumers ask the same thing: the refusal verifier (does the evidence cover what the
question asks?) and the answer composer (which sentence of the cited paragraph should be
quoted?). A dense sentence vector ranks the sentence that is *about* the paragraph's topic
first -- often its lead-in ("执行情况概述如下") -- while the answer sits in the sentence that
repeats the question's specific words (its fisheries, its "SBSTTA 17"). Content words are the
analysed terms (jieba for Chinese, stemmed English) minus question words; an English question
over Chinese text is matched through the English→Chinese dictionary, one concept at a time, and a
Chinese question over English text through its words' CC-CEDICT glosses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from typing import Protocol

from rag.analysis import analyze
from rag.crosslingual import BilingualLexicon, Concept
from rag.question_focus import number_values

__all__ = [
    "QUESTION_WORDS",
    "Focus",
    "SentenceFocus",
    "content_terms",
    "coverage",
    "gloss_stems",
    "glossed_coverage",
    "question_concepts",
    "translated_coverage",
]

QUESTION_WORDS = frozenset(
    "什么 哪个 哪些 哪里 哪儿 哪一 多少 几个 为什么 怎么 怎样 如何 是否 是不是 谁 何时 何地 哪年 哪一年 时候 情况 方面 有关 关于 进行 "
    "what which who whom whose when where why how many much does did do is are was were the of in on at to for by "
    "with and or from as that this these those be been has have had an a its it their they there any so far".split()
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_HAN = re.compile(r"[\u3400-\u9fff]")

TextTerms = Callable[[str], Collection[str]]


def content_terms(question: str) -> list[str]:
    """The question's analysed terms without question words, bare numbers and single Han characters."""
    terms = []
    for term in dict.fromkeys(analyze(question)):
        if term in QUESTION_WORDS or _NUMBER.fullmatch(term):
            continue
        if len(term) == 1 and "\u3400" <= term <= "\u9fff":
            continue
        terms.append(term)
    return terms


def coverage(terms: Sequence[str], text: str, text_terms: TextTerms | None = None) -> float:
    """Share of ``terms`` in ``text`` (as analysed terms, or as Chinese substrings); 1.0 when there are none."""
    if not terms:
        return 1.0
    stems = set(analyze(text)) if text_terms is None else text_terms(text)
    return sum(1 for t in terms if t in stems or (not t.isascii() and t in text)) / len(terms)


def question_concepts(question: str, lexicon: BilingualLexicon) -> list[Concept]:
    """An English question's dictionary concepts, question words and verbatim symbols left out."""
    return [c for c in lexicon.translate(question) if not c.verbatim and c.source.lower() not in QUESTION_WORDS]


def translated_coverage(concepts: Sequence[Concept], text: str) -> float:
    """An English question over Chinese text: a concept is covered when one of its translations appears."""
    if not concepts:
        return 1.0
    return sum(1 for c in concepts if any(t in text for t, _ in c.translations)) / len(concepts)


def gloss_stems(words: Sequence[str], lexicon: BilingualLexicon) -> list[set[str]]:
    """A Chinese question's words as the stemmed English words of their CC-CEDICT glosses, one set per
    word that has a gloss (the question over English text)."""
    return [set(analyze(" ".join(e for e, _ in c.translations))) for c in lexicon.glossed(words)]


def glossed_coverage(glosses: Sequence[set[str]], text: str, text_terms: TextTerms | None = None) -> float:
    """A Chinese question over English text: share of its glossed words with a gloss word in ``text``
    (1.0 when none of its words has a gloss: nothing to measure)."""
    if not glosses:
        return 1.0
    stems = set(analyze(text)) if text_terms is None else text_terms(text)
    return sum(1 for g in glosses if g & stems) / len(glosses)


class Focus(Protocol):
    """How much of the question a sentence states (:class:`SentenceFocus`)."""

    def __call__(self, sentence: str) -> tuple[float, bool]:
        """(share of the question's content words it states, does it repeat a number of the question)."""

    def size(self, sentence: str) -> int:
        """How many of the question's words that share is of."""


class SentenceFocus:
    """How much of one question a sentence states: its content-word coverage and whether it
    repeats one of the question's numbers (第十七次 for "SBSTTA 17", 2012 for "in 2012").

    Built once per question; an English question meets Chinese sentences through ``lexicon``, and a
    Chinese question English ones through its words' CC-CEDICT glosses (None: no dictionary, the
    question's own terms only). ``text_terms`` remembers analysed sentences.
    """

    def __init__(self, question: str, lexicon: BilingualLexicon | None = None, text_terms: TextTerms | None = None) -> None:
        self._terms = content_terms(question)
        self._text_terms = text_terms
        self._numbers = number_values(question)
        self._question = question
        self._lexicon = lexicon
        self._chinese = bool(_HAN.search(question))
        self._concepts: list[Concept] | None = None  # an English question translated, on the first Chinese sentence
        self._glosses: list[set[str]] | None = None  # a Chinese question's words' gloss stems, on the first English sentence

    def __call__(self, sentence: str) -> tuple[float, bool]:
        """(share of the question's content words the sentence states, does it repeat a question number)."""
        pairing = self._pairing(sentence)
        if pairing == "translated":
            concepts = self._english_concepts()
            covered = translated_coverage(concepts, sentence) if concepts else 0.0
        elif pairing == "glossed":
            glosses = self._chinese_glosses()
            covered = glossed_coverage(glosses, sentence, self._text_terms) if glosses else 0.0
        else:
            covered = coverage(self._terms, sentence, self._text_terms) if self._terms else 0.0
        return covered, bool(self._numbers and self._numbers & number_values(sentence))

    def size(self, sentence: str) -> int:
        """How many of the question's words a sentence in ``sentence``'s language is measured on (the
        denominator of the share ``self(sentence)`` returns)."""
        pairing = self._pairing(sentence)
        if pairing == "translated":
            return len(self._english_concepts())
        if pairing == "glossed":
            return len(self._chinese_glosses())
        return len(self._terms)

    def _pairing(self, sentence: str) -> str:
        """How the question meets ``sentence``: "translated" (an English question, Chinese text, through the
        dictionary), "glossed" (a Chinese question, English text, through CC-CEDICT glosses) or "own" words."""
        if self._lexicon is not None and self._chinese != bool(_HAN.search(sentence)):
            return "glossed" if self._chinese else "translated"
        return "own"

    def _english_concepts(self) -> list[Concept]:
        if self._concepts is None:  # translated once, on the first Chinese sentence
            assert self._lexicon is not None
            self._concepts = question_concepts(self._question, self._lexicon)
        return self._concepts

    def _chinese_glosses(self) -> list[set[str]]:
        if self._glosses is None:  # glossed once, on the first English sentence
            assert self._lexicon is not None
            self._glosses = gloss_stems(self._terms, self._lexicon)
        return self._glosses
