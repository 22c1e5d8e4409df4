"""How much of a question's specific wording a piece of evidence holds, weighted by rarity.

Two sentences can be equally close to a question in embedding space while only one of them
contains what the question is specifically about: "第十九届", "Nagoya", "常设委员会". The
dense cosine is blurry about such words, above all across languages (an English question
over Chinese text: cosines of the right and a wrong paragraph often lie within 0.04). This
module scores a text by the share of the question's content words it contains, each weighted
by its BM25 idf in the index (rare words count most), and, for an English question over
Chinese text, by the share of its dictionary concepts (:mod:`rag.crosslingual`) found through
one of their translations. The answerer adds a small multiple of it to each candidate
sentence's cosine when choosing the first citation (:func:`rag.answer.candidate_sentences`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence

from rag.crosslingual import BilingualLexicon, Concept
from rag.lexical import LexicalIndex, analyze

__all__ = ["QUESTION_WORDS", "QuestionTerms", "concepts_of", "content_terms"]

QUESTION_WORDS = frozenset(
    "什么 哪个 哪些 哪里 哪儿 哪一 多少 几个 为什么 怎么 怎样 如何 是否 是不是 谁 何时 何地 哪年 哪一年 时候 情况 方面 有关 关于 进行 "
    "what which who whom whose when where why how many much does did do is are was were the of in on at to for by "
    "with and or from as that this these those be been has have had an a its it their they there any so far".split()
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_HAN = re.compile(r"[\u3400-\u9fff]")
_TRANSLATIONS_CHECKED = 8


def content_terms(question: str) -> list[str]:
    """The question's analysed terms without question words, numbers and single Han characters."""
    terms = []
    for term in dict.fromkeys(analyze(question)):
        if term in QUESTION_WORDS or _NUMBER.fullmatch(term):
            continue
        if len(term) == 1 and "\u3400" <= term <= "\u9fff":
            continue
        terms.append(term)
    return terms


def concepts_of(question: str, lexicon: BilingualLexicon) -> list[Concept]:
    """An English question's dictionary concepts, without numbers, symbols and question words."""
    return [c for c in lexicon.translate(question) if not c.verbatim and c.source.lower() not in QUESTION_WORDS]


class QuestionTerms:
    """A question's content words (or, over Chinese text, its English concepts), each with a weight
    in (0, 1]: its specificity in the index (a word the index lacks weighs 1).

    ``lexicon``: for an English question, the English→Chinese dictionary (None: no Chinese evidence
    expected). ``text_terms``: the analysed terms of a text (default: analysed on each call; the
    answerer passes a :class:`rag.lexical.TermSets`, which remembers recurring sentences).
    """

    def __init__(
        self,
        question: str,
        lexical: LexicalIndex | None,
        lexicon: BilingualLexicon | None = None,
        text_terms: Callable[[str], Collection[str]] | None = None,
    ) -> None:
        self._lexical = lexical
        self._text_terms = text_terms or (lambda text: set(analyze(text)))
        self._terms = [(self._weight(t), t) for t in content_terms(question)]
        self._translating = lexicon is not None and not _HAN.search(question)
        self._concepts: list[tuple[float, tuple[str, ...]]] = []
        if self._translating:
            assert lexicon is not None
            for concept in concepts_of(question, lexicon):
                if concept.translations:  # an untranslatable word says nothing about Chinese text
                    translations = tuple(t for t, _ in concept.translations[:_TRANSLATIONS_CHECKED])
                    self._concepts.append((self._concept_weight(translations), translations))

    def _weight(self, term: str) -> float:
        if self._lexical is None:
            return 1.0
        specificity = self._lexical.specificity(term)
        return 1.0 if specificity is None else specificity

    def _concept_weight(self, translations: Sequence[str]) -> float:
        """A concept is as specific as its most common indexed translation (1 when none is indexed)."""
        if self._lexical is None:
            return 1.0
        known = [s for s in (self._lexical.specificity(t) for t in translations) if s is not None]
        return min(known) if known else 1.0

    def coverage(self, text: str) -> float:
        """Weighted share of the question's terms (concepts, for Chinese text and an English question) in ``text``."""
        if self._translating and _HAN.search(text):
            total = sum(w for w, _ in self._concepts)
            if not total:
                return 0.0
            return sum(w for w, translations in self._concepts if any(t in text for t in translations)) / total
        total = sum(w for w, _ in self._terms)
        if not total:
            return 0.0
        stems: Collection[str] | None = None
        covered = 0.0
        for weight, term in self._terms:
            if not term.isascii() and term in text:
                covered += weight
                continue
            if stems is None:
                stems = self._text_terms(text)
            if term in stems:
                covered += weight
        return covered / total
