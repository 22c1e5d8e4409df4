"""Does the quoted sentence hold the answer? The composer's sentence choice on XQuAD, held out by article.

    PYTHONPATH=. python eval/experiments/evidence_sentence.py [--grid] [--limit N]

Every XQuAD question (zh over the Chinese paragraphs, en over the Chinese ones through the
dictionary, en over the English ones; the ``rag eval`` indexes, built if missing) is searched once;
among the questions whose cited paragraph (the first candidate's) is the gold one, it counts how
often the first quoted sentence contains a gold answer string (whitespace and case ignored), and
how often any quoted sentence does. ``cosine``: the sentences ordered by their cosine alone (the
composer before ``rag.answer.focused``); ``shipped``: the composer's order with the shipped
``AnswerParams`` (coverage and number weights). ``--grid`` adds a grid of weights. Articles are
split train/test as the verifier's data is (``rag.evaluation.verifier_data.split_of`` of the
article's id); weights are chosen on train only.
Writes nothing; results are kept in eval/results/experiments/evidence_sentence.md.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from rag.analysis import TermSets
from rag.answer import AnswerParams, QuotedSentence, candidate_sentences, focused, select_sentences
from rag.config import Settings
from rag.engine import open_retriever
from rag.evaluation.metrics import quotes_answer
from rag.evaluation.runner import resolve_sets
from rag.evaluation.verifier_data import split_of
from rag.question_terms import SentenceFocus


def holds(sentences: list[QuotedSentence], answers: list[str]) -> bool:
    return any(quotes_answer(s.text, answers) for s in sentences)


def _index_dir(settings: Settings, name: str) -> Path:
    """The ``rag eval`` index of an XQuAD set (built there when missing or stale)."""
    eval_set = resolve_sets(settings, [name])[0]
    target = settings.home / "eval-indexes" / eval_set.index_name
    eval_set.build(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", action="store_true", help="also a grid of coverage / number weights")
    parser.add_argument("--limit", type=int, default=0, help="questions per set (0: all)")
    args = parser.parse_args()
    settings = Settings()
    shipped = settings.answer_params
    variants: dict[str, AnswerParams | None] = {"cosine": None, "shipped": shipped}
    if args.grid:
        for weight in (0.02, 0.04, 0.06, 0.1):
            for number in (0.0, 0.03):
                variants[f"coverage {weight}, number {number}"] = replace(shipped, coverage_weight=weight, number_match_weight=number)
    sets = {"xquad zh": "xquad-zh", "xquad en->zh": "xquad-en-zh", "xquad en": "xquad-en"}
    first: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    anywhere: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    counted: dict[tuple[str, str], int] = defaultdict(int)
    sentences: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    terms = TermSets()
    for name, set_name in sets.items():
        eval_set = resolve_sets(settings, [set_name])[0]  # queries carry the corpus language's answer strings
        retriever = open_retriever(settings, index_dir=_index_dir(settings, set_name))
        for query in eval_set.dataset.queries[: args.limit or None]:
            question, answers = query.text, query.answers
            (gold,) = eval_set.dataset.qrels[query.id]
            result = retriever.search(question, k=5)
            candidates = candidate_sentences(question, result.hits, retriever.index, result.query_vector, shipped)
            if not candidates or candidates[0].unit.doc != gold:
                continue  # the cited paragraph is not the gold one: sentence choice cannot help
            key = (name, split_of(gold.rsplit("-p", 1)[0]))  # the article, as the verifier's data splits it
            counted[key] += 1
            focus = SentenceFocus(question, retriever.lexicon, terms)
            for variant, params in variants.items():
                ordered = candidates if params is None else focused(candidates, focus, params)
                quoted = select_sentences(ordered, params or shipped)
                first[key][variant] += holds(quoted[:1], answers)
                anywhere[key][variant] += holds(quoted, answers)
                sentences[key][variant] += len(quoted)
    print("| set | split | questions (gold paragraph cited) | " + " | ".join(f"{v}: first / any quoted (sentences)" for v in variants) + " |")
    print("|---|---|---|" + "---|" * len(variants))
    for key in sorted(counted):
        n = counted[key]
        cells = [f"{first[key][v] / n:.3f} / {anywhere[key][v] / n:.3f} ({sentences[key][v] / n:.2f})" for v in variants]
        print(f"| {key[0]} | {key[1]} | {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
