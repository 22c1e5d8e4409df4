"""Labelled retrieval datasets: load and write them in standard formats, and validate them strictly.

Why these formats
-----------------
Evaluation must be comparable with the outside world and checkable with outside tools, so the
datasets are read and written in the formats retrieval people already use:

* **SQuAD JSON** (``load_squad``) - reading-comprehension sets such as XQuAD turn into retrieval
  sets: every context paragraph becomes a corpus document and every question is relevant to the
  paragraph it was asked about (SQuAD 2.0 ``is_impossible`` questions are unanswerable).
* **The product's question JSONL** (``load_question_jsonl``) - hand-written questions about a
  document that is indexed by the product (see ``eval/seed_questions.jsonl``).
* **BEIR folders** (``load_beir``, ``write_beir``, ``load_beir_corpus``) - ``corpus.jsonl``,
  ``queries.jsonl``, ``qrels/<split>.tsv``; the de facto exchange format for retrieval benchmarks,
  so any BEIR-compatible system can be run on our sets and any BEIR set on ours.
* **TREC qrels and runs** (``write_trec_qrels``, ``read_trec_qrels``, ``write_trec_run``,
  ``read_trec_run``) - read by ``trec_eval`` and by ranx (``Qrels.from_file(p, kind="trec")``,
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
import math
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from typing import Any

from rag.units import unit_id

__all__ = [
    "BEIR_QRELS_HEADER",
    "QUESTION_LANGS",
    "CorpusDoc",
    "Dataset",
    "DatasetError",
    "Query",
    "load_beir",
    "load_beir_corpus",
    "load_question_jsonl",
    "load_squad",
    "read_trec_qrels",
    "read_trec_run",
    "sort_run",
    "squad_context_id",
    "validate_against_corpus",
    "write_beir",
    "write_trec_qrels",
    "write_trec_run",
]

QUESTION_LANGS = frozenset({"zh", "en"})
BEIR_QRELS_HEADER = ("query-id", "corpus-id", "score")

_QUESTION_REQUIRED: dict[str, type] = {"id": str, "lang": str, "question": str, "gold": list, "type": str}
_QUESTION_KEYS = frozenset({*_QUESTION_REQUIRED, "sub"})
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
    """One labelled question. ``lang``, ``type`` and ``sub`` are optional labels for slicing."""

    id: str
    text: str
    lang: str | None = None
    type: str | None = None
    sub: str | None = None

    def __post_init__(self) -> None:
        if (problem := _id_problem(self.id)) is not None:
            raise DatasetError(f"query id {self.id!r} {problem}")
        if not isinstance(self.text, str) or not self.text.strip():
            raise DatasetError(f"query {self.id!r}: text must be a non-empty string")
        for name in ("lang", "type", "sub"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise DatasetError(f"query {self.id!r}: {name} must be a non-empty string or None")


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


def _parse_int(token: str, what: str, path: Path, line: int) -> int:
    if not re.fullmatch(r"[+-]?\d+", token):
        raise DatasetError(f"{what} {token!r} is not an integer", path=path, line=line)
    return int(token)


# ---------------------------------------------------------------------------------------------
# SQuAD
# ---------------------------------------------------------------------------------------------


def _slug(title: str) -> str:
    return "-".join(re.findall(r"[^\W_]+", title)).lower()


def squad_context_id(title: str, paragraph_index: int) -> str:
    """The corpus id of paragraph ``paragraph_index`` (0-based) of the SQuAD article ``title``."""
    return f"{_slug(title)}-p{paragraph_index}"


def load_squad(path: Path, *, lang: str | None = None, name: str | None = None) -> Dataset:
    """A SQuAD 1.1/2.0 JSON file as a retrieval set: contexts are the corpus, questions the queries.

    Each question is relevant (1) to the context it was asked about; ``is_impossible`` questions
    get empty qrels. A context whose text repeats an earlier one maps to the earlier id. Note that
    ``CorpusDoc.title`` is the article title, which XQuAD keeps in English in every language:
    do not index it when evaluating a non-English corpus.
    """
    path = Path(path)
    root = _parse_json(_read_text(path), path, None)
    if not isinstance(root, dict) or not isinstance(root.get("data"), list):
        raise DatasetError('expected a SQuAD object {"data": [articles…]}', path=path)

    def fail(where: str, reason: str) -> DatasetError:
        return DatasetError(f"{where}: {reason}", path=path)

    corpus: list[CorpusDoc] = []
    id_by_text: dict[str, str] = {}
    slug_owner: dict[str, str] = {}
    queries: list[Query] = []
    qrels: dict[str, dict[str, int]] = {}
    query_where: dict[str, str] = {}
    for a, article in enumerate(root["data"]):
        where = f"data[{a}]"
        if not isinstance(article, dict):
            raise fail(where, "article must be an object")
        title = article.get("title")
        if not isinstance(title, str) or not title.strip():
            raise fail(where, f"title must be a non-empty string, not {title!r}")
        slug = _slug(title)
        if not slug:
            raise fail(where, f"title {title!r} has no letters or digits to build an id from")
        if slug in slug_owner:
            raise fail(where, f"title {title!r} gives the same id prefix {slug!r} as {slug_owner[slug]}")
        slug_owner[slug] = f"{where} (title {title!r})"
        paragraphs = article.get("paragraphs")
        if not isinstance(paragraphs, list):
            raise fail(where, "paragraphs must be a list")
        for p, paragraph in enumerate(paragraphs):
            pwhere = f"{where}.paragraphs[{p}]"
            if not isinstance(paragraph, dict):
                raise fail(pwhere, "paragraph must be an object")
            context = paragraph.get("context")
            if not isinstance(context, str) or not context.strip():
                raise fail(pwhere, "context must be a non-empty string")
            doc_id = id_by_text.setdefault(context, squad_context_id(title, p))
            if doc_id == squad_context_id(title, p):
                corpus.append(CorpusDoc(id=doc_id, title=title, text=context))
            qas = paragraph.get("qas")
            if not isinstance(qas, list):
                raise fail(pwhere, "qas must be a list")
            for q, qa in enumerate(qas):
                qwhere = f"{pwhere}.qas[{q}]"
                if not isinstance(qa, dict):
                    raise fail(qwhere, "question must be an object")
                qid = qa.get("id")
                if (problem := _id_problem(qid)) is not None:
                    raise fail(qwhere, f"id {qid!r} {problem}")
                if qid in query_where:
                    raise fail(qwhere, f"duplicate question id {qid!r} (first at {query_where[qid]})")
                query_where[qid] = qwhere
                question = qa.get("question")
                if not isinstance(question, str) or not question.strip():
                    raise fail(qwhere, f"question {qid!r} has empty or missing text")
                impossible = qa.get("is_impossible", False)
                if not isinstance(impossible, bool):
                    raise fail(qwhere, f"is_impossible must be true or false, not {impossible!r}")
                queries.append(Query(id=qid, text=question, lang=lang))
                qrels[qid] = {} if impossible else {doc_id: 1}
    if not corpus:
        raise DatasetError("contains no contexts", path=path)
    return Dataset(name=name or path.stem, queries=tuple(queries), qrels=qrels, corpus=tuple(corpus))


# ---------------------------------------------------------------------------------------------
# The product's question JSONL
# ---------------------------------------------------------------------------------------------


def load_question_jsonl(path: Path, *, doc: str, name: str | None = None) -> Dataset:
    """Questions about one indexed document, one JSON object per line.

    ``{"id", "lang", "question", "gold": [para, …], "type", "sub"?}``; ``gold: []`` means
    unanswerable. Qrels name paragraph unit ids ``f"{doc}/{para}"`` with relevance 1.
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
        if qid in first_line:
            raise DatasetError(f"duplicate id {qid!r} (first on line {first_line[qid]})", path=path, line=number)
        first_line[qid] = number
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
        queries.append(Query(id=qid, text=question, lang=lang, type=qtype, sub=sub))
        qrels[qid] = {unit_id(doc, para): 1 for para in gold}
    if not queries:
        raise DatasetError("contains no questions", path=path)
    return Dataset(name=name or path.stem, queries=tuple(queries), qrels=qrels)


# ---------------------------------------------------------------------------------------------
# BEIR
# ---------------------------------------------------------------------------------------------


def load_beir_corpus(path: Path) -> list[CorpusDoc]:
    """A BEIR ``corpus.jsonl``: ``{"_id", "title"?, "text"}`` per line (other keys are ignored)."""
    path = Path(path)
    docs: list[CorpusDoc] = []
    first_line: dict[str, int] = {}
    for number, obj in _json_objects(path):
        if "_id" not in obj:
            raise DatasetError("missing key: _id", path=path, line=number)
        doc_id = _check_id(obj["_id"], "_id", path, number)
        if doc_id in first_line:
            raise DatasetError(f"duplicate _id {doc_id!r} (first on line {first_line[doc_id]})", path=path, line=number)
        first_line[doc_id] = number
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
        if qid in first_line:
            raise DatasetError(f"duplicate _id {qid!r} (first on line {first_line[qid]})", path=path, line=number)
        first_line[qid] = number
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
        out.append((number, Query(id=qid, text=text, **labels), unanswerable))
    if not out:
        raise DatasetError("contains no queries", path=path)
    return out


def load_beir(directory: Path, *, split: str = "test") -> Dataset:
    """A BEIR folder: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``.

    The dataset holds the queries judged in the split, in ``queries.jsonl`` order, plus those
    whose ``metadata.unanswerable`` is true (our extension, written by ``write_beir``; they get
    empty qrels). Other queries in ``queries.jsonl`` belong to other splits and are not included.
    Query ``metadata`` may carry ``lang``, ``type`` and ``sub``. Scores must be ints >= 1.
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
        if (qid, doc_id) in pair_line:
            raise DatasetError(
                f"duplicate judgment for ({qid!r}, {doc_id!r}) (first on line {pair_line[qid, doc_id]})",
                path=qrels_path,
                line=number,
            )
        pair_line[qid, doc_id] = number
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


# ---------------------------------------------------------------------------------------------
# TREC
# ---------------------------------------------------------------------------------------------


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
        if (qid, doc_id) in pair_line:
            raise DatasetError(
                f"duplicate judgment for ({qid!r}, {doc_id!r}) (first on line {pair_line[qid, doc_id]})",
                path=path,
                line=number,
            )
        pair_line[qid, doc_id] = number
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
        if (qid, doc_id) in pair_line:
            raise DatasetError(
                f"duplicate result ({qid!r}, {doc_id!r}) (first on line {pair_line[qid, doc_id]})",
                path=path,
                line=number,
            )
        pair_line[qid, doc_id] = number
        run.setdefault(qid, {})[doc_id] = score
    if not run:
        raise DatasetError("contains no results", path=path)
    return run
