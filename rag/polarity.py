"""Does a sentence say the opposite of the question about whom it concerns?

UN texts divide their addressees by negation: Annex I parties and non-Annex I parties (非附件一缔约方),
least developed countries and developing countries that are not (不是最不发达国家缔约方的发展中国家
缔约方). The two sentences share every content word, so a dense vector and word coverage rank them
alike, and a question about one is answered from the other. Here a sentence *contradicts* a question
when a term that one of them only negates ("non-", "are not", "other than", 非, 不是, 不属于,
未列入 …) appears in the other only affirmatively -- in the other's language through the dictionary
for an English question over Chinese text. A Chinese question over English text is not checked (its
negations would need glossing). Of negated verbs only treaty actions are read (:mod:`rag.treaty_actions`:
a question on parties that "have not yet ratified" is contradicted by a sentence reporting that parties
have); otherwise only the term right after the negation is read, which is where the addressee stands
("was not adopted" is not read).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rag.cedict import HAN_RE, norm_words
from rag.crosslingual import BilingualLexicon
from rag.question_terms import QUESTION_WORDS, question_concepts
from rag.treaty_actions import reports_taken, undone_actions

__all__ = ["Polarity"]

# a Chinese negation right before a term; 《…》 may stand between (未列入《公约》附件一的缔约方)
# 非 but not 除非 (unless), 无非, 莫非, 是非, 非洲, 非常, 非法, 非政府 (non-governmental: 政府组织 is "organised by governments")
_ZH_MARKER = r"(?:不属于|不是|并非|不包括|未列入|(?<![除无莫是])非(?!洲|裔|常|法|凡|得|政府))(?:《[^》]{1,8}》)?"
_ZH_ANY_NEGATION = re.compile(_ZH_MARKER)
_ZH_TERM = re.compile(_ZH_MARKER + r"([\u3400-\u9fff]{2,12})")
_ZH_TERM_END = re.compile(r"的|以外|之外|和|与|或|及")
# "not" only where it states what someone is ("countries that are not least developed"), not a passive verb
_EN_MARKER = r"(?:\bnon-|\b(?:are|is) not (?:an? |the )?|\bother than (?:the )?)"
_EN_ANY_NEGATION = re.compile(_EN_MARKER, re.IGNORECASE)
_EN_TERM = re.compile(_EN_MARKER + r"([A-Za-z][\w-]*(?: [\w-]+){0,3})", re.IGNORECASE)
_ZH_MIN = 4  # characters of a Chinese term, words of an English one: shorter ones (缔约方, "State") are too common
_EN_MIN = 2  # to tell addressees apart
_RENDERING_MIN = 3  # characters of a dictionary rendering of an English term (附件一 for "Annex I")
_WINDOW = 32  # characters before a term where its negation may start: the longest marker, 不属于《…》 or "other than the "


def _negated_at(text: str, start: int) -> bool:
    """Is the term at ``text[start:]`` governed by a negation ending right before it? (Matched in the whole
    text, so that 非's exclusions see what follows it: 非政府组织 negates no 政府组织.)"""
    since = max(0, start - _WINDOW)
    return any(m.end() == start for pattern in (_ZH_ANY_NEGATION, _EN_ANY_NEGATION) for m in pattern.finditer(text, since, start + 4))


def _occurrences(text: str, term: str) -> list[bool]:
    """The polarity (negated?) of each occurrence of ``term`` in ``text``; English terms as whole words."""
    if HAN_RE.search(term):
        starts = [m.start() for m in re.finditer(re.escape(term), text)]
    else:
        starts = [m.start() for m in re.finditer(r"(?<!\w)" + re.escape(term) + r"(?![\w])", text, re.IGNORECASE)]
    return [_negated_at(text, s) for s in starts]


def _zh_negated_terms(text: str) -> list[str]:
    terms = []
    for match in _ZH_TERM.finditer(text):
        term = _ZH_TERM_END.split(match.group(1))[0]
        if len(term) >= _ZH_MIN:
            terms.append(term)
    return terms


def _en_negated_terms(text: str) -> list[str]:
    terms = []
    for match in _EN_TERM.finditer(text):
        words = [w for w in match.group(1).split() if w.lower() not in QUESTION_WORDS or w[0].isupper()]
        if len(words) >= _EN_MIN:
            terms.append(" ".join(words))
    return terms


def _trimmed(term: str, other: str) -> str | None:
    """The longest head of ``term`` that ``other`` contains (at least a term's minimum), None if none."""
    if HAN_RE.search(term):
        for end in range(len(term), _ZH_MIN - 1, -1):
            if term[:end] in other:
                return term[:end]
        return None
    words = term.split()
    for end in range(len(words), _EN_MIN - 1, -1):
        head = " ".join(words[:end])
        if head.lower() not in QUESTION_WORDS and _occurrences(other, head):
            return head
    return None


def _opposed(polarities: Iterable[bool], negated: bool) -> bool:
    """Every occurrence has the other polarity (and there is one)."""
    found = list(polarities)
    return bool(found) and all(p != negated for p in found)


def _one_sided(term: str, negating: str, affirming: str) -> bool:
    """``negating`` only negates ``term`` (as far as ``affirming`` shares it) and ``affirming`` only affirms it:
    a text naming both groups ("附件一缔约方和非附件一缔约方") contradicts neither."""
    head = _trimmed(term, affirming)
    return head is not None and _opposed(_occurrences(negating, head), False) and _opposed(_occurrences(affirming, head), True)


class Polarity:
    """One question's negated and affirmed terms; ``contradicts(sentence)`` per candidate sentence.

    ``lexicon``: the bilingual dictionary, to read an English question's terms in Chinese sentences
    (None: such sentences are not checked).
    """

    def __init__(self, question: str, lexicon: BilingualLexicon | None = None) -> None:
        self._question = question
        self._chinese = bool(HAN_RE.search(question))
        self._lexicon = lexicon
        self._negated = _zh_negated_terms(question) if self._chinese else _en_negated_terms(question)
        self._undone = undone_actions(question)  # treaty actions the question says were not taken
        self._renderings: list[tuple[tuple[str, ...], bool]] | None = None  # an English question's terms in Chinese
        # as _english_terms reads it ("are  not" with two spaces is "are not")
        self._question_negates = bool(_EN_ANY_NEGATION.search(" ".join(norm_words(question))))

    def contradicts(self, sentence: str) -> bool:
        if self._undone and reports_taken(sentence, self._undone):  # "have not yet joined" over "交存了……加入……的文书"
            return True
        chinese_sentence = bool(HAN_RE.search(sentence))
        if self._chinese != chinese_sentence:
            return not self._chinese and self._lexicon is not None and self._contradicts_in_chinese(sentence)
        for term in self._negated:  # only negated in the question, only affirmed in the sentence
            if _one_sided(term, self._question, sentence):
                return True
        sentence_negated = _zh_negated_terms(sentence) if chinese_sentence else _en_negated_terms(sentence)
        return any(_one_sided(term, sentence, self._question) for term in sentence_negated)

    def _contradicts_in_chinese(self, sentence: str) -> bool:
        """An English question over a Chinese sentence: its dictionary terms, each with its polarity in
        the question ("non-Annex I Parties" is read as a negated "Annex I Parties")."""
        if not self._question_negates and not (_ZH_ANY_NEGATION.search(sentence) or _EN_ANY_NEGATION.search(sentence)):
            return False  # neither side negates anything: no need to translate the question
        if self._renderings is None:
            assert self._lexicon is not None
            self._renderings = list(self._english_terms(self._lexicon))
        for renderings, negated in self._renderings:
            polarities = [p for r in renderings for p in _occurrences(sentence, r)]
            if _opposed(polarities, negated):
                return True
        return False

    def _english_terms(self, lexicon: BilingualLexicon) -> Iterable[tuple[tuple[str, ...], bool]]:
        question = " ".join(norm_words(self._question))  # as the dictionary reads it: its concepts' sources are found
        for concept in question_concepts(self._question, lexicon):
            source = concept.source
            start = question.find(" ".join(norm_words(source)))
            negated = start >= 0 and _negated_at(question, start)
            if source.lower().startswith("non-"):
                source, negated = source[4:], True
                renderings = tuple(t for t, _ in lexicon.lookup(source)[:8])
            else:
                renderings = tuple(t for t, _ in concept.translations[:8])
            renderings = tuple(r for r in renderings if len(r) >= _RENDERING_MIN and not r.startswith("非"))
            if renderings:
                yield renderings, negated
