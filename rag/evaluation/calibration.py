"""Choosing the refusal threshold from labelled unanswerable questions.

The answerer refuses when its best evidence sentence scores below a cosine threshold. We pick,
per group (same-language vs cross-language question/evidence), the threshold with the best
refusal F1 among those that refuse at most ``max_false_refusal`` of the answerable questions:
a wrong refusal hides an answer the documents do contain, which costs the user more than a
weak answer whose citation they can check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["RefusalCalibration", "calibrate_refusal"]


@dataclass(frozen=True, slots=True)
class RefusalCalibration:
    threshold: float
    precision: float | None
    recall: float | None
    false_refusal_rate: float
    answerable: int
    unanswerable: int


def calibrate_refusal(
    answerable_scores: Sequence[float], unanswerable_scores: Sequence[float], *, max_false_refusal: float = 0.1
) -> RefusalCalibration:
    """Threshold t (refuse when score < t) maximising refusal F1 with false refusals ≤ the cap."""
    candidates = sorted({0.0, *(round(s + 1e-6, 6) for s in (*answerable_scores, *unanswerable_scores))})
    best: RefusalCalibration | None = None
    best_f1 = -1.0
    for threshold in candidates:
        refused_unanswerable = sum(1 for s in unanswerable_scores if s < threshold)
        refused_answerable = sum(1 for s in answerable_scores if s < threshold)
        false_rate = refused_answerable / len(answerable_scores) if answerable_scores else 0.0
        if false_rate > max_false_refusal:
            continue
        refused = refused_unanswerable + refused_answerable
        precision = refused_unanswerable / refused if refused else None
        recall = refused_unanswerable / len(unanswerable_scores) if unanswerable_scores else None
        f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
        if f1 > best_f1:
            best_f1 = f1
            best = RefusalCalibration(threshold, precision, recall, false_rate, len(answerable_scores), len(unanswerable_scores))
    assert best is not None  # threshold 0.0 refuses nothing and always qualifies
    return best
