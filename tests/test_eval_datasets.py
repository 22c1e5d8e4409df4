"""Evaluation datasets: real XQuAD and seed questions, format round trips, ranx interop, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rag.evaluation.beir import load_beir, load_beir_corpus, write_beir
from rag.evaluation.datasets import CorpusDoc, Dataset, DatasetError, Query, validate_against_corpus
from rag.evaluation.questions import load_question_jsonl
from rag.evaluation.runner import DEFAULT_XQUAD_DIR
from rag.evaluation.squad import load_squad, squad_context_id
from rag.evaluation.trec import read_trec_qrels, read_trec_run, sort_run, write_trec_qrels, write_trec_run

ROOT = Path(__file__).resolve().parents[1]
XQUAD = DEFAULT_XQUAD_DIR  # eval/data/xquad, shipped with the repository
SEED_QUESTIONS = ROOT / "eval" / "seed_questions.jsonl"
SEED_DOC = "000_75fc5355e1129b16"
SEED_TEXT = ROOT / "seeds" / f"{SEED_DOC}.txt"



def assert_where(exc: pytest.ExceptionInfo[DatasetError], path: Path, line: int | None, *fragments: str) -> None:
    """The message names the file, the line (when given) and what is wrong."""
    message = str(exc.value)
    assert path.name in message, message
    if line is not None:
        assert f"{path.name}:{line}:" in message, message
        assert exc.value.line == line
    for fragment in fragments:
        assert fragment in message, message


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def small_dataset(name: str = "small") -> Dataset:
    corpus = (
        CorpusDoc("d1", "Doha", "多哈气候变化大会。"),
        CorpusDoc("d2", "", "Second paragraph, with a tab\tand a newline\nin it."),
        CorpusDoc("d3", "Title", "Third."),
    )
    queries = (
        Query("q1", "多哈会议有多少人？", lang="zh", type="number"),
        Query("q2", "Which target?", lang="en", type="sub-unit", sub="target 11"),
        Query("q3", "Unanswerable one", lang="en", type="unanswerable"),
    )
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 2, "d3": 1}, "q3": {}}
    return Dataset(name=name, queries=queries, qrels=qrels, corpus=corpus)


# ---------------------------------------------------------------------------------------------
# Real data: XQuAD
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def xquad_zh() -> Dataset:
    return load_squad(XQUAD / "xquad.zh.json", lang="zh")


@pytest.fixture(scope="module")
def xquad_en() -> Dataset:
    return load_squad(XQUAD / "xquad.en.json", lang="en")


def test_xquad_zh_counts_and_one_relevant_context_per_question(xquad_zh: Dataset) -> None:
    assert xquad_zh.name == "xquad.zh"
    assert xquad_zh.corpus is not None and len(xquad_zh.corpus) == 240
    assert len(xquad_zh.queries) == 1190
    assert all(len(xquad_zh.qrels[q.id]) == 1 for q in xquad_zh.queries)
    assert all(rel == 1 for judged in xquad_zh.qrels.values() for rel in judged.values())
    assert xquad_zh.answerable_ids == xquad_zh.query_ids and xquad_zh.unanswerable_ids == ()
    assert {q.lang for q in xquad_zh.queries} == {"zh"}
    first = xquad_zh.corpus[0]
    assert first.id == "super-bowl-50-p0" and first.title == "Super_Bowl_50"
    assert first.text.startswith("黑豹队的防守只丢了 308分")
    assert xquad_zh.qrels["56beb4343aeaaa14008c925b"] == {"super-bowl-50-p0": 1}
    # every context is used by at least one question
    assert {d for judged in xquad_zh.qrels.values() for d in judged} == {d.id for d in xquad_zh.corpus}


def test_xquad_zh_and_en_ids_align(xquad_zh: Dataset, xquad_en: Dataset) -> None:
    assert xquad_zh.corpus is not None and xquad_en.corpus is not None
    assert len(xquad_zh.corpus) == len(xquad_en.corpus)
    for zh_doc, en_doc in zip(xquad_zh.corpus, xquad_en.corpus, strict=True):
        assert zh_doc.id == en_doc.id  # i-th context of zh and en: same id
        assert zh_doc.text != en_doc.text
    assert xquad_zh.query_ids == xquad_en.query_ids
    assert xquad_zh.qrels == xquad_en.qrels
    assert xquad_en.corpus[0].text.startswith("The Panthers defense gave up just 308 points")
    # titles with punctuation slug cleanly and stay unique
    ids = {d.id for d in xquad_en.corpus}
    assert {"fresno-california-p0", "sky-united-kingdom-p0", "victoria-australia-p0"} <= ids
    assert squad_context_id("Fresno,_California", 3) == "fresno-california-p3"


def test_xquad_round_trips_through_beir(xquad_zh: Dataset, tmp_path: Path) -> None:
    write_beir(xquad_zh, tmp_path / "xquad.zh")
    assert load_beir(tmp_path / "xquad.zh") == xquad_zh


# ---------------------------------------------------------------------------------------------
# Real data: the product's seed questions
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_questions() -> Dataset:
    return load_question_jsonl(SEED_QUESTIONS, doc=SEED_DOC)


def test_seed_questions_load(seed_questions: Dataset) -> None:
    assert seed_questions.name == "seed_questions" and seed_questions.corpus is None
    assert len(seed_questions.queries) == 215
    for lang, answerable in (("zh", 60), ("en", 75)):
        subset = seed_questions.select(lang=lang)
        assert len(subset.unanswerable_ids) == 40, lang  # issue 9: at least 40 written unanswerables per language
        assert len(subset.answerable_ids) == answerable, lang
    gold = [doc_id for judged in seed_questions.qrels.values() for doc_id in judged]
    assert gold and all(re.fullmatch(rf"{SEED_DOC}/[1-9]\d*", doc_id) for doc_id in gold)
    assert seed_questions.qrels["zh-001"] == {f"{SEED_DOC}/3": 1}
    by_id = {q.id: q for q in seed_questions.queries}
    assert by_id["zh-053"].sub == "target 11" and by_id["zh-053"].type == "sub-unit"
    assert seed_questions.qrels["zh-053"] == {f"{SEED_DOC}/85": 1}
    unanswerable = {q.type for q in seed_questions.queries if not seed_questions.qrels[q.id]}
    assert unanswerable == {"unanswerable"}


def test_seed_gold_exists_in_the_parsed_seed_document(seed_questions: Dataset) -> None:
    """The runner's check, on real units: every gold paragraph and labelled sub-unit exists."""
    from rag.parser import parse_document
    from rag.textio import read_document_text
    from rag.units import unit_id

    source, encoding = read_document_text(SEED_TEXT)
    parsed = parse_document(SEED_DOC, source, path=str(SEED_TEXT), encoding=encoding)
    unit_ids = {u.id for u in parsed.units}
    validate_against_corpus(seed_questions, unit_ids)
    for query in seed_questions.queries:
        if query.sub is not None:
            (para_id,) = seed_questions.qrels[query.id]
            assert unit_id(SEED_DOC, int(para_id.split("/")[1]), query.sub) in unit_ids, query.id

    with pytest.raises(DatasetError) as exc:
        validate_against_corpus(seed_questions, unit_ids - {f"{SEED_DOC}/85"})
    assert f"'{SEED_DOC}/85'" in str(exc.value) and "1 relevant id(s)" in str(exc.value)


def test_validate_against_corpus_lists_at_most_ten() -> None:
    queries = tuple(Query(f"q{i}", "text") for i in range(15))
    dataset = Dataset("many", queries, {f"q{i}": {f"doc{i}": 1} for i in range(15)})
    with pytest.raises(DatasetError) as exc:
        validate_against_corpus(dataset, {"doc0", "doc1"})
    message = str(exc.value)
    assert "13 relevant id(s)" in message and "'doc2' (query 'q2')" in message
    assert "'doc11'" in message and "'doc12'" not in message and "(and 3 more)" in message
    validate_against_corpus(dataset, {f"doc{i}" for i in range(15)})


# ---------------------------------------------------------------------------------------------
# Round trips and ranx
# ---------------------------------------------------------------------------------------------


def test_beir_round_trip_keeps_labels_and_unanswerable(tmp_path: Path) -> None:
    dataset = small_dataset(name="beir")
    write_beir(dataset, tmp_path / "beir", split="dev")
    loaded = load_beir(tmp_path / "beir", split="dev")
    assert loaded == dataset
    assert loaded.unanswerable_ids == ("q3",)
    header = (tmp_path / "beir" / "qrels" / "dev.tsv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "query-id\tcorpus-id\tscore"
    with pytest.raises(DatasetError) as exc:
        load_beir(tmp_path / "beir")
    assert_where(exc, tmp_path / "beir" / "qrels" / "test.tsv", None, "split 'test'", "dev")


def test_write_beir_needs_a_corpus(tmp_path: Path) -> None:
    dataset = small_dataset()
    no_corpus = Dataset(dataset.name, dataset.queries, dataset.qrels)
    with pytest.raises(DatasetError, match="no corpus"):
        write_beir(no_corpus, tmp_path / "out")


def test_load_beir_selects_the_split_queries(tmp_path: Path) -> None:
    """Queries of other splits in queries.jsonl are not part of this split."""
    folder = tmp_path / "b"
    (folder / "qrels").mkdir(parents=True)
    write_lines(folder / "corpus.jsonl", '{"_id": "d1", "title": "t", "text": "x"}', '{"_id": "d2", "text": "y"}')
    write_lines(
        folder / "queries.jsonl",
        '{"_id": "train1", "text": "a"}',
        '{"_id": "t1", "text": "b", "metadata": {"lang": "en", "type": "fact", "other": 3}}',
        '{"_id": "t2", "text": "c", "metadata": {"unanswerable": true}}',
    )
    write_lines(folder / "qrels" / "test.tsv", "query-id\tcorpus-id\tscore", "t1\td2\t1")
    write_lines(folder / "qrels" / "train.tsv", "query-id\tcorpus-id\tscore", "", "train1\td1\t1")
    test = load_beir(folder)
    assert test.name == "b" and test.query_ids == ("t1", "t2")
    assert test.qrels == {"t1": {"d2": 1}, "t2": {}}
    assert test.queries[0] == Query("t1", "b", lang="en", type="fact")
    assert test.corpus == (CorpusDoc("d1", "t", "x"), CorpusDoc("d2", "", "y"))
    assert load_beir(folder, split="train").query_ids == ("train1", "t2")


def test_trec_qrels_and_run_round_trip(tmp_path: Path) -> None:
    qrels = {"q1": {"d1": 1, "d2": 2}, "q2": {"d3": 1}, "q3": {}}
    write_trec_qrels(qrels, tmp_path / "qrels.txt")
    assert (tmp_path / "qrels.txt").read_text(encoding="utf-8").splitlines()[0] == "q1 0 d1 1"
    assert read_trec_qrels(tmp_path / "qrels.txt") == {"q1": {"d1": 1, "d2": 2}, "q2": {"d3": 1}}  # q3 not writable

    run = {"q1": {"d2": 0.25, "d1": 0.9, "d9": 0.25, "d0": 1 / 3}, "q2": {"d3": 12.5, "d4": -1e-7}}
    write_trec_run(run, tmp_path / "run.txt", tag="bm25")
    lines = (tmp_path / "run.txt").read_text(encoding="utf-8").splitlines()
    assert [line.split()[2:4] for line in lines[:4]] == [["d1", "1"], ["d0", "2"], ["d2", "3"], ["d9", "4"]]
    assert all(line.split()[1] == "Q0" and line.split()[5] == "bm25" for line in lines)
    read = read_trec_run(tmp_path / "run.txt")
    assert read.keys() == run.keys()
    for qid, scored in run.items():
        assert read[qid].keys() == scored.keys()
        for doc_id, score in scored.items():
            assert read[qid][doc_id] == pytest.approx(score, abs=1e-6)


def test_ranx_reads_our_trec_files_and_scores_them_the_same(tmp_path: Path) -> None:
    ranx = pytest.importorskip("ranx")
    qrels = {"q1": {"d1": 1, "d2": 2}, "q2": {"d3": 1}, "q3": {"d7": 1}}
    run = {
        "q1": {"d5": 0.45, "d2": 0.5, "d1": 0.1, "d4": 0.7},
        "q2": {"d3": 0.2, "d8": 0.9},
        "q3": {"d6": 1.0},
    }
    write_trec_qrels(qrels, tmp_path / "test.qrels")
    write_trec_run(run, tmp_path / "test.run", tag="hybrid")
    file_qrels = ranx.Qrels.from_file(str(tmp_path / "test.qrels"), kind="trec")
    file_run = ranx.Run.from_file(str(tmp_path / "test.run"), kind="trec")
    assert {q: dict(d) for q, d in file_qrels.to_dict().items()} == qrels
    assert file_run.name == "hybrid"
    metrics = ["ndcg@10", "mrr", "recall@2"]
    from_files = ranx.evaluate(file_qrels, file_run, metrics)
    in_memory = ranx.evaluate(ranx.Qrels(qrels), ranx.Run(run), metrics)
    for metric in metrics:
        assert from_files[metric] == pytest.approx(in_memory[metric], abs=1e-12), metric
    assert in_memory["mrr"] == pytest.approx((1 / 2 + 1 / 2 + 0) / 3)


def test_ranx_ties_follow_dict_order_so_sort_run_first(tmp_path: Path) -> None:
    """ranx ranks tied scores by insertion order: only the canonical order matches the file."""
    ranx = pytest.importorskip("ranx")
    qrels = {"q1": {"d2": 1}}
    run = {"q1": {"d5": 0.5, "d2": 0.5, "d4": 0.7}}  # tie: we rank d2 before d5
    assert list(sort_run(run)["q1"]) == ["d4", "d2", "d5"]
    write_trec_run(run, tmp_path / "tie.run", tag="t")
    file_run = ranx.Run.from_file(str(tmp_path / "tie.run"), kind="trec")
    from_file = ranx.evaluate(ranx.Qrels(qrels), file_run, "mrr")
    assert from_file == pytest.approx(1 / 2)
    assert ranx.evaluate(ranx.Qrels(qrels), ranx.Run(sort_run(run)), "mrr") == pytest.approx(from_file)
    read_back = ranx.Run(read_trec_run(tmp_path / "tie.run"))
    assert ranx.evaluate(ranx.Qrels(qrels), read_back, "mrr") == pytest.approx(from_file)


# ---------------------------------------------------------------------------------------------
# Dataset invariants
# ---------------------------------------------------------------------------------------------


def test_dataset_invariants() -> None:
    q = (Query("q1", "a"), Query("q2", "b"))
    with pytest.raises(DatasetError, match="without a qrels entry"):
        Dataset("x", q, {"q1": {"d": 1}})
    with pytest.raises(DatasetError, match="unknown query id"):
        Dataset("x", q, {"q1": {"d": 1}, "q2": {}, "q9": {"d": 1}})
    with pytest.raises(DatasetError, match="duplicate query id"):
        Dataset("x", (q[0], q[0]), {"q1": {}})
    with pytest.raises(DatasetError, match="relevance must be an int >= 1"):
        Dataset("x", q, {"q1": {"d": 0}, "q2": {}})
    with pytest.raises(DatasetError, match="relevance must be an int >= 1"):
        Dataset("x", q, {"q1": {"d": True}, "q2": {}})
    with pytest.raises(DatasetError, match="not in the corpus"):
        Dataset("x", q, {"q1": {"d": 1}, "q2": {}}, corpus=(CorpusDoc("e", "", "t"),))
    with pytest.raises(DatasetError, match="non-empty"):
        Query("q3", "   ")
    with pytest.raises(DatasetError, match="whitespace"):
        CorpusDoc("a b", "", "t")
    dataset = Dataset("x", q, {"q2": {}, "q1": {"d": 1}})
    assert list(dataset.qrels) == ["q1", "q2"]  # normalised to query order
    assert dataset.answerable_ids == ("q1",) and dataset.unanswerable_ids == ("q2",)
    assert dataset.select(answerable=False).query_ids == ("q2",)


# ---------------------------------------------------------------------------------------------
# Bad input: every failure names the file and the line
# ---------------------------------------------------------------------------------------------

GOOD_Q = '{"id": "zh-001", "lang": "zh", "question": "问题？", "gold": [3], "type": "number", "sub": null}'


@pytest.mark.parametrize(
    ("bad_line", "fragment"),
    [
        ('{"id": "x", "lang": "zh", "question": "q", "gold": [1], "type": "fact"', "invalid JSON"),
        ('["not", "an", "object"]', "expected a JSON object"),
        ('{"id": "x", "lang": "zh", "question": "q", "gold": [1]}', "missing key(s): type"),
        ('{"id": "x", "lang": "zh", "question": "q", "gold": [1], "type": "f", "gloden": 1}', "unknown key(s): gloden"),
        ('{"id": 7, "lang": "zh", "question": "q", "gold": [1], "type": "fact"}', "id must be a str"),
        ('{"id": "x", "lang": "zh", "question": "  ", "gold": [1], "type": "fact"}', "question is empty"),
        ('{"id": "x", "lang": "zh", "question": "q", "gold": 1, "type": "fact"}', "gold must be a list"),
        ('{"id": "x", "lang": "zh", "question": "q", "gold": [0], "type": "fact"}', "not a positive integer"),
        ('{"id": "x", "lang": "zh", "question": "q", "gold": ["3"], "type": "fact"}', "not a positive integer"),
        ('{"id": "x", "lang": "zh", "question": "q", "gold": [true], "type": "fact"}', "not a positive integer"),
        ('{"id": "x", "lang": "zh", "question": "q", "gold": [2, 2], "type": "fact"}', "repeats a paragraph"),
        ('{"id": "x", "lang": "fr", "question": "q", "gold": [1], "type": "fact"}', "lang 'fr'"),
        ('{"id": "x", "lang": "zh", "question": "q", "gold": [], "type": "x", "sub": "a"}', "exactly one gold"),
        ('{"id": "x", "lang": "zh", "question": "q", "gold": [1], "type": "", "sub": null}', "type must be"),
        ('{"id": "a b", "lang": "zh", "question": "q", "gold": [1], "type": "fact"}', "whitespace"),
        ('{"id": "x", "id": "y", "lang": "zh", "question": "q", "gold": [1], "type": "fact"}', "duplicate key 'id'"),
        ('{"id": "x", "lang": "zh", "question": "q", "gold": [1], "type": "fact", "answers": "4 300"}', "answers must be a list"),
        ('{"id": "x", "lang": "zh", "question": "q", "gold": [1], "type": "fact", "answers": [" "]}', "answers must be a list"),
        ('{"id": "x", "lang": "zh", "question": "q", "gold": [], "type": "fact", "answers": ["a"]}', "cannot have answers"),
    ],
)
def test_question_jsonl_bad_line(tmp_path: Path, bad_line: str, fragment: str) -> None:
    path = write_lines(tmp_path / "questions.jsonl", GOOD_Q, "", bad_line)
    with pytest.raises(DatasetError) as exc:
        load_question_jsonl(path, doc=SEED_DOC)
    assert_where(exc, path, 3, fragment)


def test_question_jsonl_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "q.jsonl", GOOD_Q, GOOD_Q.replace("zh-001", "zh-002"), "   ", GOOD_Q)
    with pytest.raises(DatasetError) as exc:
        load_question_jsonl(path, doc=SEED_DOC)
    assert_where(exc, path, 4, "duplicate id 'zh-001'", "first on line 1")


def test_question_jsonl_missing_empty_and_bad_doc(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as exc:
        load_question_jsonl(tmp_path / "nope.jsonl", doc=SEED_DOC)
    assert_where(exc, tmp_path / "nope.jsonl", None, "file not found")
    empty = write_lines(tmp_path / "empty.jsonl", "", "  ")
    with pytest.raises(DatasetError) as exc:
        load_question_jsonl(empty, doc=SEED_DOC)
    assert_where(exc, empty, None, "no questions")
    good = write_lines(tmp_path / "good.jsonl", GOOD_Q)
    with pytest.raises(DatasetError, match="must not contain /"):
        load_question_jsonl(good, doc="a/b")
    bad_utf8 = tmp_path / "latin1.jsonl"
    bad_utf8.write_bytes(GOOD_Q.encode() + b"\n" + '{"id": "é"}'.encode("latin-1") + b"\n")
    with pytest.raises(DatasetError) as exc:
        load_question_jsonl(bad_utf8, doc=SEED_DOC)
    assert_where(exc, bad_utf8, 2, "UTF-8")


@pytest.mark.parametrize(
    ("bad_line", "fragment"),
    [
        ('{"title": "t", "text": "x"}', "missing key: _id"),
        ('{"_id": "", "text": "x"}', "must not be empty"),
        ('{"_id": 5, "text": "x"}', "must be a string"),
        ('{"_id": "d1", "text": "dup"}', "duplicate _id 'd1' (first on line 1)"),
        ('{"_id": "d2"}', "missing key: text"),
        ('{"_id": "d2", "text": null}', "text must be a string"),
        ('{"_id": "d2", "text": "x", "title": 3}', "title must be a string"),
        ('{"_id": "d2", "text": "x",}', "invalid JSON"),
    ],
)
def test_beir_corpus_bad_line(tmp_path: Path, bad_line: str, fragment: str) -> None:
    path = write_lines(tmp_path / "corpus.jsonl", '{"_id": "d1", "title": "", "text": "x"}', bad_line)
    with pytest.raises(DatasetError) as exc:
        load_beir_corpus(path)
    assert_where(exc, path, 2, fragment)


def test_beir_corpus_empty_and_missing(tmp_path: Path) -> None:
    empty = write_lines(tmp_path / "corpus.jsonl", "")
    with pytest.raises(DatasetError) as exc:
        load_beir_corpus(empty)
    assert_where(exc, empty, None, "contains no documents")
    with pytest.raises(DatasetError) as exc:
        load_beir_corpus(tmp_path / "missing.jsonl")
    assert_where(exc, tmp_path / "missing.jsonl", None, "file not found")
    assert [d.id for d in load_beir_corpus(write_lines(tmp_path / "ok.jsonl", '{"_id": "a/1", "text": ""}'))] == ["a/1"]


def make_beir(folder: Path, *, queries: list[str] | None = None, qrels: list[str] | None = None) -> Path:
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    write_lines(folder / "corpus.jsonl", '{"_id": "d1", "text": "x"}', '{"_id": "d2", "text": "y"}')
    write_lines(
        folder / "queries.jsonl",
        *(queries or ['{"_id": "q1", "text": "a"}', '{"_id": "q2", "text": "b", "metadata": {"lang": "zh"}}']),
    )
    write_lines(folder / "qrels" / "test.tsv", *(qrels or ["query-id\tcorpus-id\tscore", "q1\td1\t1"]))
    return folder


@pytest.mark.parametrize(
    ("rows", "line", "fragment"),
    [
        (["q1\td1\t1"], 1, "expected the header"),
        (["query-id\tcorpus-id\tscore", "q1\td1\t1", "q9\td1\t1"], 3, "unknown query id 'q9'"),
        (["query-id\tcorpus-id\tscore", "q1\td9\t1"], 2, "unknown corpus id 'd9'"),
        (["query-id\tcorpus-id\tscore", "q1\td1\t1.0"], 2, "score '1.0' is not an integer"),
        (["query-id\tcorpus-id\tscore", "q1\td1\thigh"], 2, "is not an integer"),
        (["query-id\tcorpus-id\tscore", "q1\td1\t0"], 2, "relevance must be >= 1"),
        (["query-id\tcorpus-id\tscore", "q1 d1 1"], 2, "expected 3 tab-separated fields"),
        (["query-id\tcorpus-id\tscore", "q1\td1\t1", "", "q1\td1\t2"], 4, "first on line 2"),
    ],
)
def test_beir_qrels_bad_line(tmp_path: Path, rows: list[str], line: int, fragment: str) -> None:
    folder = make_beir(tmp_path / "beir", qrels=rows)
    with pytest.raises(DatasetError) as exc:
        load_beir(folder)
    assert_where(exc, folder / "qrels" / "test.tsv", line, fragment)


@pytest.mark.parametrize(
    ("rows", "line", "fragment"),
    [
        (['{"_id": "q1", "text": "a"}', '{"_id": "q1", "text": "b"}'], 2, "duplicate _id 'q1' (first on line 1)"),
        (['{"_id": "q1", "text": "a"}', '{"_id": "q2", "text": " "}'], 2, "query text is empty"),
        (['{"_id": "q1", "text": "a"}', '{"_id": "q2"}'], 2, "missing key: text"),
        (['{"_id": "q1", "text": "a", "metadata": []}'], 1, "metadata must be an object"),
        (['{"_id": "q1", "text": "a", "metadata": {"lang": 1}}'], 1, "metadata.lang"),
        (['{"_id": "q1", "text": "a", "metadata": {"unanswerable": "yes"}}'], 1, "metadata.unanswerable"),
    ],
)
def test_beir_queries_bad_line(tmp_path: Path, rows: list[str], line: int, fragment: str) -> None:
    folder = make_beir(tmp_path / "beir", queries=rows)
    with pytest.raises(DatasetError) as exc:
        load_beir(folder)
    assert_where(exc, folder / "queries.jsonl", line, fragment)


def test_beir_conflicts_and_missing_parts(tmp_path: Path) -> None:
    folder = make_beir(
        tmp_path / "conflict",
        queries=['{"_id": "q1", "text": "a", "metadata": {"unanswerable": true}}'],
        qrels=["query-id\tcorpus-id\tscore", "q1\td1\t1"],
    )
    with pytest.raises(DatasetError) as exc:
        load_beir(folder)
    assert_where(exc, folder / "qrels" / "test.tsv", 2, "marked unanswerable on line 1")

    with pytest.raises(DatasetError) as exc:
        load_beir(tmp_path / "absent")
    assert_where(exc, tmp_path / "absent", None, "BEIR folder not found")

    folder = make_beir(tmp_path / "noqueries")
    (folder / "queries.jsonl").unlink()
    with pytest.raises(DatasetError) as exc:
        load_beir(folder)
    assert_where(exc, folder / "queries.jsonl", None, "file not found")

    folder = make_beir(tmp_path / "headeronly", qrels=["query-id\tcorpus-id\tscore"])
    with pytest.raises(DatasetError) as exc:
        load_beir(folder)
    assert_where(exc, folder / "qrels" / "test.tsv", None, "no judgments")


@pytest.mark.parametrize(
    ("lines", "line", "fragment"),
    [
        (["q1 0 d1 1", "q1 0 d2"], 2, "expected 4 fields"),
        (["q1 0 d1 1", "q1 0 d2 yes"], 2, "relevance 'yes' is not an integer"),
        (["q1 0 d1 1", "q1 0 d2 1.5"], 2, "is not an integer"),
        (["q1 0 d1 1", "", "q1 0 d1 2"], 3, "duplicate judgment"),
    ],
)
def test_trec_qrels_bad_line(tmp_path: Path, lines: list[str], line: int, fragment: str) -> None:
    path = write_lines(tmp_path / "bad.qrels", *lines)
    with pytest.raises(DatasetError) as exc:
        read_trec_qrels(path)
    assert_where(exc, path, line, fragment)


@pytest.mark.parametrize(
    ("lines", "line", "fragment"),
    [
        (["q1 Q0 d1 1 0.5 t", "q1 Q0 d2 2 0.4"], 2, "expected 6 fields"),
        (["q1 Q0 d1 1 0.5 t", "q1 Q0 d2 2 high t"], 2, "score 'high' is not a number"),
        (["q1 Q0 d1 1 0.5 t", "q1 Q0 d2 2 nan t"], 2, "not finite"),
        (["q1 Q0 d1 1 0.5 t", "q1 Q0 d2 two 0.4 t"], 2, "rank 'two' is not an integer"),
        (["q1 Q0 d1 1 0.5 t", "q1 Q0 d2 0 0.4 t"], 2, "rank 0"),
        (["q1 Q0 d1 1 0.5 t", "q1 Q0 d2 2 0.4 other"], 2, "differs from 't' on line 1"),
        (["q1 Q0 d1 1 0.5 t", "q1 Q0 d1 2 0.4 t"], 2, "duplicate result"),
    ],
)
def test_trec_run_bad_line(tmp_path: Path, lines: list[str], line: int, fragment: str) -> None:
    path = write_lines(tmp_path / "bad.run", *lines)
    with pytest.raises(DatasetError) as exc:
        read_trec_run(path)
    assert_where(exc, path, line, fragment)


def test_trec_missing_empty_and_unwritable(tmp_path: Path) -> None:
    for reader in (read_trec_qrels, read_trec_run):
        with pytest.raises(DatasetError) as exc:
            reader(tmp_path / "none.txt")
        assert_where(exc, tmp_path / "none.txt", None, "file not found")
        empty = write_lines(tmp_path / "empty.txt", "")
        with pytest.raises(DatasetError) as exc:
            reader(empty)
        assert_where(exc, empty, None, "contains no")
    with pytest.raises(DatasetError, match="whitespace"):
        write_trec_qrels({"q 1": {"d": 1}}, tmp_path / "x.qrels")
    with pytest.raises(DatasetError, match="not an int"):
        write_trec_qrels({"q1": {"d": 1.0}}, tmp_path / "x.qrels")  # type: ignore[dict-item]
    with pytest.raises(DatasetError, match="nothing to write"):
        write_trec_qrels({"q1": {}}, tmp_path / "x.qrels")
    with pytest.raises(DatasetError, match="not a finite number"):
        write_trec_run({"q1": {"d": float("inf")}}, tmp_path / "x.run", tag="t")
    with pytest.raises(DatasetError, match="run tag"):
        write_trec_run({"q1": {"d": 1.0}}, tmp_path / "x.run", tag="my run")


# ---------------------------------------------------------------------------------------------
# SQuAD edge cases
# ---------------------------------------------------------------------------------------------


def squad(*articles: dict) -> str:
    return json.dumps({"version": "v2.0", "data": list(articles)}, ensure_ascii=False, indent=1)


def test_squad2_impossible_questions_are_unanswerable(tmp_path: Path) -> None:
    path = tmp_path / "squad2.json"
    qas = [
        {"id": "a1", "question": "Answerable?", "answers": [{"text": "x", "answer_start": 0}], "is_impossible": False},
        {"id": "a2", "question": "Impossible?", "answers": [], "is_impossible": True},
    ]
    path.write_text(
        squad(
            {"title": "Über Title", "paragraphs": [{"context": "x y", "qas": []}, {"context": "z", "qas": qas}]},
            {"title": "Copy", "paragraphs": [{"context": "z", "qas": [{"id": "a3", "question": "Same text?"}]}]},
        ),
        encoding="utf-8",
    )
    dataset = load_squad(path, lang="en", name="s2")
    assert dataset.name == "s2"
    assert [d.id for d in dataset.corpus or ()] == ["über-title-p0", "über-title-p1"]  # duplicate context reused
    assert dataset.qrels == {"a1": {"über-title-p1": 1}, "a2": {}, "a3": {"über-title-p1": 1}}
    assert dataset.unanswerable_ids == ("a2",) and dataset.queries[0].lang == "en"


def test_squad_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"data": [\n  {"title": "T",\n   "paragraphs": [}\n]}', encoding="utf-8")
    with pytest.raises(DatasetError) as exc:
        load_squad(path)
    assert_where(exc, path, 3, "invalid JSON")

    with pytest.raises(DatasetError) as exc:
        load_squad(tmp_path / "missing.json")
    assert_where(exc, tmp_path / "missing.json", None, "file not found")

    def article(*qas: dict, context: str = "c") -> dict:
        return {"title": "T", "paragraphs": [{"context": context, "qas": list(qas)}]}

    cases = [
        (article({"id": "q", "question": " "}), "empty or missing"),
        (article(context=""), "context must be"),
        (article({"id": "q", "question": "?", "is_impossible": 1}), "is_impossible"),
        (
            article({"id": "q", "question": "?"}, {"id": "q", "question": "!"}),
            "duplicate question id 'q' (first at data[0].paragraphs[0].qas[0])",
        ),
    ]
    for bad, fragment in cases:
        path.write_text(squad(bad), encoding="utf-8")
        with pytest.raises(DatasetError) as exc:
            load_squad(path)
        assert_where(exc, path, None, fragment)
    path.write_text(squad({"title": "A_B", "paragraphs": []}, {"title": "A,B", "paragraphs": []}), encoding="utf-8")
    with pytest.raises(DatasetError) as exc:
        load_squad(path)
    assert_where(exc, path, None, "same id prefix 'a-b'")


def test_squad_questions_carry_their_answer_strings(tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    qas = [
        {"id": "a1", "question": "Who?", "answers": [{"text": "Ada ", "answer_start": 0}, {"text": "Ada", "answer_start": 0}, {"text": "Ada Lovelace", "answer_start": 0}]},
        {"id": "a2", "question": "None?", "answers": [], "is_impossible": True},
    ]
    path.write_text(squad({"title": "T", "paragraphs": [{"context": "Ada Lovelace wrote it.", "qas": qas}]}), encoding="utf-8")
    dataset = load_squad(path)
    assert [q.answers for q in dataset.queries] == [("Ada", "Ada Lovelace"), ()]  # distinct, stripped
    write_beir(dataset, tmp_path / "answers")
    assert load_beir(tmp_path / "answers") == dataset  # kept in the queries' metadata

    bad = tmp_path / "bad_answers.json"
    bad.write_text(squad({"title": "T", "paragraphs": [{"context": "c", "qas": [{"id": "b", "question": "Q?", "answers": "c"}]}]}), encoding="utf-8")
    with pytest.raises(DatasetError, match="answers must be a list"):
        load_squad(bad)


def test_xquad_english_over_chinese_checks_the_chinese_answer_strings() -> None:
    from rag.config import Settings
    from rag.evaluation.runner import resolve_sets

    (en_zh,) = resolve_sets(Settings(), ["xquad-en-zh"])
    queries = {q.id: q for q in en_zh.dataset.queries}
    assert queries["56beb4343aeaaa14008c925b"].text.startswith("How many points")
    assert queries["56beb4343aeaaa14008c925c"].answers == ("136 次",)  # the Chinese context's span, not "136"
    assert en_zh.answers  # answers are measured: the set has answer strings


def test_question_jsonl_answers_are_carried(tmp_path: Path) -> None:
    line = '{"id": "zh-001", "lang": "zh", "question": "问题？", "gold": [3], "type": "number", "answers": ["4 300 名政府代表"]}'
    path = write_lines(tmp_path / "questions.jsonl", line, GOOD_Q.replace("zh-001", "zh-002"))
    dataset = load_question_jsonl(path, doc=SEED_DOC)
    assert [q.answers for q in dataset.queries] == [("4 300 名政府代表",), ()]


def test_xquad_chinese_over_english_is_a_built_in_set() -> None:
    from rag.config import Settings
    from rag.evaluation.runner import resolve_sets

    (zh_en,) = resolve_sets(Settings(), ["xquad-zh-en"])
    assert zh_en.index_name == "xquad-en"  # the English paragraphs' index, shared with xquad-en
    queries = {q.id: q for q in zh_en.dataset.queries}
    assert queries["56beb4343aeaaa14008c925b"].lang == "zh"
    assert queries["56beb4343aeaaa14008c925b"].answers == ("308",)
    assert zh_en.dataset.corpus is not None and zh_en.dataset.corpus[0].text.startswith("The Panthers defense")
