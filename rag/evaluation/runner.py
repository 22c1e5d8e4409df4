"""Evaluation runs: retriever configurations × labelled datasets → figures, runs, comparisons.

A dataset is searched against an index of its own corpus (built once into the evaluation
cache and reused), every configuration ranks every question, and ranx scores the runs. Hits
on sub-units count for their paragraph: gold labels are paragraphs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rag.answer import AnswerParams
from rag.config import PROJECT_ROOT, Settings
from rag.evaluation.beir import load_beir
from rag.evaluation.calibration import calibrate_refusal
from rag.evaluation.datasets import Dataset, DatasetError, validate_against_corpus
from rag.evaluation.metrics import (
    DEFAULT_METRICS,
    answer_figures,
    compare_runs,
    quotes_answer,
    ranked_run,
    retrieval_metrics,
)
from rag.evaluation.questions import load_question_jsonl
from rag.evaluation.squad import load_squad
from rag.retriever import RetrievalMode, Retriever

__all__ = ["BUILTIN_SETS", "DEFAULT_METRICS", "EvalSet", "SetResult", "lookup_figures", "resolve_sets", "run_evaluation"]

SEED_QUESTIONS = PROJECT_ROOT / "eval" / "seed_questions.jsonl"
LOOKUP_QUESTIONS = PROJECT_ROOT / "eval" / "lookup_questions.jsonl"  # paragraph references, asked with the seed set
DEFAULT_XQUAD_DIR = PROJECT_ROOT / "eval" / "data" / "xquad"  # shipped copy, CC BY-SA 4.0
DEFAULT_CMRC_DIR = PROJECT_ROOT / "eval" / "data" / "cmrc2018"  # shipped copy, CC BY-SA 4.0
BUILTIN_SETS = ("seed", "xquad-zh", "xquad-en-zh", "xquad-en", "xquad-zh-en")
DEPTH = 10


@dataclass(frozen=True)
class EvalSet:
    """A dataset and how to get the index it is searched against."""

    name: str
    dataset: Dataset
    index_name: str
    build: Callable[[Path], None]  # builds the index into the given directory
    answers: bool = False  # also measure answers (citations, refusals)


@dataclass
class SetResult:
    name: str
    queries: int
    answerable: int
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)
    configs: dict[str, dict[str, object]] = field(default_factory=dict)
    runs: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    comparison: str = ""
    answers: dict[str, object] | None = None
    seconds: float = 0.0


class _CachedEncoder:
    """Encodes each distinct query once, however many configurations ask for it."""

    def __init__(self, encoder: object) -> None:
        self._encoder = encoder
        self._cache: dict[str, np.ndarray] = {}

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            self._cache.update(zip(missing, self._encoder.encode_queries(missing, batch_size=batch_size), strict=True))
        return np.stack([self._cache[t] for t in texts])


def _seed_set(settings: Settings, path: Path, name: str, doc: str | None) -> EvalSet:
    from rag.engine import build_from_documents, load_seed_corpus

    corpus = load_seed_corpus(settings)
    if doc is None:
        if len(corpus.documents) != 1:
            raise DatasetError("questions file needs --doc when the seeds folder holds several documents", path=path)
        doc = corpus.documents[0].doc
    dataset = load_question_jsonl(path, doc=doc, name=name)
    validate_against_corpus(dataset, {u.id for d in corpus.documents for u in d.units})
    return EvalSet(name, dataset, "seeds", lambda target: build_from_documents(settings, corpus, index_dir=target), answers=True)


def _corpus_set(settings: Settings, dataset: Dataset, index_name: str) -> EvalSet:
    from rag.engine import build_from_documents, corpus_from_beir

    assert dataset.corpus is not None
    docs = [(d.id, "", d.text) for d in dataset.corpus]  # titles are not part of the evidence

    def build(target: Path) -> None:
        build_from_documents(settings, corpus_from_beir(docs, dataset.name), index_dir=target)

    measurable = bool(dataset.unanswerable_ids) or any(q.answers for q in dataset.queries)
    return EvalSet(dataset.name, dataset, index_name, build, answers=measurable)


def resolve_sets(settings: Settings, names: Sequence[str], *, xquad_dir: Path = DEFAULT_XQUAD_DIR, doc: str | None = None) -> list[EvalSet]:
    """Built-in names (seed, xquad-zh, xquad-en-zh, xquad-en, xquad-zh-en) or paths (.jsonl questions, SQuAD .json, BEIR folder)."""
    sets: list[EvalSet] = []
    for name in names:
        if name == "seed":
            sets.append(_seed_set(settings, SEED_QUESTIONS, "seed", doc))
        elif name in ("xquad-zh", "xquad-en-zh", "xquad-en", "xquad-zh-en"):
            question_lang = "zh" if name in ("xquad-zh", "xquad-zh-en") else "en"
            corpus_lang = "en" if name in ("xquad-en", "xquad-zh-en") else "zh"
            questions = load_squad(xquad_dir / f"xquad.{question_lang}.json", lang=question_lang, name=name)
            corpus = load_squad(xquad_dir / f"xquad.{corpus_lang}.json", lang=corpus_lang)
            # parallel files share question ids: an answer quotes the corpus language's answer string
            answers = {q.id: q.answers for q in corpus.queries}
            queries = tuple(replace(q, answers=answers.get(q.id, q.answers)) for q in questions.queries)
            dataset = Dataset(name, queries, questions.qrels, corpus.corpus)
            sets.append(_corpus_set(settings, dataset, f"xquad-{corpus_lang}"))
        else:
            path = Path(name)
            if path.is_dir():
                dataset = load_beir(path)
                sets.append(_corpus_set(settings, dataset, f"beir-{path.resolve().name}"))
            elif path.suffix == ".jsonl":
                sets.append(_seed_set(settings, path, path.stem, doc))
            elif path.suffix == ".json":
                dataset = load_squad(path)
                sets.append(_corpus_set(settings, dataset, f"squad-{path.stem}"))
            else:
                raise DatasetError(f"unknown dataset {name!r}: use one of {', '.join(BUILTIN_SETS)}, a questions .jsonl, a SQuAD .json or a BEIR folder", path=path)
    return sets


def _limit(dataset: Dataset, limit: int | None) -> Dataset:
    if limit is None:
        return dataset
    keep = set(dataset.query_ids[:limit])
    return dataset.select(where=lambda q: q.id in keep)


def _breakdown(dataset: Dataset, run: dict[str, dict[str, float]], attribute: str) -> dict[str, dict[str, float]]:
    groups: dict[str, set[str]] = {}
    for query in dataset.queries:
        value = getattr(query, attribute)
        if value is not None:
            groups.setdefault(value, set()).add(query.id)
    out = {}
    for value, ids in sorted(groups.items()):
        qrels = {q: r for q, r in dataset.qrels.items() if q in ids}
        figures = retrieval_metrics(qrels, run)
        if figures:
            out[value] = {**figures, "n": sum(1 for r in qrels.values() if r)}
    return out


def run_evaluation(
    settings: Settings,
    sets: Sequence[EvalSet],
    modes: Sequence[RetrievalMode],
    *,
    cache_dir: Path,
    limit: int | None = None,
    show_progress: bool = True,
) -> list[SetResult]:
    """Run every configuration on every set; indexes are built into ``cache_dir`` when missing or stale."""
    from index.store import load_index
    from rag.engine import choose_model, load_embedder_for, make_lexicon

    choice = choose_model(settings)
    encoder = _CachedEncoder(load_embedder_for(choice, settings)) if any(m is not RetrievalMode.LEXICAL for m in modes) else None
    lexicon = make_lexicon(settings)
    results: list[SetResult] = []
    progress = tqdm(total=len(sets) * len(modes), desc="evaluating", disable=not show_progress, unit="run")
    for eval_set in sets:
        started = time.perf_counter()
        dataset = _limit(eval_set.dataset, limit)
        index_dir = cache_dir / eval_set.index_name
        eval_set.build(index_dir)
        index = load_index(index_dir, model_id=choice.id, chunking=settings.chunking)
        retriever = Retriever(index, encoder, fusion=settings.fusion_params, lexicon=lexicon)
        texts = [q.text for q in dataset.queries]
        result = SetResult(eval_set.name, len(dataset.queries), len(dataset.answerable_ids), dataset.qrels)
        for mode in modes:
            progress.set_postfix_str(f"{eval_set.name}/{mode.value}")
            searches = retriever.search_many(texts, DEPTH, mode=mode)
            rankings = {q.id: [h.group_id for h in s.hits] for q, s in zip(dataset.queries, searches, strict=True)}
            run = ranked_run(rankings)
            result.runs[mode.value] = run
            result.configs[mode.value] = {
                "all": retrieval_metrics(dataset.qrels, run),
                "by_lang": _breakdown(dataset, run, "lang"),
                "by_type": _breakdown(dataset, run, "type"),
            }
            progress.update(1)
        result.comparison = compare_runs(dataset.qrels, result.runs)
        if eval_set.answers and RetrievalMode.HYBRID in modes:
            lookups = LOOKUP_QUESTIONS if eval_set.name == "seed" else None
            result.answers = _answer_figures(retriever, settings.answer_params, dataset, lookups)
        result.seconds = round(time.perf_counter() - started, 1)
        results.append(result)
    progress.close()
    return results


def _answer_figures(retriever: Retriever, params: AnswerParams, dataset: Dataset, lookup_path: Path | None = None) -> dict[str, object]:
    """Answers as a user gets them (the shipped verifier decides refusals): first citation, refusal, look-ups.

    Per language: first-citation accuracy (paragraph; and paragraph + sub-unit where the question
    names one), the share of questions with gold answer strings (SQuAD) answered from the gold
    paragraph with one of them quoted, refusal precision / recall and the AUC of the verifier's
    confidence for telling unanswerable questions, the risk–coverage points; the cosine
    thresholds a calibration would suggest are kept for comparison.
    """
    from rag.evaluation.selective import auc, risk_coverage
    from rag.qa import QuestionAnswerer

    answerer = QuestionAnswerer(retriever, params)
    gold = {q: set(r) for q, r in dataset.qrels.items()}
    first: dict[str, str | None] = {}
    refused: dict[str, bool] = {}
    sub_right: dict[str, bool] = {}
    quoted_answer: dict[str, bool] = {}  # questions with gold answer strings: answered, gold cited first, one quoted
    confidence: dict[str, float] = {}
    right: dict[str, int] = {}  # 1: answering gives a gold first citation
    scores: dict[str, tuple[list[tuple[float, bool]], list[float]]] = {"same-language": ([], []), "cross-language": ([], [])}
    for query in dataset.queries:
        answer = answerer.ask(query.text, k=5).answer
        refused[query.id] = answer.refused
        quoted = answer.citations[0] if answer.citations else answer.see_also[0] if answer.see_also else None
        cited = None if quoted is None else f"{quoted.doc}/{quoted.para}" if quoted.para is not None else quoted.id
        first[query.id] = None if answer.refused else cited
        if query.answers:
            said = "".join(segment.text for segment in answer.segments)
            quoted_answer[query.id] = not answer.refused and cited in gold[query.id] and quotes_answer(said, query.answers)
        if query.sub is not None:
            sub_right[query.id] = not answer.refused and cited in gold[query.id] and quoted is not None and quoted.sub == query.sub
        confidence[query.id] = answer.confidence if answer.confidence is not None else answer.evidence_score
        right[query.id] = int(bool(gold[query.id]) and cited in gold[query.id])
        answerable, unanswerable = scores["cross-language" if answer.cross_lingual else "same-language"]
        if gold[query.id]:
            answerable.append((answer.evidence_score, cited in gold[query.id]))
        else:
            unanswerable.append(answer.evidence_score)

    def figures_for(ids: set[str]) -> dict[str, object]:
        out = asdict(answer_figures({q: gold[q] for q in ids}, first, refused))
        with_sub = [q for q in ids if q in sub_right]
        out["first_citation_sub_accuracy"] = sum(sub_right[q] for q in with_sub) / len(with_sub) if with_sub else None
        out["sub_questions"] = len(with_sub)
        with_answers = [q for q in ids if q in quoted_answer]
        out["answer_quoted"] = sum(quoted_answer[q] for q in with_answers) / len(with_answers) if with_answers else None
        out["answer_questions"] = len(with_answers)
        ordered = sorted(ids)
        probabilities = np.array([confidence[q] for q in ordered])
        unanswerable = np.array([int(not gold[q]) for q in ordered])
        out["refusal_auc"] = auc(-probabilities, unanswerable)
        curve = risk_coverage(probabilities, np.array([right[q] for q in ordered]))
        step = max(1, len(curve) // 200)  # at most ~200 points kept: a plot's resolution, not one per question
        out["risk_coverage"] = [[round(c, 4), round(r, 4)] for c, r in (*curve[:-1:step], curve[-1])]
        return out

    figures: dict[str, object] = {"all": figures_for(set(gold))}
    for lang in sorted({q.lang for q in dataset.queries if q.lang}):
        figures[lang] = figures_for({q.id for q in dataset.queries if q.lang == lang})
    by_type: dict[str, object] = {}
    for qtype in sorted({q.type for q in dataset.queries if q.type}):
        by_type[qtype] = {k: v for k, v in figures_for({q.id for q in dataset.queries if q.type == qtype}).items() if k != "risk_coverage"}
    figures["by_type"] = by_type
    figures["suggested_thresholds"] = {
        group: asdict(calibrate_refusal(answerable, unanswerable))
        for group, (answerable, unanswerable) in scores.items()
        if answerable and unanswerable
    }
    if lookup_path is not None and lookup_path.exists():
        figures["lookup"] = lookup_figures(answerer, lookup_path)
    return figures


def lookup_figures(answerer: object, path: Path) -> dict[str, dict[str, object]]:
    """Look-up accuracy per language: the named units cited in order, or the clear "no such unit" answer."""
    import json

    from rag.answer import AnswerKind

    out: dict[str, dict[str, object]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        answer = answerer.ask(record["question"]).answer  # type: ignore[attr-defined]
        if record["expect"] == "no_such_unit":
            ok = answer.kind is AnswerKind.NO_SUCH_UNIT and not answer.refused
        else:
            cited = [(c.para, c.sub) for c in answer.citations]
            wanted = [(p, record.get("sub")) for p in record["gold"]]
            ok = answer.kind is AnswerKind.LOOKUP and cited == wanted
        group = out.setdefault(record["lang"], {"questions": 0, "right": 0, "wrong": []})
        group["questions"] += 1  # type: ignore[operator]
        if ok:
            group["right"] += 1  # type: ignore[operator]
        else:
            group["wrong"].append(record["id"])  # type: ignore[union-attr]
    for group in out.values():
        group["accuracy"] = group["right"] / group["questions"]  # type: ignore[operator]
    return out
