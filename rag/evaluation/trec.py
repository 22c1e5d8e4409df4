"""TREC qrels (``qid 0 docid rel``) and runs (``qid Q0 docid rank score tag``), read and written.

Read by ``trec_eval`` and by ranx, so every reported score can be recomputed independently.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from pathlib import Path

from rag.evaluation.datasets import (
    DatasetError,
    _check_id,
    _id_problem,
    _is_int,
    _lines,
    _parse_int,
    _record_first_line,
)

__all__ = ["read_trec_qrels", "read_trec_run", "sort_run", "write_trec_qrels", "write_trec_run"]


def write_trec_qrels(qrels: Mapping[str, Mapping[str, int]], path: Path) -> None:
    """Write ``qid 0 docid rel`` lines, in the mapping's order.

    A query with no judgments cannot be written in TREC qrels and is left out.
    """
    path = Path(path)
    lines: list[str] = []
    for qid, judged in qrels.items():
        _check_id(qid, "query id", path, None)
        for doc_id, rel in judged.items():
            _check_id(doc_id, f"doc id (query {qid!r})", path, None)
            if not _is_int(rel):
                raise DatasetError(f"relevance {rel!r} of ({qid!r}, {doc_id!r}) is not an int", path=path)
            lines.append(f"{qid} 0 {doc_id} {rel}\n")
    if not lines:
        raise DatasetError("nothing to write: no query has a judgment", path=path)
    path.write_text("".join(lines), encoding="utf-8", newline="\n")


def read_trec_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Read ``qid iter docid rel`` lines (the iteration column is ignored, as trec_eval does).

    Relevance may be any int (0 = judged not relevant, as in TREC).
    """
    path = Path(path)
    qrels: dict[str, dict[str, int]] = {}
    pair_line: dict[tuple[str, str], int] = {}
    for number, line in _lines(path):
        fields = line.split()
        if len(fields) != 4:
            raise DatasetError(
                f"expected 4 fields 'qid 0 docid rel', got {len(fields)}: {line!r}", path=path, line=number
            )
        qid, _, doc_id, rel_text = fields
        rel = _parse_int(rel_text, "relevance", path, number)
        _record_first_line(pair_line, (qid, doc_id), f"judgment for ({qid!r}, {doc_id!r})", path, number)
        qrels.setdefault(qid, {})[doc_id] = rel
    if not qrels:
        raise DatasetError("contains no judgments", path=path)
    return qrels


def _score(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    score = float(value)
    return score if math.isfinite(score) else None


def sort_run(run: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """The run with each query's results in rank order: descending score, ties by ascending doc id.

    ranx ranks tied scores by dict insertion order for short lists and arbitrarily for long ones
    (numba quicksort), so hand ranx ``sort_run(run)`` - or, better, untied scores - to score
    exactly the order ``write_trec_run`` writes. (trec_eval breaks ties by descending doc id.)
    """
    out: dict[str, dict[str, float]] = {}
    for qid, scored in run.items():
        ranked: list[tuple[float, str]] = []
        for doc_id, value in scored.items():
            if (score := _score(value)) is None:
                raise DatasetError(f"score {value!r} of ({qid!r}, {doc_id!r}) is not a finite number")
            ranked.append((score, doc_id))
        ranked.sort(key=lambda item: (-item[0], item[1]))
        out[qid] = {doc_id: score for score, doc_id in ranked}
    return out


def write_trec_run(run: Mapping[str, Mapping[str, float]], path: Path, *, tag: str) -> None:
    """Write ``qid Q0 docid rank score tag`` lines; per query, ranks 1..n by descending score,
    ties broken by ascending doc id (``sort_run``). Scores are written exactly (``repr``). A query
    with no results cannot be written and is left out.
    """
    path = Path(path)
    if (problem := _id_problem(tag)) is not None:
        raise DatasetError(f"run tag {tag!r} {problem}", path=path)
    lines: list[str] = []
    for qid, scored in run.items():
        _check_id(qid, "query id", path, None)
        for doc_id in scored:
            _check_id(doc_id, f"doc id (query {qid!r})", path, None)
        try:
            ranked = sort_run({qid: scored})[qid]
        except DatasetError as exc:
            raise DatasetError(exc.reason, path=path) from None
        lines.extend(
            f"{qid} Q0 {doc_id} {rank} {score!r} {tag}\n" for rank, (doc_id, score) in enumerate(ranked.items(), 1)
        )
    if not lines:
        raise DatasetError("nothing to write: no query has a result", path=path)
    path.write_text("".join(lines), encoding="utf-8", newline="\n")


def read_trec_run(path: Path) -> dict[str, dict[str, float]]:
    """Read ``qid Q0 docid rank score tag`` lines. Scores decide the order (the rank column is
    checked to be a positive int but not used, like trec_eval); one tag per file.
    """
    path = Path(path)
    run: dict[str, dict[str, float]] = {}
    pair_line: dict[tuple[str, str], int] = {}
    tag: tuple[str, int] | None = None
    for number, line in _lines(path):
        fields = line.split()
        if len(fields) != 6:
            raise DatasetError(
                f"expected 6 fields 'qid Q0 docid rank score tag', got {len(fields)}: {line!r}", path=path, line=number
            )
        qid, _, doc_id, rank_text, score_text, run_tag = fields
        rank = _parse_int(rank_text, "rank", path, number)
        if rank < 1:
            raise DatasetError(f"rank {rank} must be >= 1", path=path, line=number)
        try:
            score = float(score_text)
        except ValueError:
            raise DatasetError(f"score {score_text!r} is not a number", path=path, line=number) from None
        if not math.isfinite(score):
            raise DatasetError(f"score {score_text!r} is not finite", path=path, line=number)
        if tag is None:
            tag = (run_tag, number)
        elif run_tag != tag[0]:
            raise DatasetError(f"run tag {run_tag!r} differs from {tag[0]!r} on line {tag[1]}", path=path, line=number)
        _record_first_line(pair_line, (qid, doc_id), f"result ({qid!r}, {doc_id!r})", path, number)
        run.setdefault(qid, {})[doc_id] = score
    if not run:
        raise DatasetError("contains no results", path=path)
    return run
