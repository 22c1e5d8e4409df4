"""Selective answering figures: refusal precision/recall/AUC and the risk–coverage curve.

``probabilities`` are the verifier's P(answer is right); ``labels`` 1 where answering gives a
right answer (gold first citation), 0 where the right response is to refuse. The system answers
when the probability reaches the threshold. Risk–coverage (El-Yaniv & Wiener 2010, "On the
foundations of noise-free selective classification", JMLR): for every threshold, the share of
questions answered (coverage) and the share of those answers that are wrong (risk).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["auc", "refusal_figures", "risk_coverage", "save_risk_coverage_plot"]


def auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """ROC AUC of ``scores`` for ``labels`` (Mann–Whitney, ties count half); None with one class only."""
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels)
    positive, negative = scores[labels == 1], scores[labels == 0]
    if len(positive) == 0 or len(negative) == 0:
        return None
    order = np.argsort(np.concatenate([positive, negative]), kind="mergesort")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(1, len(order) + 1)
    values = np.concatenate([positive, negative])
    for value in np.unique(values):  # average ranks of ties
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return float((ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2) / (len(positive) * len(negative)))


def refusal_figures(probabilities: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float | None]:
    """Refusal as the positive class: precision, recall, and the AUC of (1 - p) for "should refuse"."""
    probabilities, labels = np.asarray(probabilities, dtype=float), np.asarray(labels)
    refused = probabilities < threshold
    should = labels == 0
    hits = int((refused & should).sum())
    return {
        "precision": hits / int(refused.sum()) if refused.any() else None,
        "recall": hits / int(should.sum()) if should.any() else 0.0,
        "auc": auc(1 - probabilities, should.astype(int)),
        "refused": int(refused.sum()),
        "n": len(labels),
    }


def risk_coverage(probabilities: np.ndarray, labels: np.ndarray) -> list[tuple[float, float]]:
    """(coverage, risk) answering the most confident questions first, for every cut-off."""
    order = np.argsort(-np.asarray(probabilities, dtype=float), kind="mergesort")
    wrong = np.cumsum(1 - np.asarray(labels)[order])
    answered = np.arange(1, len(order) + 1)
    return [(0.0, 0.0), *((float(a / len(order)), float(w / a)) for a, w in zip(answered, wrong, strict=True))]


def save_risk_coverage_plot(curves: dict[str, list[tuple[float, float]]], path: Path, threshold_note: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for name, points in curves.items():
        if len(points) > 1:
            axes.plot([c for c, _ in points], [r for _, r in points], label=name)
    axes.set_xlabel("coverage (share of questions answered)")
    axes.set_ylabel("risk (share of answers without a gold first citation)")
    axes.set_title("Risk–coverage of the refusal verifier" + (f"\n{threshold_note}" if threshold_note else ""))
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
