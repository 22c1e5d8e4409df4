"""XQuAD as a parallel library: each article one document with a Chinese and an English version.

XQuAD's Chinese and English files are translations of the same 48 articles, paragraph for
paragraph, so they model a UN document's official language versions: units align by
position. The measure (issue 10): English questions searched over the Chinese versions only;
among those whose gold Chinese paragraph is retrieved first, the share whose answer quotes
the English version of that same paragraph beside the Chinese one, under the same key.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.catalogue import Catalogue, DocumentMeta, save_catalogue
from rag.filters import SearchFilter
from rag.qa import QuestionAnswerer

__all__ = ["ParallelQuestion", "measure_aligned_quotes", "write_parallel_library"]


@dataclass(frozen=True, slots=True)
class ParallelQuestion:
    id: str
    question: str  # English
    key: str  # the document (version_of) of the article
    para: int  # 1-based paragraph position
    english: str  # gold English paragraph text


def _articles(xquad_dir: Path, language: str) -> list[dict]:
    return json.loads((xquad_dir / f"xquad.{language}.json").read_text(encoding="utf-8"))["data"]


def write_parallel_library(xquad_dir: Path, folder: Path, articles: Sequence[int] | None = None) -> list[ParallelQuestion]:
    """Write the chosen articles (default: all) as ``xquad-NN.zh.txt`` / ``.en.txt`` with a catalogue.

    Raises:
        ValueError: the two files disagree on an article's paragraph count.
    """
    zh, en = _articles(xquad_dir, "zh"), _articles(xquad_dir, "en")
    folder.mkdir(parents=True, exist_ok=True)
    metas: list[DocumentMeta] = []
    questions: list[ParallelQuestion] = []
    for number in articles if articles is not None else range(len(en)):
        zh_article, en_article = zh[number], en[number]
        if len(zh_article["paragraphs"]) != len(en_article["paragraphs"]):
            raise ValueError(f"article {number}: {len(zh_article['paragraphs'])} Chinese and {len(en_article['paragraphs'])} English paragraphs")
        key = f"xquad-{number:02d}"
        for language, article in (("zh", zh_article), ("en", en_article)):
            name = f"{key}.{language}.txt"
            (folder / name).write_text("\n\n".join(p["context"].strip() for p in article["paragraphs"]) + "\n", encoding="utf-8")
            title = en_article["title"].replace("_", " ")
            metas.append(DocumentMeta(file=name, id=f"{key}.{language}", language=language, title=title, version_of=key))
        for position, paragraph in enumerate(en_article["paragraphs"], start=1):
            for qa in paragraph["qas"]:
                questions.append(ParallelQuestion(qa["id"], qa["question"], key, position, paragraph["context"].strip()))
    save_catalogue(folder, Catalogue(documents=tuple(metas)))
    return questions


def measure_aligned_quotes(answerer: QuestionAnswerer, questions: Sequence[ParallelQuestion], k: int = 5) -> dict[str, object]:
    """Ask every English question over the Chinese versions; count aligned English quotes."""
    chinese_only = SearchFilter.of(language="zh")
    counts = {"questions": len(questions), "chinese_first": 0, "answered": 0, "aligned_quoted": 0, "aligned_version": 0, "quoted_in_english": 0}
    failures: list[dict[str, object]] = []
    started = time.perf_counter()
    for question in questions:
        result = answerer.ask(question.question, k=k, where=chinese_only)
        gold_zh, gold_en = f"{question.key}.zh/{question.para}", f"{question.key}.en/{question.para}"
        hits = result.search.hits
        if not hits or hits[0].unit.id != gold_zh:
            continue
        counts["chinese_first"] += 1
        answer = result.answer
        cited = next((c for c in (*answer.citations, *answer.see_also) if c.id == gold_zh), None)
        english = next((v for v in cited.versions if v.language == "en"), None) if cited else None
        aligned = english is not None and english.id == gold_en and english.para == cited.para and english.text == question.english
        quoted = english is not None and not answer.refused and any(english.text[s:e].strip() in answer.answer for s, e in english.spans)
        counts["aligned_version"] += aligned
        counts["answered"] += not answer.refused
        counts["quoted_in_english"] += quoted
        counts["aligned_quoted"] += aligned and quoted
        if not (aligned and quoted) and len(failures) < 20:
            failures.append({"id": question.id, "question": question.question, "refused": answer.refused, "answer": answer.answer[:200]})
    first = max(counts["chinese_first"], 1)
    return {
        **counts,
        "aligned_quoted_share": round(counts["aligned_quoted"] / first, 4),
        "aligned_version_share": round(counts["aligned_version"] / first, 4),
        # of the answers given (the verifier refuses some evidence): how many quote the aligned English paragraph
        "aligned_quoted_share_of_answered": round(counts["aligned_quoted"] / max(counts["answered"], 1), 4),
        "answered_share": round(counts["answered"] / first, 4),
        "chinese_first_share": round(counts["chinese_first"] / max(len(questions), 1), 4),
        "seconds": round(time.perf_counter() - started, 1),
        "failures": failures,
    }
