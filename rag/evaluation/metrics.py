"""IR metrics through ranx (no hand-written metrics), and the answer-level figures.

Retrieval metrics are computed over answerable questions only: a question with no relevant
paragraph has no recall to measure (its quality is the refusal, measured separately).
Runs are scored 1/rank so that ranx sees no ties and reproduces the ranking exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ranx import Qrels, Run, compare, evaluate

__all__ = ["DEFAULT_METRICS", "AnswerFigures", "answer_figures", "compare_runs", "quotes_answer", "ranked_run", "retrieval_metrics"]

DEFAULT_METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")


def ranked_run(rankings: Mapping[str, Sequence[str]]) -> dict[str, dict[str, float]]:
    """A run dict from ranked id lists: score 1/rank, first occurrence of an id wins."""
    run: dict[str, dict[str, float]] = {}
    for query_id, ids in rankings.items():
        scores: dict[str, float] = {}
        for rank, doc_id in enumerate(ids, start=1):
            scores.setdefault(doc_id, 1.0 / rank)
        run[query_id] = scores
    return run


def _answerable(qrels: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    return {q: dict(rels) for q, rels in qrels.items() if rels}


def _ranx_pair(qrels: Mapping[str, Mapping[str, int]], run: Mapping[str, Mapping[str, float]], name: str) -> tuple[Qrels, Run]:
    judged = _answerable(qrels)
    scored = {q: dict(run.get(q, {})) or {"__none__": 0.0} for q in judged}  # ranx needs a non-empty dict per query
    return Qrels(judged), Run(scored, name=name)


def retrieval_metrics(
    qrels: Mapping[str, Mapping[str, int]],
    run: Mapping[str, Mapping[str, float]],
    metrics: Sequence[str] = DEFAULT_METRICS,
) -> dict[str, float]:
    """ranx.evaluate over the answerable queries; empty dict when there are none."""
    if not _answerable(qrels):
        return {}
    ranx_qrels, ranx_run = _ranx_pair(qrels, run, "run")
    values = evaluate(ranx_qrels, ranx_run, list(metrics), make_comparable=True)
    if isinstance(values, float):
        values = {metrics[0]: values}
    return {metric: float(value) for metric, value in values.items()}


def compare_runs(
    qrels: Mapping[str, Mapping[str, int]],
    runs: Mapping[str, Mapping[str, Mapping[str, float]]],
    metrics: Sequence[str] = DEFAULT_METRICS,
    *,
    max_p: float = 0.05,
) -> str:
    """ranx.compare with a paired two-sided t-test; returns the report as a markdown table."""
    if len(runs) < 2 or not _answerable(qrels):
        return ""
    pairs = [_ranx_pair(qrels, run, name) for name, run in runs.items()]
    report = compare(pairs[0][0], [run for _, run in pairs], list(metrics), stat_test="student", max_p=max_p, make_comparable=True)
    return report.to_table() if hasattr(report, "to_table") else str(report)


@dataclass(frozen=True, slots=True)
class AnswerFigures:
    """First-citation accuracy on answerable questions; refusal precision/recall on all."""

    answerable: int
    unanswerable: int
    first_citation_accuracy: float | None
    refusal_precision: float | None
    refusal_recall: float | None
    false_refusals: int


def quotes_answer(text: str, answers: Iterable[str]) -> bool:
    """Does ``text`` hold one of the gold answer strings? Whitespace out and case folded, so
    "5 000 万" and "5000万" compare equal."""
    flat = _flat(text)
    return any(_flat(answer) in flat for answer in answers)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text).casefold()


def answer_figures(gold: Mapping[str, set[str]], first_citation: Mapping[str, str | None], refused: Mapping[str, bool]) -> AnswerFigures:
    """``gold``: query -> relevant ids (empty = unanswerable); ``first_citation``: query -> cited id."""
    answerable = [q for q, g in gold.items() if g]
    unanswerable = [q for q, g in gold.items() if not g]
    correct = sum(1 for q in answerable if not refused[q] and first_citation.get(q) in gold[q])
    refusals = [q for q in gold if refused[q]]
    true_refusals = sum(1 for q in refusals if not gold[q])
    return AnswerFigures(
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        first_citation_accuracy=correct / len(answerable) if answerable else None,
        refusal_precision=true_refusals / len(refusals) if refusals else None,
        refusal_recall=true_refusals / len(unanswerable) if unanswerable else None,
        false_refusals=sum(1 for q in answerable if refused[q]),
    )
