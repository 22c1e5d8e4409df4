"""Train the refusal verifier and write rag/data/verifier.json, its data card and a risk–coverage plot.

    PYTHONPATH=. python scripts/train_verifier.py [--work DIR] [--limit 400]

Builds (or reuses, under --work) the indexes and examples of rag.evaluation.verifier_data,
fits a logistic regression (scikit-learn) on the train articles only, chooses the operating point
on their out-of-fold predictions, and reports held-out figures: XQuAD/CMRC test articles, and the
seed set (the one UN document, never trained on), with the whole threshold sweep.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from rag.config import PROJECT_ROOT, Settings
from rag.evaluation.selective import refusal_figures, risk_coverage, save_risk_coverage_plot
from rag.evaluation.verifier_data import Example, build_examples, read_examples, write_examples
from rag.verifier import FEATURES, PAIRINGS, Verifier, pairing_of

TARGET_PRECISION = 0.90  # of refusals: a refused question really had no right answer to give
TARGET_OUT_OF_CORPUS = 0.95  # share of questions about articles not in the index that must be refused
_CROSS = FEATURES.index("cross_lingual")


def _pairing(example: Example) -> str | None:
    """The pairing whose model judges this example at run time (rag.verifier.Verifier.for_pair), None: the main model."""
    pairing = pairing_of(example.lang, example.features[_CROSS] > 0.5)
    return pairing if pairing in PAIRINGS else None


def _fit(examples: Sequence[Example]) -> tuple[StandardScaler, LogisticRegression]:
    x = np.array([e.features for e in examples])
    y = np.array([e.label for e in examples])
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(scaler.transform(x), y)
    return scaler, model


def _probabilities(scaler: StandardScaler, model: LogisticRegression, examples: Sequence[Example]) -> np.ndarray:
    if not examples:
        return np.zeros(0)
    return model.predict_proba(scaler.transform(np.array([e.features for e in examples])))[:, 1]


def _operating_point(probabilities: np.ndarray, examples: Sequence[Example]) -> float:
    """The lowest threshold (keeping the most right answers) that refuses ≥ TARGET_OUT_OF_CORPUS of the
    out-of-corpus questions at refusal precision ≥ TARGET_PRECISION; if none does, the threshold with the
    highest refusal recall at that precision."""
    labels = np.array([e.label for e in examples])
    outside = np.array([e.kind == "out-of-corpus" for e in examples])
    candidates = np.unique(np.round(probabilities, 4))
    for threshold in candidates:
        figures = refusal_figures(probabilities, labels, float(threshold))
        precise = figures["precision"] is not None and figures["precision"] >= TARGET_PRECISION
        if precise and np.mean(probabilities[outside] < threshold) >= TARGET_OUT_OF_CORPUS:
            return float(threshold)
    best, best_recall = 0.0, -1.0
    for threshold in candidates:
        figures = refusal_figures(probabilities, labels, float(threshold))
        if figures["precision"] is not None and figures["precision"] >= TARGET_PRECISION and figures["recall"] > best_recall:
            best, best_recall = float(threshold), figures["recall"]
    return best


def _out_of_fold(train: Sequence[Example], folds: int = 5) -> np.ndarray:
    """Each train article's predictions from a model fitted without it (5 article folds)."""
    out = np.zeros(len(train))
    articles = sorted({e.article for e in train})
    for fold in range(folds):
        held_articles = set(articles[fold::folds])
        held = [i for i, e in enumerate(train) if e.article in held_articles]
        scaler, model = _fit([e for e in train if e.article not in held_articles])
        out[held] = _probabilities(scaler, model, [train[i] for i in held])
    return out


def _trained(train: Sequence[Example]) -> tuple[Verifier, StandardScaler, LogisticRegression]:
    """A model fitted on ``train`` with its operating point chosen on out-of-fold predictions of the same articles."""
    threshold = _operating_point(_out_of_fold(train), train)
    scaler, model = _fit(train)
    verifier = Verifier(
        FEATURES, tuple(float(v) for v in scaler.mean_), tuple(float(v) for v in scaler.scale_),
        tuple(float(v) for v in model.coef_[0]), float(model.intercept_[0]), round(threshold, 4),
    )
    return verifier, scaler, model


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None, help="indexes and examples.jsonl are kept here (default: a temp dir)")
    parser.add_argument("--limit", type=int, default=600, help="questions sampled per XQuAD/CMRC set")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "rag" / "data")
    parser.add_argument("--plots", type=Path, default=PROJECT_ROOT / "eval" / "results" / "verifier")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="verifier-"))
    work.mkdir(parents=True, exist_ok=True)
    cache = work / "examples.jsonl"
    if cache.exists():
        examples = read_examples(cache)
    else:
        settings = Settings(home=work / "home")
        examples = build_examples(
            settings, work, xquad_dir=PROJECT_ROOT / "eval" / "data" / "xquad",
            cmrc_path=PROJECT_ROOT / "eval" / "data" / "cmrc2018" / "cmrc2018_trial.json",
            seed_questions=PROJECT_ROOT / "eval" / "seed_questions.jsonl", limit=args.limit,
        )
        write_examples(examples, cache)
    own = [e for e in examples if _pairing(e) is None]
    train = [e for e in own if e.split == "train"]
    test = [e for e in own if e.split == "test"]
    seed = [e for e in own if e.split == "seed"]  # never trained on: the held-out UN document

    main_model, scaler, model = _trained(train)
    pairings: dict[str, Verifier] = {}
    pairing_sections = []
    for name in PAIRINGS:
        pairing_examples = [e for e in examples if _pairing(e) == name]
        pairing_train = [e for e in pairing_examples if e.split == "train"]
        if not pairing_train:
            raise SystemExit(f"no training examples for the pairing {name}: its questions would be judged by no model of their own")
        pairing_test = [e for e in pairing_examples if e.split == "test"]
        pairings[name], pairing_scaler, pairing_model = _trained(pairing_train)
        pairing_sections.append(_pairing_report(
            name, pairing_examples, pairing_test, _probabilities(pairing_scaler, pairing_model, pairing_test), pairings[name],
            main=(_probabilities(scaler, model, pairing_test), main_model.threshold),
        ))
    verifier = replace(main_model, pairings=pairings)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "verifier.json").write_text(json.dumps(verifier.to_json(), indent=1) + "\n", encoding="utf-8")

    threshold = verifier.threshold
    test_p = _probabilities(scaler, model, test)
    seed_p = _probabilities(scaler, model, seed)
    report = _report(own, test, seed, test_p, seed_p, threshold, verifier) + "".join(pairing_sections)
    (args.out / "verifier.md").write_text(report, encoding="utf-8")
    args.plots.mkdir(parents=True, exist_ok=True)
    curves = {}
    for name, subset, probabilities in (
        ("held-out XQuAD/CMRC articles", test, test_p),
        ("seed zh (never trained on)", [e for e in seed if e.lang == "zh"], seed_p[[i for i, e in enumerate(seed) if e.lang == "zh"]]),
        ("seed en (never trained on)", [e for e in seed if e.lang == "en"], seed_p[[i for i, e in enumerate(seed) if e.lang == "en"]]),
    ):
        curves[name] = risk_coverage(probabilities, np.array([e.label for e in subset]))
    save_risk_coverage_plot(curves, args.plots / "risk_coverage.png", threshold_note=f"operating point p ≥ {threshold:.3f}")
    print(report)


def _counts_table(examples: Sequence[Example]) -> list[str]:
    """Examples per split, source and kind, as markdown table lines."""
    counts = Counter((e.split, e.source, e.kind) for e in examples)
    return ["| split | source | kind | n |", "|---|---|---|---|", *[f"| {s} | {src} | {k} | {n} |" for (s, src, k), n in sorted(counts.items())]]


def _refused_by_kind(test: Sequence[Example], probabilities: np.ndarray, threshold: float) -> str:
    kinds = np.array([e.kind for e in test])
    return ", ".join(
        f"{kind} {np.mean(probabilities[kinds == kind] < threshold):.3f} (n={int((kinds == kind).sum())})"
        for kind in ("answerable", "out-of-corpus", "hard", "removed") if (kinds == kind).any()
    )


def _pairing_report(
    name: str, examples: Sequence[Example], test: Sequence[Example], test_p: np.ndarray, pairing: Verifier, *, main: tuple[np.ndarray, float]
) -> str:
    """The data card's section for one pairing's own model: counts, held-out figures (and the main model's on the
    same examples, for comparison), model."""
    kinds = np.array([e.kind for e in test])
    main_p, main_threshold = main
    lines = [
        "",
        f"## Pairing {name}: its own model",
        "",
        f"Questions in {name.split('>')[0]} whose evidence is in {name.split('>')[1]} are judged by a model fitted on their train",
        "articles alone, its operating point chosen by the rule above on its own out-of-fold predictions: its features",
        "read differently (a Chinese question's words meet English text only through CC-CEDICT glosses), and one threshold",
        f"for every pairing either refuses most of these or gives up right answers elsewhere. Answer when p ≥ {pairing.threshold:.4f}.",
        "",
        *_counts_table(examples),
        "",
        *_figures_table(
            [
                ("test: all", test, test_p),
                ("test: in-corpus + out-of-corpus only", [e for e in test if e.kind in ("answerable", "out-of-corpus")],
                 test_p[np.isin(kinds, ("answerable", "out-of-corpus"))]),
            ],
            pairing.threshold,
        ),
        "",
        f"Refused share by kind (test articles): {_refused_by_kind(test, test_p, pairing.threshold)}.",
        "",
        f"The main model on the same test examples (p ≥ {main_threshold:.4f}): {_refused_by_kind(test, main_p, main_threshold)};",
        "answered with gold first "
        + f"{np.mean([p >= main_threshold and e.answered_gold for p, e in zip(main_p, test, strict=True) if e.kind == 'answerable']):.3f}.",
        "",
        "| feature | mean | scale | coefficient |",
        "|---|---|---|---|",
        *[f"| {f} | {m:.4f} | {s:.4f} | {c:+.4f} |" for f, m, s, c in zip(pairing.features, pairing.mean, pairing.scale, pairing.coef, strict=True)],
        f"| intercept | | | {pairing.intercept:+.4f} |",
        "",
    ]
    return "\n".join(lines)


def _figures_table(rows: list[tuple[str, Sequence[Example], np.ndarray]], threshold: float) -> list[str]:
    lines = ["| set | n | unanswered | refusal precision | refusal recall | AUC | answered with gold first |", "|---|---|---|---|---|---|---|"]
    for name, subset, probabilities in rows:
        if not subset:
            continue
        labels = np.array([e.label for e in subset])
        f = refusal_figures(probabilities, labels, threshold)
        auc = f["auc"]
        answerable = [i for i, e in enumerate(subset) if e.kind == "answerable"]
        gold_first = sum(1 for i in answerable if probabilities[i] >= threshold and subset[i].answered_gold)
        share = f"{gold_first / len(answerable):.3f}" if answerable else "–"
        precision = "–" if f["precision"] is None else f"{f['precision']:.3f}"
        lines.append(
            f"| {name} | {len(subset)} | {int((labels == 0).sum())} | {precision} | {f['recall']:.3f} | "
            f"{'–' if auc is None else f'{auc:.3f}'} | {share} |"
        )
    return lines


def _seed_figures(seed: Sequence[Example], probabilities: np.ndarray, threshold: float) -> tuple[float, float, float]:
    """As ``rag eval`` counts them: refusal precision (refusals of written unanswerables / refusals), recall, first citation gold."""
    refused = probabilities < threshold
    written = np.array([e.kind == "written" for e in seed])
    answerable = ~written
    gold = np.array([e.answered_gold for e in seed])
    precision = float((refused & written).sum() / refused.sum()) if refused.any() else float("nan")
    recall = float(refused[written].mean()) if written.any() else float("nan")
    first = float((~refused[answerable] & gold[answerable]).mean()) if answerable.any() else float("nan")
    return precision, recall, first


def _sweep(test: Sequence[Example], test_p: np.ndarray, seed: Sequence[Example], seed_p: np.ndarray, threshold: float) -> list[str]:
    """The trade at every threshold: what the operating point gives up and what it buys."""
    kinds = np.array([e.kind for e in test])
    gold = np.array([e.answered_gold for e in test])
    zh = [i for i, e in enumerate(seed) if e.lang == "zh"]
    en = [i for i, e in enumerate(seed) if e.lang == "en"]
    lines = [
        "| threshold | out-of-corpus refused | gold removed refused | in-corpus answered, gold first | seed zh P / R / first gold | seed en P / R / first gold |",
        "|---|---|---|---|---|---|",
    ]
    for t in sorted({0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, round(threshold, 4)}):
        ooc = np.mean(test_p[kinds == "out-of-corpus"] < t)
        removed = np.mean(test_p[np.isin(kinds, ("hard", "removed"))] < t)
        answered = np.mean((test_p >= t)[kinds == "answerable"] & gold[kinds == "answerable"])
        cells = []
        for idx in (zh, en):
            p, r, f = _seed_figures([seed[i] for i in idx], seed_p[idx], t)
            cells.append(f"{p:.2f} / {r:.2f} / {f:.2f}")
        mark = " **(operating point)**" if t == round(threshold, 4) else ""
        lines.append(f"| {t:.4g}{mark} | {ooc:.3f} | {removed:.3f} | {answered:.3f} | {cells[0]} | {cells[1]} |")
    return lines


def _report(examples, test, seed, test_p, seed_p, threshold, verifier) -> str:
    def sub(items, probabilities, keep):
        idx = [i for i, e in enumerate(items) if keep(e)]
        return [items[i] for i in idx], probabilities[idx]

    rows = []
    for name, keep in (
        ("test: all", lambda e: True),
        ("test: XQuAD zh", lambda e: e.source == "xquad-zh"),
        ("test: XQuAD en→zh", lambda e: e.source == "xquad-en-zh"),
        ("test: XQuAD en", lambda e: e.source == "xquad-en"),
        ("test: CMRC 2018 trial", lambda e: e.source == "cmrc2018"),
        ("test: in-corpus + out-of-corpus only", lambda e: e.kind in ("answerable", "out-of-corpus")),
    ):
        rows.append((name, *sub(test, test_p, keep)))
    for name, keep in (("seed zh (never trained on)", lambda e: e.lang == "zh"), ("seed en (never trained on)", lambda e: e.lang == "en")):
        rows.append((name, *sub(seed, seed_p, keep)))
    refused_by_kind = [
        (name, *sub(test, test_p, keep))
        for name, keep in (
            ("out-of-corpus", lambda e: e.kind == "out-of-corpus"),
            ("hard (left out of the index)", lambda e: e.kind == "hard"),
            ("removed (filtered out)", lambda e: e.kind == "removed"),
        )
    ]
    lines = [
        "# Data card: the refusal verifier (`rag/data/verifier.json`)",
        "",
        "Logistic regression (scikit-learn, balanced class weights) over standardised features; the JSON holds",
        "the feature names, means, scales, coefficients, intercept and the operating point (a few hundred bytes,",
        "no pickle). Trained by `scripts/train_verifier.py`; examples built by `rag/evaluation/verifier_data.py`;",
        "features computed by `rag/verifier.py` with `rag/question_focus.py` (answer type through `jieba.posseg`,",
        "quantities, numbers and ordinals through `cn2an`, names through the bilingual dictionary: an English name's translations, a Chinese name's CC-CEDICT glosses).",
        "",
        "**Label.** 1 when the question is answerable from the index and the first citation the answerer would",
        "give is a gold paragraph; 0 otherwise (unanswerable here, or answerable but cited wrongly: a wrong",
        "citation is worse than no answer).",
        "",
        "**Sources** (CC BY-SA 4.0, shipped in `eval/data/`): XQuAD zh/en (zh and en→zh questions over a Chinese",
        "index, en over an English one; zh over the English one has a model of its own, below) and the CMRC 2018 trial set;",
        "half of the articles are indexed, and in an",
        "indexed article every fourth paragraph is left out (`hard`: the rest of the article stays). Every answerable",
        "question is also asked with its gold paragraph filtered out of the search (`removed`: on topic, the rest of",
        "its article competing, not answered) -- the case a UN report poses, where many paragraphs share a topic.",
        "",
        "**Split.** By article, never by question: XQuAD/CMRC articles hashed 70/30 into train/test; the model is",
        "fitted on the train articles only. The seed set (`eval/seed_questions.jsonl`, the one UN document shipped)",
        "is **never trained on and never used to choose the threshold**: its rows below are a held-out document.",
        "",
        f"**Operating point.** Answer when p ≥ {threshold:.4f}: on out-of-fold predictions of the train articles (5",
        f"article folds), the lowest threshold (keeping the most right answers) that refuses ≥ {TARGET_OUT_OF_CORPUS:.0%} of the",
        f"out-of-corpus questions at refusal precision ≥ {TARGET_PRECISION:.2f}. Refusal precision = share of refusals",
        "that had no right answer to give.",
        "",
        "## Counts",
        "",
        *_counts_table(examples),
        "",
        "## Held-out figures at the operating point",
        "",
        *_figures_table(rows, threshold),
        "",
        "Refused share by kind (test articles): "
        + ", ".join(f"{name} {np.mean(p < threshold):.3f} (n={len(items)})" for name, items, p in refused_by_kind if len(items)),
        "",
        "## Every threshold (risk–coverage, held out)",
        "",
        "Seed columns count as `rag eval` does: precision = refused written unanswerables / refusals; first gold = answerable",
        "questions answered with a gold first citation.",
        "",
        *_sweep(test, test_p, seed, seed_p, threshold),
        "",
        "## Model",
        "",
        "| feature | mean | scale | coefficient |",
        "|---|---|---|---|",
        *[f"| {f} | {m:.4f} | {s:.4f} | {c:+.4f} |" for f, m, s, c in zip(verifier.features, verifier.mean, verifier.scale, verifier.coef, strict=True)],
        f"| intercept | | | {verifier.intercept:+.4f} |",
        "",
        "Risk–coverage curves: `eval/results/verifier/risk_coverage.png`.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
