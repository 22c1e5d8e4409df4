"""Training and test data for the refusal verifier, built automatically from labelled sets.

Every example is one question asked against one index, with the verifier's features of the
evidence the answerer would quote and a label: 1 when the question is answerable from the
index *and* the first citation is a gold paragraph, else 0 (a wrong citation is worse than
no answer). Kinds of examples:

- ``answerable``: XQuAD zh/en and CMRC 2018 trial questions whose paragraph is indexed, and the
  seed set's answerable questions; XQuAD is asked in both languages over each language's index
  (sources ``xquad-zh``, ``xquad-en-zh``, ``xquad-en``, ``xquad-zh-en``: question > index);
- ``hard``: XQuAD questions whose gold paragraph was left out of the index while the other
  paragraphs of the same article stay in (on topic, not answered);
- ``removed``: every answerable XQuAD/CMRC question asked once more with its gold paragraph taken
  out of the search by a document filter (each paragraph is a document there), so the rest of
  its article competes -- the on-topic-but-not-answered case, as many times as there are
  answerable questions (``hard`` alone gives a few dozen);
- ``out-of-corpus``: questions about articles that are not indexed at all;
- ``written``: the seed set's written unanswerable questions (on topic, sharing its words).

Splits are by article (``article`` field), never by question: XQuAD and CMRC articles are
hashed into train/test. The seed set (the only UN document shipped) is never trained on: its
examples carry split ``seed`` and are scored by the trained model for the data card only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from rag.answer import candidate_sentences
from rag.citation import text_language
from rag.config import Settings
from rag.evaluation.squad import load_squad
from rag.filters import SearchFilter
from rag.language import detect_language

__all__ = ["Example", "Question", "build_examples", "examples_for", "read_examples", "split_of"]

TEST_SHARE = 0.3


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    gold: frozenset[str]  # unit ids (paragraph level) that answer it; empty: unanswerable here
    kind: str
    article: str


@dataclass(frozen=True)
class Example:
    id: str
    source: str
    kind: str
    lang: str
    article: str
    split: str
    label: int
    answered_gold: bool  # the first citation would be gold (answerable questions only)
    features: list[float]


def split_of(article: str) -> str:
    """"train" or "test", fixed by a hash of the article (never by question)."""
    value = int(hashlib.sha256(article.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if value < TEST_SHARE else "train"


def _article(doc_id: str) -> str:
    return doc_id.rsplit("-p", 1)[0]


def _without_gold(retriever, question: Question) -> SearchFilter | None:
    """A filter leaving out the documents of the question's gold paragraphs (None: nothing to leave out)."""
    units = retriever.index.units
    gold_docs = {units[g].doc for g in question.gold if g in units}
    rest = [d for d in retriever.index.documents if d not in gold_docs]
    return SearchFilter.of(doc=rest) if gold_docs and rest else None


def examples_for(
    answerer, source: str, questions: list[Question], *, split: str | None = None, batch: int = 64, removed: bool = False
) -> Iterator[Example]:
    """Ask every question (searching in batches) and record the verifier's features of its evidence.

    ``removed``: also ask each answerable question with its gold paragraph's document filtered out
    (kind ``removed``, label 0); only for indexes where each paragraph is its own document.
    """
    retriever = answerer.retriever
    for start in range(0, len(questions), batch):
        chunk = questions[start : start + batch]
        results = retriever.search_many([q.text for q in chunk], 5)
        asked = list(zip(chunk, results, strict=True))
        if removed:
            for question in chunk:
                where = _without_gold(retriever, question) if question.kind == "answerable" else None
                if where is not None:
                    variant = Question(question.id, question.text, frozenset(), "removed", question.article)
                    asked.append((variant, retriever.search(question.text, 5, where=where)))
        for question, result in asked:
            language = detect_language(question.text)
            vector = np.asarray(result.query_vector, dtype=np.float32)
            candidates = candidate_sentences(
                question.text, result.hits, retriever.index, vector, answerer.params, answerer.contradicts(question.text)
            )
            best_language = text_language(candidates[0].text) if candidates else None
            cross = best_language is not None and best_language != language
            features = answerer.features(question.text, language, candidates, result.hits, cross)
            first = None
            if candidates:
                unit = candidates[0].unit
                first = unit.parent or unit.id
            answered_gold = bool(question.gold) and first in question.gold
            yield Example(
                id=question.id, source=source, kind=question.kind, lang=language, article=question.article,
                split=split or split_of(question.article), label=int(answered_gold), answered_gold=answered_gold,
                features=[round(float(f), 6) for f in features],
            )


def _open(settings: Settings, name: str, docs: list[tuple[str, str, str]], work_dir: Path):
    from rag.engine import build_from_documents, corpus_from_beir, open_retriever
    from rag.evaluation.runner import _CachedEncoder
    from rag.qa import QuestionAnswerer

    index_dir = work_dir / name
    build_from_documents(settings, corpus_from_beir(docs, name), index_dir=index_dir)
    retriever = open_retriever(settings, index_dir=index_dir)
    retriever.encoder = _CachedEncoder(retriever.encoder)  # the removed-gold variants ask each question again
    return QuestionAnswerer(retriever, settings.answer_params, verifier=None)


def _ascii_id(doc_id: str) -> str:
    """CMRC titles are Chinese; index document ids must be ASCII."""
    return doc_id if doc_id.isascii() else "cmrc-" + hashlib.sha256(doc_id.encode()).hexdigest()[:12]


def _squad_questions(path: Path, lang: str, indexed: set[str], removed: set[str], limit: int, seed: int) -> list[Question]:
    dataset = load_squad(path, lang=lang)
    out = []
    for query in dataset.queries:
        gold = set(dataset.qrels.get(query.id, {}))
        if not gold:
            continue
        article = _article(next(iter(gold)))
        if article not in indexed:
            kind, kept = "out-of-corpus", frozenset()
        elif gold & removed:
            kind, kept = "hard", frozenset()
        else:
            kind, kept = "answerable", frozenset(_ascii_id(g) for g in gold)
        out.append(Question(query.id, query.text, kept, kind, article))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(out))[:limit]
    return [out[i] for i in sorted(order)]


def _partition(corpus_ids: Iterable[str]) -> tuple[set[str], set[str]]:
    """Index every other article; inside an indexed article with several paragraphs, leave out every fourth."""
    by_article: dict[str, list[str]] = {}
    for doc_id in corpus_ids:
        by_article.setdefault(_article(doc_id), []).append(doc_id)
    indexed = {a for i, a in enumerate(sorted(by_article)) if i % 2 == 0}
    removed = {d for a in indexed for j, d in enumerate(by_article[a]) if len(by_article[a]) > 1 and j % 4 == 3}
    return indexed, removed


def build_examples(settings: Settings, work_dir: Path, *, xquad_dir: Path, cmrc_path: Path, seed_questions: Path, limit: int = 600) -> list[Example]:
    """Build every index it needs under ``work_dir`` and return the examples (see the module doc)."""
    examples: list[Example] = []

    def cached(source: str, make) -> list[Example]:  # one file per source: an interrupted run resumes
        path = work_dir / f"examples-{source}.jsonl"
        if path.exists():
            return read_examples(path)
        made = list(make())
        write_examples(made, path)
        return made

    for corpus_lang, question_sets in (("zh", (("xquad-zh", "zh"), ("xquad-en-zh", "en"))), ("en", (("xquad-en", "en"), ("xquad-zh-en", "zh")))):
        corpus = load_squad(xquad_dir / f"xquad.{corpus_lang}.json", lang=corpus_lang).corpus or ()
        indexed, removed = _partition(d.id for d in corpus)
        docs = [(d.id, "", d.text) for d in corpus if _article(d.id) in indexed and d.id not in removed]
        answerer = None
        for number, (source, question_lang) in enumerate(question_sets):
            if not (work_dir / f"examples-{source}.jsonl").exists() and answerer is None:
                answerer = _open(settings, f"xquad-{corpus_lang}-half", docs, work_dir)
            questions = _squad_questions(xquad_dir / f"xquad.{question_lang}.json", question_lang, indexed, removed, limit, number)
            examples += cached(source, lambda a=answerer, s=source, q=questions: examples_for(a, s, q, removed=True))
    cmrc = load_squad(_without_empty_questions(cmrc_path, work_dir), lang="zh")
    indexed, removed = _partition(d.id for d in cmrc.corpus or ())
    docs = [(_ascii_id(d.id), "", d.text) for d in cmrc.corpus or () if _article(d.id) in indexed and d.id not in removed]
    cmrc_path = work_dir / "cmrc_trial.json"
    examples += cached(
        "cmrc2018",
        lambda: examples_for(
            _open(settings, "cmrc-half", docs, work_dir), "cmrc2018", _squad_questions(cmrc_path, "zh", indexed, removed, limit, 7), removed=True
        ),
    )
    examples += cached("seed", lambda: _seed_examples(settings, work_dir, seed_questions))
    return examples


def _without_empty_questions(path: Path, work_dir: Path) -> Path:
    """The CMRC trial file has a few questions with no text; a copy without them."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            paragraph["qas"] = [qa for qa in paragraph["qas"] if str(qa.get("question", "")).strip()]
    target = work_dir / "cmrc_trial.json"
    target.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return target


def _seed_examples(settings: Settings, work_dir: Path, path: Path) -> list[Example]:
    from rag.engine import build_from_documents, load_seed_corpus, open_retriever
    from rag.qa import QuestionAnswerer

    corpus = load_seed_corpus(settings)
    index_dir = work_dir / "seed"
    build_from_documents(settings, corpus, index_dir=index_dir)
    answerer = QuestionAnswerer(open_retriever(settings, index_dir=index_dir), settings.answer_params, verifier=None)
    doc = corpus.documents[0].doc
    units = {u.id: u for u in corpus.documents[0].units}
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        gold = frozenset(f"{doc}/{p}" for p in record["gold"])
        if gold:
            chapter = units[next(iter(sorted(gold)))].section[0][:1] if units[next(iter(sorted(gold)))].section else "?"
            article = f"seed:chapter-{chapter}"
        else:
            article = f"seed:written-{int(hashlib.sha256(record['id'].encode()).hexdigest()[:4], 16) % 3}"
        questions.append(Question(record["id"], record["question"], gold, "answerable" if gold else "written", article))
    return list(examples_for(answerer, "seed", questions, split="seed"))


def read_examples(path: Path) -> list[Example]:
    return [Example(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_examples(examples: Iterable[Example], path: Path) -> None:
    path.write_text("".join(json.dumps(asdict(e), ensure_ascii=False) + "\n" for e in examples), encoding="utf-8")
