"""The product's question JSONL: ``{"id", "lang", "question", "gold": [para, …], "type", "sub"?}``.

Questions about an indexed document, judged at paragraph level (``gold: []`` = unanswerable);
see ``eval/seed_questions.jsonl``.
"""

from __future__ import annotations

from pathlib import Path

from rag.evaluation.datasets import (
    _QUESTION_KEYS,
    _QUESTION_REQUIRED,
    QUESTION_LANGS,
    Dataset,
    DatasetError,
    Query,
    _check_answers,
    _check_id,
    _check_label,
    _check_text,
    _id_problem,
    _is_int,
    _json_objects,
    _record_first_line,
)
from rag.units import unit_id

__all__ = ["load_question_jsonl"]


def load_question_jsonl(path: Path, *, doc: str, name: str | None = None) -> Dataset:
    """Questions about one indexed document, one JSON object per line.

    ``{"id", "lang", "question", "gold": [para, …], "type", "sub"?, "answers"?}``; ``gold: []``
    means unanswerable; ``answers`` are gold answer strings (any one quoted answers it). Qrels
    name paragraph unit ids ``f"{doc}/{para}"`` with relevance 1.
    """
    path = Path(path)
    if (problem := _id_problem(doc)) is not None or "/" in doc:
        raise DatasetError(f"document id {doc!r} {problem or 'must not contain /'}", path=path)
    queries: list[Query] = []
    qrels: dict[str, dict[str, int]] = {}
    first_line: dict[str, int] = {}
    for number, obj in _json_objects(path):
        if missing := [k for k in _QUESTION_REQUIRED if k not in obj]:
            raise DatasetError(f"missing key(s): {', '.join(missing)}", path=path, line=number)
        if unknown := sorted(set(obj) - _QUESTION_KEYS):
            raise DatasetError(
                f"unknown key(s): {', '.join(unknown)} (allowed: {', '.join(sorted(_QUESTION_KEYS))})",
                path=path,
                line=number,
            )
        for key, kind in _QUESTION_REQUIRED.items():
            if not isinstance(obj[key], kind):
                raise DatasetError(
                    f"{key} must be a {kind.__name__}, not {type(obj[key]).__name__}", path=path, line=number
                )
        qid = _check_id(obj["id"], "id", path, number)
        _record_first_line(first_line, qid, f"id {qid!r}", path, number)
        lang = obj["lang"]
        if lang not in QUESTION_LANGS:
            raise DatasetError(
                f"lang {lang!r} is not one of {', '.join(sorted(QUESTION_LANGS))}", path=path, line=number
            )
        question = _check_text(obj["question"], "question", path, number)
        qtype = _check_label(obj["type"], "type", path, number)
        sub = _check_label(obj.get("sub"), "sub", path, number)
        gold = obj["gold"]
        for para in gold:
            if not _is_int(para) or para < 1:
                raise DatasetError(f"gold paragraph {para!r} is not a positive integer", path=path, line=number)
        if len(set(gold)) != len(gold):
            raise DatasetError(f"gold {gold!r} repeats a paragraph", path=path, line=number)
        if sub is not None and len(gold) != 1:
            raise DatasetError(f"sub {sub!r} needs exactly one gold paragraph, got {gold!r}", path=path, line=number)
        answers = _check_answers(obj.get("answers", []), "answers", path, number)
        if answers and not gold:
            raise DatasetError("an unanswerable question (gold: []) cannot have answers", path=path, line=number)
        queries.append(Query(id=qid, text=question, lang=lang, type=qtype, sub=sub, answers=answers))
        qrels[qid] = {unit_id(doc, para): 1 for para in gold}
    if not queries:
        raise DatasetError("contains no questions", path=path)
    return Dataset(name=name or path.stem, queries=tuple(queries), qrels=qrels)
