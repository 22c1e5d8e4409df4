"""SQuAD-style JSON (XQuAD and any SQuAD file) as a retrieval dataset: contexts become the corpus.

Context ids depend only on article title and paragraph position, so parallel files (XQuAD zh / en)
give the same corpus and query ids; SQuAD 2.0 ``is_impossible`` questions are unanswerable.
"""

from __future__ import annotations

import re
from pathlib import Path

from rag.evaluation.datasets import (
    CorpusDoc,
    Dataset,
    DatasetError,
    Query,
    _id_problem,
    _parse_json,
    _read_text,
)

__all__ = ["load_squad", "squad_context_id"]


def _slug(title: str) -> str:
    return "-".join(re.findall(r"[^\W_]+", title)).lower()


def squad_context_id(title: str, paragraph_index: int) -> str:
    """The corpus id of paragraph ``paragraph_index`` (0-based) of the SQuAD article ``title``."""
    return f"{_slug(title)}-p{paragraph_index}"


def _answer_texts(qa: dict, where: str, fail) -> tuple[str, ...]:
    """The question's distinct gold answer strings (SQuAD ``answers[].text``; none for an impossible one)."""
    answers = qa.get("answers", [])
    if not isinstance(answers, list) or not all(isinstance(a, dict) for a in answers):
        raise fail(where, "answers must be a list of objects")
    texts = [a.get("text") for a in answers]
    if not all(isinstance(t, str) for t in texts):
        raise fail(where, "every answer needs a text string")
    return tuple(dict.fromkeys(t.strip() for t in texts if t.strip()))


def load_squad(path: Path, *, lang: str | None = None, name: str | None = None) -> Dataset:
    """A SQuAD 1.1/2.0 JSON file as a retrieval set: contexts are the corpus, questions the queries.

    Each question is relevant (1) to the context it was asked about; ``is_impossible`` questions
    get empty qrels. A context whose text repeats an earlier one maps to the earlier id. Note that
    ``CorpusDoc.title`` is the article title, which XQuAD keeps in English in every language:
    do not index it when evaluating a non-English corpus. Each query carries its gold answer
    strings (``Query.answers``), so an evaluation can check that an answer quotes one.
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
                queries.append(Query(id=qid, text=question, lang=lang, answers=_answer_texts(qa, qwhere, fail)))
                qrels[qid] = {} if impossible else {doc_id: 1}
    if not corpus:
        raise DatasetError("contains no contexts", path=path)
    return Dataset(name=name or path.stem, queries=tuple(queries), qrels=qrels, corpus=tuple(corpus))
