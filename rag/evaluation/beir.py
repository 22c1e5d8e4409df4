"""BEIR folders: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``, read and written.

The de facto exchange format of retrieval benchmarks, so any BEIR set runs on this product and ours
run on any BEIR-compatible system. Unanswerable queries are marked ``metadata.unanswerable``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rag.evaluation.datasets import (
    _SPLIT_RE,
    BEIR_QRELS_HEADER,
    CorpusDoc,
    Dataset,
    DatasetError,
    Query,
    _check_answers,
    _check_id,
    _check_label,
    _check_text,
    _json_objects,
    _lines,
    _parse_int,
    _record_first_line,
)

__all__ = ["load_beir", "load_beir_corpus", "write_beir"]


def load_beir_corpus(path: Path) -> list[CorpusDoc]:
    """A BEIR ``corpus.jsonl``: ``{"_id", "title"?, "text"}`` per line (other keys are ignored)."""
    path = Path(path)
    docs: list[CorpusDoc] = []
    first_line: dict[str, int] = {}
    for number, obj in _json_objects(path):
        if "_id" not in obj:
            raise DatasetError("missing key: _id", path=path, line=number)
        doc_id = _check_id(obj["_id"], "_id", path, number)
        _record_first_line(first_line, doc_id, f"_id {doc_id!r}", path, number)
        if "text" not in obj:
            raise DatasetError("missing key: text", path=path, line=number)
        text, title = obj["text"], obj.get("title", "")
        if not isinstance(text, str):
            raise DatasetError(f"text must be a string, not {type(text).__name__}", path=path, line=number)
        if not isinstance(title, str):
            raise DatasetError(f"title must be a string, not {type(title).__name__}", path=path, line=number)
        docs.append(CorpusDoc(id=doc_id, title=title, text=text))
    if not docs:
        raise DatasetError("contains no documents", path=path)
    return docs


def _load_beir_queries(path: Path) -> list[tuple[int, Query, bool]]:
    """``queries.jsonl`` lines as (line, query, marked unanswerable)."""
    out: list[tuple[int, Query, bool]] = []
    first_line: dict[str, int] = {}
    for number, obj in _json_objects(path):
        if "_id" not in obj:
            raise DatasetError("missing key: _id", path=path, line=number)
        qid = _check_id(obj["_id"], "_id", path, number)
        _record_first_line(first_line, qid, f"_id {qid!r}", path, number)
        if "text" not in obj:
            raise DatasetError("missing key: text", path=path, line=number)
        text = _check_text(obj["text"], "query text", path, number)
        meta = obj.get("metadata")
        meta = {} if meta is None else meta
        if not isinstance(meta, dict):
            raise DatasetError("metadata must be an object", path=path, line=number)
        labels = {key: _check_label(meta.get(key), f"metadata.{key}", path, number) for key in ("lang", "type", "sub")}
        unanswerable = meta.get("unanswerable", False)
        if not isinstance(unanswerable, bool):
            raise DatasetError(
                f"metadata.unanswerable must be true or false, not {unanswerable!r}", path=path, line=number
            )
        answers = _check_answers(meta.get("answers", []), "metadata.answers", path, number)
        out.append((number, Query(id=qid, text=text, **labels, answers=answers), unanswerable))
    if not out:
        raise DatasetError("contains no queries", path=path)
    return out


def load_beir(directory: Path, *, split: str = "test") -> Dataset:
    """A BEIR folder: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``.

    The dataset holds the queries judged in the split, in ``queries.jsonl`` order, plus those
    whose ``metadata.unanswerable`` is true (our extension, written by ``write_beir``; they get
    empty qrels). Other queries in ``queries.jsonl`` belong to other splits and are not included.
    Query ``metadata`` may carry ``lang``, ``type``, ``sub`` and ``answers`` (gold answer strings).
    Scores must be ints >= 1.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetError("BEIR folder not found" if not directory.exists() else "not a folder", path=directory)
    if not _SPLIT_RE.fullmatch(split):
        raise DatasetError(f"bad split name {split!r}", path=directory)
    corpus = load_beir_corpus(directory / "corpus.jsonl")
    corpus_ids = {doc.id for doc in corpus}
    queries_path = directory / "queries.jsonl"
    query_rows = _load_beir_queries(queries_path)
    query_line = {query.id: number for number, query, _ in query_rows}
    marked = {query.id for _, query, flag in query_rows if flag}

    qrels_path = directory / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        available = sorted(p.stem for p in (directory / "qrels").glob("*.tsv"))
        hint = f" (splits present: {', '.join(available)})" if available else ""
        raise DatasetError(f"qrels file for split {split!r} not found{hint}", path=qrels_path)
    judged: dict[str, dict[str, int]] = {}
    pair_line: dict[tuple[str, str], int] = {}
    header_seen = False
    for number, line in _lines(qrels_path):
        fields = [f.strip() for f in line.split("\t")]
        if not header_seen:
            if tuple(fields) != BEIR_QRELS_HEADER:
                raise DatasetError(
                    f"expected the header {chr(9).join(BEIR_QRELS_HEADER)!r}, got {line!r}",
                    path=qrels_path,
                    line=number,
                )
            header_seen = True
            continue
        if len(fields) != 3:
            raise DatasetError(
                f"expected 3 tab-separated fields, got {len(fields)}: {line!r}", path=qrels_path, line=number
            )
        qid, doc_id, score_text = fields
        if qid not in query_line:
            raise DatasetError(f"unknown query id {qid!r} (not in {queries_path.name})", path=qrels_path, line=number)
        if doc_id not in corpus_ids:
            raise DatasetError(f"unknown corpus id {doc_id!r} (not in corpus.jsonl)", path=qrels_path, line=number)
        if qid in marked:
            raise DatasetError(
                f"query {qid!r} is judged here but marked unanswerable "
                f"on line {query_line[qid]} of {queries_path.name}",
                path=qrels_path,
                line=number,
            )
        score = _parse_int(score_text, "score", qrels_path, number)
        if score < 1:
            raise DatasetError(
                f"score {score} for ({qid!r}, {doc_id!r}): relevance must be >= 1 "
                "(judged-non-relevant 0 rows are not supported)",
                path=qrels_path,
                line=number,
            )
        _record_first_line(pair_line, (qid, doc_id), f"judgment for ({qid!r}, {doc_id!r})", qrels_path, number)
        judged.setdefault(qid, {})[doc_id] = score
    if not header_seen:
        raise DatasetError("empty qrels file (not even a header)", path=qrels_path)
    queries = tuple(query for _, query, flag in query_rows if flag or query.id in judged)
    if not queries:
        raise DatasetError(f"no judgments and no unanswerable queries for split {split!r}", path=qrels_path)
    qrels = {query.id: judged.get(query.id, {}) for query in queries}
    return Dataset(name=directory.name, queries=queries, qrels=qrels, corpus=tuple(corpus))


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def write_beir(dataset: Dataset, directory: Path, *, split: str = "test") -> None:
    """Write ``dataset`` as a BEIR folder (created if needed; the three files are overwritten).

    Unanswerable queries are written with ``"metadata": {"unanswerable": true}`` since a TREC/BEIR
    qrels file cannot list a query without a document. ``load_beir`` reads the folder back equal.
    """
    directory = Path(directory)
    if dataset.corpus is None:
        raise DatasetError(f"dataset {dataset.name!r} has no corpus; a BEIR folder needs corpus.jsonl", path=directory)
    if not _SPLIT_RE.fullmatch(split):
        raise DatasetError(f"bad split name {split!r}", path=directory)
    if not dataset.queries:
        raise DatasetError(f"dataset {dataset.name!r} has no queries", path=directory)
    corpus_rows = [{"_id": d.id, "title": d.title, "text": d.text} for d in dataset.corpus]
    query_rows: list[dict[str, Any]] = []
    for query in dataset.queries:
        row: dict[str, Any] = {"_id": query.id, "text": query.text}
        meta = {k: v for k, v in (("lang", query.lang), ("type", query.type), ("sub", query.sub)) if v is not None}
        if query.answers:
            meta["answers"] = list(query.answers)
        if not dataset.qrels[query.id]:
            meta["unanswerable"] = True
        if meta:
            row["metadata"] = meta
        query_rows.append(row)
    tsv = ["\t".join(BEIR_QRELS_HEADER) + "\n"]
    for qid, judged in dataset.qrels.items():
        tsv.extend(f"{qid}\t{doc_id}\t{rel}\n" for doc_id, rel in judged.items())
    (directory / "qrels").mkdir(parents=True, exist_ok=True)
    (directory / "corpus.jsonl").write_text(_jsonl(corpus_rows), encoding="utf-8", newline="\n")
    (directory / "queries.jsonl").write_text(_jsonl(query_rows), encoding="utf-8", newline="\n")
    (directory / "qrels" / f"{split}.tsv").write_text("".join(tsv), encoding="utf-8", newline="\n")
