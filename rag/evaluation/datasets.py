"""Labelled retrieval datasets: the data model, strict validation, and the readers the formats share.

Why these formats
-----------------
Evaluation must be comparable with the outside world and checkable with outside tools, so the
datasets are read and written in the formats retrieval people already use:

* **SQuAD JSON** (``rag.evaluation.squad``) - reading-comprehension sets such as XQuAD turn into retrieval
  sets: every context paragraph becomes a corpus document and every question is relevant to the
  paragraph it was asked about (SQuAD 2.0 ``is_impossible`` questions are unanswerable).
* **The product's question JSONL** (``rag.evaluation.questions``) - hand-written questions about a
  document that is indexed by the product (see ``eval/seed_questions.jsonl``).
* **BEIR folders** (``rag.evaluation.beir``) - ``corpus.jsonl``,
  ``queries.jsonl``, ``qrels/<split>.tsv``; the de facto exchange format for retrieval benchmarks,
  so any BEIR-compatible system can be run on our sets and any BEIR set on ours.
* **TREC qrels and runs** (``rag.evaluation.trec``) - read by ``trec_eval`` and by ranx (``Qrels.from_file(p, kind="trec")``,
  ``Run.from_file(p, kind="trec")``), so every score we report can be recomputed independently.

The in-memory shapes are the ones ranx takes directly: qrels ``{query id: {doc id: relevance}}``,
runs ``{query id: {doc id: score}}``.

Id conventions
--------------
* Ids are non-empty strings without whitespace (TREC files are whitespace-separated).
* Product units: ``"<doc>/<para>"`` for a numbered paragraph, ``"<doc>/<para>/<sub-slug>"`` for a
  sub-unit (``000_75fc5355e1129b16/26``, ``000_75fc5355e1129b16/85/target-11``); see
  ``rag.units.unit_id``. Question-JSONL gold is judged at *paragraph* level: qrels name paragraph
  ids, and the runner maps a hit on a sub-unit to its paragraph (``Unit.parent``). The labelled
  sub-unit stays on the query (``Query.sub``, raw label such as ``"target 11"``).
* BEIR corpus lines: the unit id (and doc id) is the line's ``_id``.
* SQuAD contexts: ``"<title-slug>-p<i>"`` with ``i`` the 0-based paragraph index inside its
  article and the slug the lower-cased title with runs of non-alphanumerics turned into ``-``
  (``Super_Bowl_50`` paragraph 0 -> ``super-bowl-50-p0``). The id depends only on title and
  position, so parallel files (XQuAD zh / en) give the same corpus ids and the same query ids.
* Relevance is an int >= 1; a query whose qrels dict is empty is *unanswerable* (the right answer
  is to abstain). Every query of a ``Dataset`` has a qrels entry, possibly empty.

Validation
----------
Every failure raises ``DatasetError`` (a ``ValueError``) whose message starts with
``<file>:<line>:`` where there is a line (1-based), else ``<file>:``. Nothing is skipped silently;
only blank lines are ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BEIR_QRELS_HEADER",
    "QUESTION_LANGS",
    "CorpusDoc",
    "Dataset",
    "DatasetError",
    "Query",
    "validate_against_corpus",
]

QUESTION_LANGS = frozenset({"zh", "en"})
BEIR_QRELS_HEADER = ("query-id", "corpus-id", "score")

_QUESTION_REQUIRED: dict[str, type] = {"id": str, "lang": str, "question": str, "gold": list, "type": str}
_QUESTION_KEYS = frozenset({*_QUESTION_REQUIRED, "sub", "answers"})
_SPLIT_RE = re.compile(r"[\w.-]+")
_WS_RE = re.compile(r"\s")


class DatasetError(ValueError):
    """A dataset file (or in-memory dataset) is missing, malformed or inconsistent.

    ``path`` and ``line`` (1-based) say where, when known; ``reason`` is the bare message.
    """

    def __init__(self, reason: str, *, path: Path | str | None = None, line: int | None = None) -> None:
        self.reason = reason
        self.path = None if path is None else str(path)
        self.line = line
        where = self.path if line is None or self.path is None else f"{self.path}:{line}"
        super().__init__(reason if where is None else f"{where}: {reason}")


# ---------------------------------------------------------------------------------------------
# Data model
# ---------------------------------------------------------------------------------------------


def _id_problem(value: object) -> str | None:
    """Why ``value`` is not a valid id, or None."""
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    if not value:
        return "must not be empty"
    if _WS_RE.search(value):
        return "must not contain whitespace"
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class CorpusDoc:
    """One retrievable document (a unit, a BEIR corpus line, a SQuAD context)."""

    id: str
    title: str
    text: str

    def __post_init__(self) -> None:
        if (problem := _id_problem(self.id)) is not None:
            raise DatasetError(f"corpus doc id {self.id!r} {problem}")
        if not isinstance(self.title, str) or not isinstance(self.text, str):
            raise DatasetError(f"corpus doc {self.id!r}: title and text must be strings")


@dataclass(frozen=True, slots=True)
class Query:
    """One labelled question. ``lang``, ``type`` and ``sub`` are optional labels for slicing;
    ``answers`` the gold answer strings when the set has them (SQuAD), to check that an answer
    quotes one."""

    id: str
    text: str
    lang: str | None = None
    type: str | None = None
    sub: str | None = None
    answers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (problem := _id_problem(self.id)) is not None:
            raise DatasetError(f"query id {self.id!r} {problem}")
        if not isinstance(self.text, str) or not self.text.strip():
            raise DatasetError(f"query {self.id!r}: text must be a non-empty string")
        for name in ("lang", "type", "sub"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise DatasetError(f"query {self.id!r}: {name} must be a non-empty string or None")
        if not isinstance(self.answers, tuple) or not all(isinstance(a, str) and a.strip() for a in self.answers):
            raise DatasetError(f"query {self.id!r}: answers must be a tuple of non-empty strings")


@dataclass(frozen=True, slots=True)
class Dataset:
    """Queries, their relevance judgments and, when known, the corpus they are judged against.

    ``qrels`` maps every query id to ``{doc id: relevance >= 1}``; an empty dict marks an
    unanswerable query. It is normalised to query order on construction. ``corpus`` is None
    when the documents live elsewhere (e.g. product units in the index).
    """

    name: str
    queries: tuple[Query, ...]
    qrels: dict[str, dict[str, int]]
    corpus: tuple[CorpusDoc, ...] | None = None

    def __post_init__(self) -> None:
        queries = tuple(self.queries)
        corpus = None if self.corpus is None else tuple(self.corpus)
        prefix = f"dataset {self.name!r}: "
        ids: set[str] = set()
        for query in queries:
            if not isinstance(query, Query):
                raise DatasetError(prefix + f"queries must be Query objects, not {type(query).__name__}")
            if query.id in ids:
                raise DatasetError(prefix + f"duplicate query id {query.id!r}")
            ids.add(query.id)
        if not isinstance(self.qrels, Mapping):
            raise DatasetError(prefix + "qrels must be a mapping of query id -> {doc id: relevance}")
        if extra := [q for q in self.qrels if q not in ids]:
            raise DatasetError(prefix + f"qrels name unknown query id(s): {_preview(extra)}")
        if missing := [q.id for q in queries if q.id not in self.qrels]:
            raise DatasetError(
                prefix + f"query id(s) without a qrels entry (use {{}} for unanswerable): {_preview(missing)}"
            )
        corpus_ids: set[str] | None = None
        if corpus is not None:
            corpus_ids = set()
            for doc in corpus:
                if not isinstance(doc, CorpusDoc):
                    raise DatasetError(prefix + f"corpus must hold CorpusDoc objects, not {type(doc).__name__}")
                if doc.id in corpus_ids:
                    raise DatasetError(prefix + f"duplicate corpus doc id {doc.id!r}")
                corpus_ids.add(doc.id)
        qrels: dict[str, dict[str, int]] = {}
        for query in queries:
            judged = self.qrels[query.id]
            if not isinstance(judged, Mapping):
                raise DatasetError(prefix + f"qrels[{query.id!r}] must be a mapping of doc id -> relevance")
            for doc_id, rel in judged.items():
                if (problem := _id_problem(doc_id)) is not None:
                    raise DatasetError(prefix + f"qrels[{query.id!r}]: doc id {doc_id!r} {problem}")
                if not _is_int(rel) or rel < 1:
                    raise DatasetError(
                        prefix + f"qrels[{query.id!r}][{doc_id!r}] = {rel!r}: relevance must be an int >= 1"
                    )
                if corpus_ids is not None and doc_id not in corpus_ids:
                    raise DatasetError(
                        prefix + f"qrels[{query.id!r}] names doc id {doc_id!r}, which is not in the corpus"
                    )
            qrels[query.id] = dict(judged)
        object.__setattr__(self, "queries", queries)
        object.__setattr__(self, "qrels", qrels)
        object.__setattr__(self, "corpus", corpus)

    @property
    def query_ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.queries)

    @property
    def answerable_ids(self) -> tuple[str, ...]:
        """Ids of queries with at least one relevant document, in query order."""
        return tuple(q.id for q in self.queries if self.qrels[q.id])

    @property
    def unanswerable_ids(self) -> tuple[str, ...]:
        """Ids of queries with no relevant document (the system should abstain), in query order."""
        return tuple(q.id for q in self.queries if not self.qrels[q.id])

    def is_answerable(self, query_id: str) -> bool:
        return bool(self.qrels[query_id])

    def select(
        self,
        *,
        lang: str | None = None,
        answerable: bool | None = None,
        where: Callable[[Query], bool] | None = None,
        name: str | None = None,
    ) -> Dataset:
        """A sub-dataset: only the queries matching every given filter (corpus kept whole)."""
        kept = tuple(
            q
            for q in self.queries
            if (lang is None or q.lang == lang)
            and (answerable is None or bool(self.qrels[q.id]) == answerable)
            and (where is None or where(q))
        )
        return Dataset(
            name=self.name if name is None else name,
            queries=kept,
            qrels={q.id: self.qrels[q.id] for q in kept},
            corpus=self.corpus,
        )


def _preview(items: list[str], limit: int = 10) -> str:
    shown = ", ".join(repr(i) for i in items[:limit])
    return shown + (f" (and {len(items) - limit} more)" if len(items) > limit else "")


def validate_against_corpus(dataset: Dataset, known_ids: Collection[str]) -> None:
    """Raise DatasetError if any judged doc id is not in ``known_ids`` (e.g. the index's unit ids).

    The message lists up to 10 unknown ids, each with the first query that names it.
    """
    known = known_ids if isinstance(known_ids, (set, frozenset)) else set(known_ids)
    unknown: dict[str, str] = {}
    for query_id, judged in dataset.qrels.items():
        for doc_id in judged:
            if doc_id not in known and doc_id not in unknown:
                unknown[doc_id] = query_id
    if unknown:
        items = [f"{doc_id!r} (query {query_id!r})" for doc_id, query_id in unknown.items()]
        shown = ", ".join(items[:10]) + (f" (and {len(items) - 10} more)" if len(items) > 10 else "")
        raise DatasetError(
            f"dataset {dataset.name!r}: {len(unknown)} relevant id(s) not among the {len(known)} known ids: {shown}"
        )


# ---------------------------------------------------------------------------------------------
# Reading helpers
# ---------------------------------------------------------------------------------------------


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKey(key)
        obj[key] = value
    return obj


def _read_text(path: Path) -> str:
    path = Path(path)
    if not path.exists():
        raise DatasetError("file not found", path=path)
    if not path.is_file():
        raise DatasetError("not a file", path=path)
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DatasetError(f"not valid UTF-8 ({exc.reason} at byte {exc.start})", path=path, line=line) from None


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-blank lines with their 1-based numbers. Splits on '\\n' only: JSON strings may hold U+2028."""
    for number, line in enumerate(_read_text(path).split("\n"), start=1):
        line = line.rstrip("\r")
        if line.strip():
            yield number, line


def _parse_json(text: str, path: Path, line: int | None) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as exc:
        raise DatasetError(f"duplicate key {exc.args[0]!r} in a JSON object", path=path, line=line) from None
    except json.JSONDecodeError as exc:
        where = line if line is not None else exc.lineno
        raise DatasetError(f"invalid JSON: {exc.msg} (column {exc.colno})", path=path, line=where) from None


def _json_objects(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in _lines(path):
        obj = _parse_json(line, path, number)
        if not isinstance(obj, dict):
            raise DatasetError(f"expected a JSON object, got {type(obj).__name__}", path=path, line=number)
        yield number, obj


def _check_id(value: object, what: str, path: Path, line: int | None) -> str:
    if (problem := _id_problem(value)) is not None:
        raise DatasetError(f"{what} {value!r} {problem}", path=path, line=line)
    return value  # type: ignore[return-value]


def _check_text(value: object, what: str, path: Path, line: int | None) -> str:
    if not isinstance(value, str):
        raise DatasetError(f"{what} must be a string, not {type(value).__name__}", path=path, line=line)
    if not value.strip():
        raise DatasetError(f"{what} is empty", path=path, line=line)
    return value


def _check_label(value: object, what: str, path: Path, line: int | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise DatasetError(f"{what} must be a non-empty string or null, not {value!r}", path=path, line=line)
    return value


def _check_answers(value: object, what: str, path: Path, line: int | None) -> tuple[str, ...]:
    """Gold answer strings as a file lists them (pass ``[]`` when the key is absent)."""
    if not isinstance(value, list) or not all(isinstance(a, str) and a.strip() for a in value):
        raise DatasetError(f"{what} must be a list of non-empty strings", path=path, line=line)
    return tuple(value)


def _record_first_line(seen: dict[Any, int], key: object, what: str, path: Path, line: int) -> None:
    """Remember the line where ``key`` first appeared; a repeat is an error naming both lines."""
    if key in seen:
        raise DatasetError(f"duplicate {what} (first on line {seen[key]})", path=path, line=line)
    seen[key] = line


def _parse_int(token: str, what: str, path: Path, line: int) -> int:
    if not re.fullmatch(r"[+-]?\d+", token):
        raise DatasetError(f"{what} {token!r} is not an integer", path=path, line=line)
    return int(token)
