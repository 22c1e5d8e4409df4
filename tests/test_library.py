"""A real parallel library (XQuAD articles, each a Chinese and an English version) through the
service, the API and the CLI: versions side by side, filters, add/remove with incremental
rebuilds, and a live swap while requests run.

Tests in this module share one library and run in file order: the later ones change it.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from rag.catalogue import load_catalogue
from rag.config import Settings
from rag.evaluation.parallel import measure_aligned_quotes, write_parallel_library
from rag.evaluation.runner import DEFAULT_XQUAD_DIR
from rag.filters import SearchFilter
from rag.library import library_of

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def library_settings(parallel_settings: Settings) -> Settings:
    return parallel_settings


@pytest.fixture(scope="module")
def questions(parallel_questions):
    return parallel_questions


@pytest.fixture(scope="module")
def answerer(parallel_answerer):
    return parallel_answerer


@pytest.fixture(scope="module")
def client(library_settings: Settings, answerer):
    with TestClient(create_app(library_settings, answerer=answerer), raise_server_exceptions=False) as test_client:
        yield test_client


def test_versions_group_into_documents_and_align_by_paragraph(answerer, questions) -> None:
    library = library_of(answerer.retriever.index)
    assert list(library.documents) == ["xquad-00", "xquad-01"]
    document = library.document("xquad-00.en")
    assert document.languages == ("zh", "en") and all(v.paragraphs == 5 for v in document.versions)
    gold = {q.para: q.english for q in questions if q.key == "xquad-00"}
    for para, english in gold.items():
        versions = library.paragraph_versions("xquad-00", para)
        assert [v.language for v in versions] == ["zh", "en"]
        assert versions[1].paragraph.text == english
        assert library.aligned(versions[0].paragraph) == {"zh": versions[0].paragraph, "en": versions[1].paragraph}


def test_a_look_up_reads_the_version_in_the_question_language_within_the_filter(answerer, questions) -> None:
    """Language versions of one document are not "several documents"; a filter bounds the look-up."""
    english = answerer.ask("What does paragraph 2 say?", where=SearchFilter.of(doc="xquad-00")).answer
    assert english.kind == "lookup" and [c.doc for c in english.citations] == ["xquad-00.en"]
    gold = next(q.english for q in questions if q.key == "xquad-00" and q.para == 2)
    assert english.citations[0].text == gold
    chinese = answerer.ask("第2段讲了什么？", where=SearchFilter.of(doc="xquad-01")).answer
    assert chinese.kind == "lookup" and [c.doc for c in chinese.citations] == ["xquad-01.zh"]
    assert [v.language for v in chinese.citations[0].versions] == ["zh", "en"]
    unfiltered = answerer.ask("What does paragraph 2 say?").answer  # two different documents have one
    assert unfiltered.kind == "ambiguous" and not unfiltered.citations


def test_library_and_paragraph_endpoints_show_every_version(client: TestClient, questions) -> None:
    documents = client.get("/library").json()
    assert [d["document"] for d in documents] == ["xquad-00", "xquad-01"]
    assert documents[0]["languages"] == ["zh", "en"] and documents[0]["title"] == "Super Bowl 50"
    assert [v["id"] for v in documents[0]["versions"]] == ["xquad-00.zh", "xquad-00.en"]
    assert all(v["paragraphs"] == 5 and v["units"] == 5 for v in documents[0]["versions"])
    body = client.get("/documents/xquad-01/paragraphs/3").json()
    assert body["document"]["id"] == "xquad-01.zh" and [v["language"] for v in body["versions"]] == ["zh", "en"]
    english = next(q.english for q in questions if q.key == "xquad-01" and q.para == 3)
    assert body["versions"][1]["paragraph"]["text"] == english and body["versions"][1]["paragraph"]["para"] == 3
    assert client.get("/documents/xquad-01/paragraphs/3", params={"lang": "en"}).json()["paragraph"]["text"] == english
    assert client.get("/documents/xquad-01.en/paragraphs/3").json()["document"]["versions"][0]["id"] == "xquad-01.zh"
    for path, params, status, message in [
        ("/documents/xquad-01/paragraphs/9", {}, 404, "no paragraph 9"),
        ("/documents/xquad-09/paragraphs/1", {}, 404, "unknown document"),
        ("/documents/xquad-01/paragraphs/1", {"lang": "fr"}, 404, "unknown document"),
    ]:
        response = client.get(path, params=params)
        assert response.status_code == status and message in response.json()["detail"]


def test_search_filters(client: TestClient) -> None:
    question = "Which team won Super Bowl 50?"
    everything = client.get("/search", params={"q": question, "k": 20}).json()
    assert {h["doc"] for h in everything["hits"]} == {"xquad-00.zh", "xquad-00.en", "xquad-01.zh", "xquad-01.en"}
    chinese = client.get("/search", params={"q": question, "k": 20, "lang": "zh"}).json()
    assert {h["language"] for h in chinese["hits"]} == {"zh"} and chinese["filters"] == {"languages": ["zh"]}
    assert len(chinese["hits"]) == 10  # a narrow filter still fills k from the allowed documents
    one = client.get("/search", params={"q": question, "doc": "xquad-01", "k": 3}).json()
    assert {h["doc"] for h in one["hits"]} <= {"xquad-01.zh", "xquad-01.en"} and len(one["hits"]) == 3
    assert client.get("/search", params={"q": question, "since": "2020"}).json()["hits"] == []  # no document is dated
    for params, status, message in [
        ({"q": question, "since": "yesterday"}, 422, "YYYY-MM-DD"),
        ({"q": question, "lang": "xx"}, 422, "Input should be 'zh', 'en'"),
        ({"q": question, "doc": "nope"}, 404, "Unknown document 'nope'"),
        ({"q": question, "session": "x"}, 422, "session"),
    ]:
        response = client.get("/search", params=params)
        assert response.status_code == status and message in response.json()["detail"], response.text
    asked = client.post("/ask", json={"question": question, "lang": "en", "doc": ["xquad-00"]}).json()
    cited = asked["citations"] + asked["see_also"]  # answered or refused, only the allowed version is quoted
    assert cited and {c["doc"] for c in cited} == {"xquad-00.en"}
    bad = client.post("/ask", json={"question": question, "until": "2013-02-30"})
    assert bad.status_code == 422 and "until" in bad.json()["detail"]


def test_english_question_found_in_chinese_quotes_the_english_paragraph(client: TestClient, answerer, questions) -> None:
    figures = measure_aligned_quotes(answerer, [q for q in questions if q.key == "xquad-00"])
    assert figures["chinese_first"] >= 0.6 * figures["questions"]
    # every answer or refusal carries the English version of the Chinese paragraph under the same key
    assert figures["aligned_version_share"] >= 0.95, figures["failures"]
    # every answer given quotes it (the verifier refuses some evidence: see eval/results/parallel_xquad)
    assert figures["answered"] > 0 and figures["aligned_quoted_share_of_answered"] >= 0.95, figures["failures"]
    answered = next(
        q for q in questions
        if q.key == "xquad-00" and not answerer.ask(q.question, where=SearchFilter.of(language="zh")).answer.refused
    )
    body = client.post("/ask", json={"question": answered.question, "lang": "zh"}).json()
    first = body["citations"][0]
    assert first["language"] == "zh" and [v["language"] for v in first["versions"]] == ["zh", "en"]
    english = first["versions"][1]
    assert english["para"] == first["para"] and english["doc"] == "xquad-00.en" and english["spans"]
    start, end = english["spans"][0]
    assert english["text"][start:end].strip() in body["answer"] and "Chinese" in body["answer"]
    assert not body["cross_lingual"] and any("searched the Chinese" in n for n in body["notes"])
    cited = [s["citation"] for s in body["segments"] if s["citation"] is not None]
    assert cited and all(0 <= c < len(body["citations"]) for c in cited)


def test_cli_list_add_replace_remove_rebuild_incrementally(library_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from rag.cli import app

    monkeypatch.setenv("RAG_HOME", str(library_settings.home))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(library_settings.seeds_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(library_settings.resolved_index_dir))
    monkeypatch.delenv("RAG_MODEL", raising=False)
    runner = CliRunner()
    listed = runner.invoke(app, ["list"])
    assert listed.exit_code == 0 and "xquad-01.en" in listed.stdout and "2 documents (4 versions)" in listed.stdout
    incoming = tmp_path / "A-70-1.en.txt"
    shutil.copyfile(library_settings.seeds_dir / "xquad-01.en.txt", incoming)
    refused = runner.invoke(app, ["add", str(incoming), "--symbol", "A/70/1", "--id", "xquad-01.en", "--no-build"])
    assert refused.exit_code == 2 and "--replace" in refused.output
    incoming.write_text(incoming.read_text(encoding="utf-8") + "\nA new closing paragraph about Warsaw.\n", encoding="utf-8")
    added = runner.invoke(app, ["add", str(incoming), "--symbol", "A/70/1", "--session", "70", "--date", "2015-10-21"])
    assert added.exit_code == 0, added.output
    assert "embedded" in added.stdout and "reused" in added.stdout
    embedded = int(added.stdout.split("embedded ")[1].split()[0])
    assert 0 < embedded <= 40  # only the new document's text: its paragraphs were already embedded as xquad-01.en
    removed = runner.invoke(app, ["remove", "A/70/1"])
    assert removed.exit_code == 0 and "removed A-70-1.en" in removed.stdout and "embedded 0 new texts" in removed.stdout
    assert runner.invoke(app, ["remove", "A/70/1"]).exit_code == 2
    searched = runner.invoke(app, ["search", "Warsaw", "--lang", "en", "--doc", "xquad-01", "-k", "2", "--json"])
    assert searched.exit_code == 0 and '"doc": "xquad-01.en"' in searched.stdout and "xquad-01.zh" not in searched.stdout
    assert runner.invoke(app, ["search", "Warsaw", "--since", "someday"]).exit_code == 2


def test_live_swap_serves_a_new_document_without_failing_requests(client: TestClient, library_settings: Settings) -> None:
    from rag.engine import build_from_documents, load_seed_corpus

    statuses: list[int] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            statuses.append(client.get("/search", params={"q": "Warsaw stock exchange", "k": 3}).status_code)
            statuses.append(client.get("/library").status_code)

    worker = threading.Thread(target=hammer)
    worker.start()
    try:
        write_parallel_library(DEFAULT_XQUAD_DIR, library_settings.seeds_dir, (0, 1, 2))
        build_from_documents(library_settings, load_seed_corpus(library_settings), index_dir=library_settings.resolved_index_dir)
        reloader = client.app.state.reloader
        assert reloader.reload().changed
        assert not reloader.reload().changed  # already serving the live build
        fresh = client.app.state.answerer
    finally:
        stop.set()
        worker.join()
    assert statuses and set(statuses) == {200}
    assert [d["document"] for d in client.get("/library").json()] == ["xquad-00", "xquad-01", "xquad-02"]
    assert len(load_catalogue(library_settings.seeds_dir).documents) == 6
    hits = client.get("/search", params={"q": "x", "doc": "xquad-02", "k": 1, "mode": "lexical"}).json()
    assert hits["hits"] == [] or hits["hits"][0]["doc"].startswith("xquad-02")
    assert SearchFilter.of(doc="xquad-02").allowed(fresh.retriever.index.documents) == {"xquad-02.zh", "xquad-02.en"}
