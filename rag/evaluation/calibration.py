"""Choosing the refusal threshold from labelled unanswerable questions.

The answerer refuses when its best evidence sentence scores below a cosine threshold. Per group
(same-language vs cross-language question and evidence), we pick the threshold that makes the
most responses right, where a response is right when it refuses a question the documents do not
answer, or answers an answerable question with a gold paragraph as its first citation. Refusing
an answerable question that would have been cited wrongly anyway costs nothing under this
objective; refusing one that would have been cited rightly costs exactly one. Ties go to the
lower threshold: fewer refusals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["RefusalCalibration", "calibrate_refusal"]


@dataclass(frozen=True, slots=True)
class RefusalCalibration:
    threshold: float
    accuracy: float  # share of right responses at this threshold
    accuracy_without_refusal: float
    precision: float | None
    recall: float | None
    false_refusals: int
    answerable: int
    unanswerable: int


def calibrate_refusal(answerable: Sequence[tuple[float, bool]], unanswerable: Sequence[float]) -> RefusalCalibration:
    """``answerable``: (evidence score, first citation is gold) per question; ``unanswerable``: scores.

    Refuse when score < threshold.
    """
    total = len(answerable) + len(unanswerable)
    if total == 0:
        raise ValueError("no questions to calibrate on")
    candidates = sorted({0.0, *(round(s + 1e-6, 6) for s, _ in answerable), *(round(s + 1e-6, 6) for s in unanswerable)})

    def right(threshold: float) -> int:
        refused_right = sum(1 for s in unanswerable if s < threshold)
        answered_right = sum(1 for s, correct in answerable if correct and s >= threshold)
        return refused_right + answered_right

    best = max(candidates, key=lambda t: (right(t), -t))
    refused_unanswerable = sum(1 for s in unanswerable if s < best)
    false_refusals = sum(1 for s, _ in answerable if s < best)
    refused = refused_unanswerable + false_refusals
    return RefusalCalibration(
        threshold=best,
        accuracy=right(best) / total,
        accuracy_without_refusal=right(0.0) / total,
        precision=refused_unanswerable / refused if refused else None,
        recall=refused_unanswerable / len(unanswerable) if unanswerable else None,
        false_refusals=false_refusals,
        answerable=len(answerable),
        unanswerable=len(unanswerable),
    )
