"""Should the answer be given? A small trained verifier over (question, evidence) features.

One cosine threshold cannot tell "on topic and answered" from "on topic but not answered": a
question about the Warsaw conference scores as close to the Doha paragraphs as a question about
Doha does. What differs is whether the evidence covers what the question asks: its content
words, its numbers and names, the type of answer it wants. Scoring answerability of a passage
with such features is the "answer verification" step of selective question answering (Kamath,
Jia & Liang 2020, "Selective Question Answering under Domain Shift", ACL; Rajpurkar et al.
2018, SQuAD 2.0). The model is a logistic regression over a handful of features, trained by
``scripts/train_verifier.py`` on data built automatically (see ``rag/data/verifier.md``) and
stored as a few numbers in ``rag/data/verifier.json`` -- no pickle, no model file to trust.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from rag.answer import QuotedSentence
from rag.crosslingual import BilingualLexicon
from rag.language import Language
from rag.quantities import asked_measure, counted_renderings, states_measure
from rag.question_focus import answer_type, covered_share, has_answer_of_type, number_values, places_and_people, specific_names
from rag.question_terms import (
    QUESTION_WORDS,
    TextTerms,
    content_terms,
    coverage,
    gloss_stems,
    glossed_coverage,
    question_concepts,
    translated_coverage,
)
from rag.retriever import Hit

__all__ = ["FEATURES", "PAIRINGS", "Verifier", "evidence_features", "load_verifier", "pairing_of"]

FEATURES = (
    "best_sentence",  # cosine of the best evidence sentence (after the rank penalty)
    "best_unit",  # dense score of the unit it comes from
    "relative_margin",  # best sentence minus the mean best sentence of the other candidate paragraphs
    "sentence_coverage",  # share of the question's content words found in that sentence
    "unit_coverage",  # ... in its unit (the paragraph or sub-unit, and the paragraph around a sub-unit)
    "number_coverage",  # share of the question's numbers, years and ordinals (第十九届 = 19th) in the unit (1 if none)
    "name_coverage",  # share of its names and quoted terms in the unit, through the dictionary across languages (1 if none)
    "place_missing",  # 1 when a place or person the question names is neither in the unit nor in its section's titles
    # (0 for a Chinese question over English text, and for an English question without the dictionary: not read)
    "type_asked",  # the question asks for a place, a person or body, a time or a number
    "type_match",  # 0 when it does and the best sentence holds no such element beyond the question's own words
    "measure_match",  # 0 when a quantity is asked ("多少人", "how much money") and the unit states none of that kind
    "cross_lingual",  # question and evidence in different languages
)

_HAN = re.compile(r"[\u3400-\u9fff]")


def _names_covered(question: str, text: str, lexicon: BilingualLexicon | None, text_terms: TextTerms | None = None) -> float:
    """Share of the question's names found in ``text``; across languages through the dictionary: an English
    name over Chinese text through its translations, a Chinese name over English text through its CC-CEDICT
    glosses (a name the dictionary cannot render is not counted: transliterations vary)."""
    names = specific_names(question)
    if not names:
        return 1.0
    if lexicon is not None and _HAN.search(question) and not _HAN.search(text):
        return _glossed_names_covered(names, text, lexicon, text_terms)
    if lexicon is None or not _HAN.search(text) or _HAN.search(question):
        lowered = text.lower()
        return sum(1 for n in names if n.lower() in lowered) / len(names)
    covered = counted = 0.0
    for name in names:
        translations = lexicon.lookup(name)
        if translations:
            counted += 1
            covered += any(t in text for t, _ in translations[:8])
            continue
        per_word = [found for found in (lexicon.lookup(w) for w in name.split() if w.lower() not in QUESTION_WORDS) if found]
        if per_word:
            counted += 1
            covered += sum(any(t in text for t, _ in found[:8]) for found in per_word) / len(per_word)
    return covered / counted if counted else 1.0


def _glossed_names_covered(names: Sequence[str], text: str, lexicon: BilingualLexicon, text_terms: TextTerms | None) -> float:
    """A Chinese question's names over English text: a Latin name as written, a Chinese one through its glosses
    (a whole name's if CC-CEDICT has it, else the share of its words')."""
    lowered = text.lower()
    covered = counted = 0.0
    for name in names:
        if not _HAN.search(name):
            counted += 1
            covered += name.lower() in lowered
            continue
        glosses = gloss_stems([name], lexicon) or gloss_stems(content_terms(name), lexicon)  # 《生物多样性公约》: its words
        if glosses:
            counted += 1
            covered += glossed_coverage(glosses, text, text_terms)
    return covered / counted if counted else 1.0


def _place_missing(question: str, text: str, lexicon: BilingualLexicon | None) -> float:
    """1.0 when a place or person the question names (美国 or 美利坚合众国, "New Zealand" through the dictionary)
    is not in ``text``: evidence that does not name the country asked about does not say what it did. An
    English question names none without ``lexicon`` (the answerer passes it for Chinese evidence only)."""
    lowered = text.lower()
    named = places_and_people(question, lexicon.lookup if lexicon is not None else None)
    return float(any(not any(form.lower() in lowered for form in forms) for forms in named))


def evidence_features(
    question: str,
    language: Language,
    candidates: Sequence[QuotedSentence],
    hits: Sequence[Hit],
    parent_text: dict[str, str],
    lexicon: BilingualLexicon | None,
    cross: bool,
    text_terms: TextTerms | None = None,
) -> list[float]:
    """The :data:`FEATURES` of the best candidate sentence (``candidates`` sorted best first).

    ``parent_text``: unit id -> the text of its enclosing paragraph, for sub-units. ``lexicon``:
    the bilingual dictionary, used when the question and the evidence are in different languages.
    ``text_terms``: the analysed terms of an evidence text (default: analysed on each call;
    the answerer passes a :class:`rag.analysis.TermSets`, which remembers recurring paragraphs).
    """
    kind = answer_type(question)
    if not candidates:
        return [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, float(kind is not None), 0.0, 0.0, float(cross)]
    best = candidates[0]
    group = best.unit.parent or best.unit.id
    others: dict[str, float] = {}
    for candidate in candidates[1:]:  # candidates are sorted: the first of each paragraph is its best sentence
        others.setdefault(candidate.unit.parent or candidate.unit.id, candidate.score)
    others.pop(group, None)
    # Relative to the other candidate paragraphs' mean, not to the runner-up alone: a UN report has many
    # paragraphs on one topic, and a close second is no sign that the best one does not answer.
    relative = best.score - (sum(others.values()) / len(others) if others else best.score - 0.1)
    dense = next((h.dense for h in hits if (h.unit.parent or h.unit.id) == group and h.dense is not None), best.score)
    unit_text = best.unit.text + "\n" + parent_text.get(best.unit.id, "")
    translating = cross and language == "en" and lexicon is not None  # an English question, Chinese evidence
    glossing = cross and language == "zh" and lexicon is not None  # a Chinese question, English evidence
    if translating:
        assert lexicon is not None
        concepts = question_concepts(question, lexicon)
        sentence_cov = translated_coverage(concepts, best.text)
        unit_cov = translated_coverage(concepts, unit_text)
    elif glossing:
        assert lexicon is not None
        glosses = gloss_stems(content_terms(question), lexicon)
        sentence_cov = glossed_coverage(glosses, best.text, text_terms)
        unit_cov = glossed_coverage(glosses, unit_text, text_terms)
    else:
        terms = content_terms(question)
        sentence_cov = coverage(terms, best.text, text_terms)
        unit_cov = coverage(terms, unit_text, text_terms)
    type_match = 1.0 if kind is None else float(has_answer_of_type(kind, best.text, question))
    measure = asked_measure(question)
    counted: list[str] = []
    if measure is not None and translating:  # "how many parties" over Chinese text: "N 个缔约方"
        assert lexicon is not None
        counted = counted_renderings(measure, lexicon.lookup)
    measure_match = 1.0 if measure is None else float(states_measure(measure, unit_text, question, counted))
    return [
        best.score,
        float(dense),
        relative,
        sentence_cov,
        unit_cov,
        covered_share(sorted(number_values(question)), number_values(unit_text)),
        _names_covered(question, unit_text, lexicon if translating or glossing else None, text_terms),
        0.0 if glossing else _place_missing(question, unit_text + "\n" + "\n".join(best.unit.section), lexicon),
        float(kind is not None),
        type_match,
        measure_match,
        float(cross),
    ]


#: the question-evidence pairings with a model of their own (question language > evidence language)
PAIRINGS = ("zh>en",)


def pairing_of(question_language: str, cross: bool) -> str | None:
    """The pairing a question and its evidence form ("zh>en"), None when they share a language."""
    if not cross:
        return None
    return f"{question_language}>{'en' if question_language == 'zh' else 'zh'}"


@dataclass(frozen=True)
class Verifier:
    """Logistic regression on standardised features; answer when the probability reaches ``threshold``.

    ``pairings``: models for a question over evidence in another language whose features read
    differently (a Chinese question's words meet English text only through dictionary glosses, so
    its coverages run lower than any pairing the main model learned from); each is trained and
    calibrated on its own examples. Other pairs use this model.
    """

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    pairings: Mapping[str, Verifier] = field(default_factory=dict, hash=False)

    def for_pair(self, question_language: Language, cross: bool) -> Verifier:
        """The model for a question in ``question_language`` over evidence in (``cross``) the other language.

        Probabilities of different models are not on one scale: each is compared with its own threshold.
        """
        pairing = pairing_of(question_language, cross)
        return self.pairings.get(pairing, self) if pairing is not None else self

    def probability(self, values: Sequence[float]) -> float:
        z = self.intercept + sum(
            c * (v - m) / s for c, v, m, s in zip(self.coef, values, self.mean, self.scale, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "features": list(self.features), "mean": list(self.mean), "scale": list(self.scale),
            "coef": list(self.coef), "intercept": self.intercept, "threshold": self.threshold,
        }
        if self.pairings:
            data["pairings"] = {name: model.to_json() for name, model in self.pairings.items()}
        return data

    @classmethod
    def from_json(cls, data: dict) -> Verifier:
        features = tuple(data["features"])
        if features != FEATURES:
            raise ValueError(f"verifier trained on features {features}, this code computes {FEATURES}: retrain it")
        pairings = data.get("pairings") or {}
        unknown = set(pairings) - set(PAIRINGS)
        if unknown:
            raise ValueError(f"verifier has models for pairings {sorted(unknown)} this code does not know: retrain it")
        if any(model.get("pairings") for model in pairings.values()):
            raise ValueError("a pairing's model cannot have pairings of its own: retrain it")
        return cls(
            features, tuple(data["mean"]), tuple(data["scale"]), tuple(data["coef"]), float(data["intercept"]), float(data["threshold"]),
            {name: cls.from_json(model) for name, model in pairings.items()},
        )


def load_verifier(path: Path | None = None) -> Verifier | None:
    """The shipped verifier (``rag/data/verifier.json``), or one at ``path``; None when there is none."""
    source = path if path is not None else files("rag.data") / "verifier.json"
    try:
        text = source.read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None
    return Verifier.from_json(json.loads(text))
