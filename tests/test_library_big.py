"""A library of over 200 documents (XQuAD articles as Chinese and English versions, CMRC trial
articles, the seed, Word / PDF / HTML files; tests/big_library.py) through the API and the CLI:
every filter on /search and /ask, add / replace / remove of real files, and index swaps while a
stream of requests runs. The library is built once per session (conftest ``big_library``); every
test that changes it puts it back as it found it.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from live_server import live_server
from typer.testing import CliRunner

from api.app import create_app
from rag.catalogue import DocumentMeta, load_catalogue
from rag.parser import parse_document
from tests.big_library import BIG_LIBRARY_KEY, answerer_over
from tests.seed_documents import write_un_docx

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {BIG_LIBRARY_KEY}"}
SUPER_BOWL = "Which NFL team won Super Bowl 50 for the 2015 season?"
KRILL_ZH = "1. 委员会注意到，南极磷虾在第48统计区的捕捞量达到45万吨。\n\n2. 委员会请成员按每网次报告磷虾渔获中的幼鱼兼捕情况。\n"
KRILL = (
    "1. The Commission notes that the catch of Antarctic krill in statistical area 48 reached 450,000 tonnes.\n\n"
    "2. The Commission asks members to report krill bycatch of larval fish by haul.\n"
)


@pytest.fixture
def client(big_library, answerer):
    big, _ = big_library
    with TestClient(create_app(big, answerer=answerer_over(big, answerer)), raise_server_exceptions=False) as test_client:
        yield test_client


def _catalogue(big) -> dict[str, DocumentMeta]:
    return {d.id: d for d in load_catalogue(big.seeds_dir).documents}


def _folder_state(big) -> tuple[set[str], set[str]]:
    """Files and catalogued ids: what "put back as it was" compares."""
    return {p.name for p in big.seeds_dir.iterdir()}, set(_catalogue(big))


def _docx(tmp_path: Path, name: str, text: str, symbol: str) -> Path:
    parsed = parse_document(name, text, path=f"{name}.txt", encoding="utf-8")
    return write_un_docx(parsed, tmp_path / f"{name}.docx", recycle="Please recycle", symbol=symbol)


def test_the_library_lists_over_200_documents_with_versions_metadata_and_counts(client: TestClient, big_library) -> None:
    _, described = big_library
    documents = client.get("/library").json()
    assert len(documents) == described.documents >= 200
    assert sum(len(d["versions"]) for d in documents) == described.versions == len(client.get("/documents").json())
    by_key = {d["document"]: d for d in documents}
    bowl = by_key["A/70/100"]
    assert bowl["languages"] == ["zh", "en"] and [v["id"] for v in bowl["versions"]] == ["xquad-00.zh", "xquad-00.en"]
    assert (bowl["session"], bowl["date"], bowl["body"], bowl["title"]) == (70, "2015-01-05", "General Assembly", "Super Bowl 50")
    assert all(v["paragraphs"] == 1 == v["units"] for v in bowl["versions"])
    seed = by_key[described.seed_id]
    assert seed["versions"][0]["paragraphs"] == 90 and seed["session"] == 68 and seed["symbol"] is None
    for made in described.formats:  # Word, PDF and HTML files read back as two numbered paragraphs
        version = by_key[made.symbol]["versions"][0]
        assert (version["id"], version["paragraphs"]) == (made.id, 2), made
        assert made.sentence in client.get(f"/documents/{made.id}/paragraphs/2").json()["paragraph"]["text"]
    cmrc = [d for d in documents if d["document"].startswith("cmrc-")]
    assert len(cmrc) >= 150 and all(d["languages"] == ["zh"] and d["symbol"] is None for d in cmrc)


FILTERS: list[tuple[dict[str, Any], Any]] = [
    ({"symbol": "A/70/100"}, lambda m: m.symbol == "A/70/100"),
    ({"doc": "A/71/101"}, lambda m: m.symbol == "A/71/101"),
    ({"doc": "xquad-02.en"}, lambda m: m.id == "xquad-02.en"),
    ({"lang": "en"}, lambda m: m.language == "en"),
    ({"session": 71}, lambda m: m.session == 71),
    ({"session": 68}, lambda m: m.session == 68),  # the seed alone
    ({"since": "2016-01-01", "until": "2016-03-31"}, lambda m: m.date is not None and "2016-01-01" <= m.date <= "2016-03-31"),
    ({"body": "Security Council"}, lambda m: m.body == "Security Council"),
    ({"lang": "zh", "session": 72, "body": "Economic and Social Council"},
     lambda m: m.language == "zh" and m.session == 72 and m.body == "Economic and Social Council"),
]


@pytest.mark.parametrize(("params", "holds"), FILTERS, ids=[json.dumps(f) for f, _ in FILTERS])
def test_every_search_hit_and_every_quote_keeps_to_the_filter(client: TestClient, big_library, params, holds) -> None:
    big, _ = big_library
    catalogue = _catalogue(big)
    allowed = {doc for doc, meta in catalogue.items() if holds(meta)}
    assert 0 < len(allowed) < len(catalogue)
    hits = client.get("/search", params={"q": SUPER_BOWL, "k": 10, **params}).json()["hits"]
    assert hits and {h["doc"] for h in hits} <= allowed, params
    assert len(hits) >= min(10, len(allowed))  # a narrow filter still fills k from the documents it allows
    body = client.post("/ask", json={"question": SUPER_BOWL, **{k: [v] if k == "doc" else v for k, v in params.items()}}).json()
    quoted = body["citations"] + body["see_also"]
    assert quoted and {c["doc"] for c in quoted} <= allowed, params


def test_filters_pick_the_right_document_and_refuse_what_they_exclude(client: TestClient) -> None:
    first = client.get("/search", params={"q": SUPER_BOWL, "k": 3, "lang": "en"}).json()["hits"]
    assert first[0]["doc"] == "xquad-00.en"
    answer = client.post("/ask", json={"question": SUPER_BOWL, "symbol": "A/70/100", "lang": "en"}).json()
    assert (answer["citations"] + answer["see_also"])[0]["doc"] == "xquad-00.en"
    elsewhere = client.post("/ask", json={"question": SUPER_BOWL, "session": 71}).json()
    assert "xquad-00.en" not in {c["doc"] for c in elsewhere["citations"] + elsewhere["see_also"]}
    nothing = client.get("/search", params={"q": SUPER_BOWL, "since": "2030-01-01"}).json()
    assert nothing["hits"] == []
    empty_range = client.get("/search", params={"q": SUPER_BOWL, "since": "2016-05-01", "until": "2016-01-01"})
    assert empty_range.status_code == 200 and empty_range.json()["hits"] == []  # a range that holds no date
    for params, status, says in [
        ({"symbol": "A/70/100", "doc": "no-such-document"}, 404, "no-such-document"),
        ({"session": 0}, 422, "session"),
    ]:
        response = client.get("/search", params={"q": SUPER_BOWL, **params})
        assert response.status_code == status and says in response.json()["detail"], response.text


def test_add_replace_and_remove_real_files_over_the_api(client: TestClient, big_library, tmp_path: Path) -> None:
    big, described = big_library
    before = _folder_state(big)
    docx = _docx(tmp_path, "krill", KRILL, "CCAMLR/35/1")
    added = client.post("/documents", files={"file": ("krill.docx", docx.read_bytes())},
                        data={"symbol": "CCAMLR/35/1", "lang": "en", "session": "35", "date": "2016-10-28", "body": "Commission"}, headers=AUTH)
    assert added.status_code == 201, added.text
    assert added.json()["changed"] == [{"id": "krill", "file": "krill.docx", "document": "CCAMLR/35/1", "language": "en"}]
    assert 0 < added.json()["embedded"] <= 6 and added.json()["reused"] > 1000  # only the new document's text
    assert len(client.get("/library").json()) == described.documents + 1
    hits = client.get("/search", params={"q": "Antarctic krill catch in area 48", "k": 3}).json()["hits"]
    assert (hits[0]["doc"], hits[0]["para"]) == ("krill", 1)
    only = client.get("/search", params={"q": "Antarctic krill catch", "body": "Commission", "k": 5}).json()["hits"]
    assert {h["doc"] for h in only} == {"krill"}

    # replacing is adding the same document again: the same file name, or the same symbol and language
    again = client.post("/documents", files={"file": ("krill.docx", docx.read_bytes())}, data={"symbol": "CCAMLR/35/1"}, headers=AUTH)
    assert again.status_code == 409 and "replace" in again.json()["detail"]
    revised = KRILL.replace("450,000", "620,000")
    page = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Krill</title></head><body>'
            + "".join(f"<p>{p}</p>" for p in revised.strip().split("\n\n")) + "</body></html>")
    replaced = client.post("/documents", files={"file": ("krill-rev1.html", page.encode())},
                           data={"symbol": "CCAMLR/35/1", "lang": "en", "replace": "true"}, headers=AUTH)
    assert replaced.status_code == 201, replaced.text
    assert replaced.json()["embedded"] <= 4  # the second paragraph is unchanged text: reused
    assert not (big.seeds_dir / "krill.docx").exists() and (big.seeds_dir / "krill-rev1.html").exists()
    assert "620,000" in client.get("/documents/krill-rev1/paragraphs/1").json()["paragraph"]["text"]
    assert len(client.get("/library").json()) == described.documents + 1

    # a symbol holds slashes: DELETE /documents/CCAMLR/35/1 removes every version of it
    gone = client.delete("/documents/CCAMLR/35/1", headers=AUTH)
    assert gone.status_code == 200, gone.text
    assert [c["id"] for c in gone.json()["changed"]] == ["krill-rev1"] and gone.json()["embedded"] == 0
    assert client.delete("/documents/CCAMLR/35/1", headers=AUTH).status_code == 404
    assert len(client.get("/library").json()) == described.documents
    assert _folder_state(big) == before


def test_bad_files_are_refused_with_a_sentence_and_the_library_is_untouched(client: TestClient, big_library) -> None:
    big, _ = big_library
    before = _folder_state(big)
    served = client.get("/health").json()["manifest"]["corpus_hash"]
    for name, content, says in [
        ("broken.docx", b"PK\x03\x04 not a Word file", "broken.docx"),
        ("scan.pdf", b"%PDF-1.4\n%%EOF\n", "scan.pdf"),
        ("noise.txt", bytes(range(256)) * 20, "noise.txt"),
    ]:
        response = client.post("/documents", files={"file": (name, content)}, headers=AUTH)
        detail = response.json()["detail"]
        assert response.status_code == 400 and detail.startswith(f"{says}: "), response.text  # the name as sent, not a server path
        assert "Traceback" not in response.text and "\n" not in detail
    assert _folder_state(big) == before and client.get("/health").json()["manifest"]["corpus_hash"] == served


def test_index_swaps_during_a_stream_of_requests_fail_none(big_library, answerer, tmp_path: Path) -> None:
    """Adding and removing a document rebuilds and swaps the index while four clients keep asking."""
    big, described = big_library
    app = create_app(big, answerer=answerer_over(big, answerer))
    results: list[tuple[str, int]] = []
    seen_krill = threading.Event()
    stop = threading.Event()

    def stream(base: str, worker: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            while not stop.is_set():
                if worker == 0:
                    response = http.get("/search", params={"q": "Antarctic krill catch", "k": 5, "lang": "en"})
                    if response.status_code == 200 and any(h["doc"] == "krill" for h in response.json()["hits"]):
                        seen_krill.set()
                elif worker == 1:
                    response = http.post("/ask", json={"question": SUPER_BOWL, "session": 70})
                elif worker == 2:
                    response = http.get("/library")
                else:
                    response = http.get("/documents/xquad-00.en/paragraphs/1")
                results.append((response.request.url.path, response.status_code))

    with live_server(app) as base:
        workers = [threading.Thread(target=stream, args=(base, n)) for n in range(4)]
        for worker in workers:
            worker.start()
        try:
            with httpx.Client(base_url=base, timeout=300, headers=AUTH) as admin:
                added = admin.post("/documents", files={"file": ("krill.txt", KRILL.encode())}, data={"symbol": "CCAMLR/35/1"})
                assert added.status_code == 201, added.text
                assert seen_krill.wait(60), "the stream never saw the added document"
                during = len(results)
                removed = admin.delete("/documents/krill")
                assert removed.status_code == 200, removed.text
                deadline = dt.datetime.now() + dt.timedelta(seconds=30)
                while len(results) < during + 8 and dt.datetime.now() < deadline:
                    stop.wait(0.2)
        finally:
            stop.set()
            for worker in workers:
                worker.join(60)
    failures = [r for r in results if r[1] != 200]
    assert len(results) >= 20 and not failures, failures[:5]
    assert len(app.state.answerer.retriever.index.documents) == described.versions


def test_cli_list_filters_add_and_remove(big_library, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from rag.cli import app

    big, described = big_library
    before = _folder_state(big)
    for name, value in (("RAG_HOME", big.home), ("RAG_SEEDS_DIR", big.seeds_dir), ("RAG_INDEX_DIR", big.resolved_index_dir)):
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("RAG_MODEL", raising=False)
    runner = CliRunner()

    listed = runner.invoke(app, ["list", "--json"])
    assert listed.exit_code == 0, listed.output
    records = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(records) == described.versions and len({r["document"] for r in records}) == described.documents >= 200
    table = runner.invoke(app, ["list"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and f"{described.documents} documents ({described.versions} versions)" in table.stdout
    assert "A/70/100" in table.stdout and "xquad-00.zh" in table.stdout

    def search(question: str, *options: str) -> set[str]:
        # lexical and Chinese: the filters are the point, and such a search needs neither the model nor the dictionary
        result = runner.invoke(app, ["search", question, "--mode", "lexical", "-k", "10", "--json", *options])
        assert result.exit_code == 0, result.output
        return {h["doc"] for h in json.loads(result.stdout)["hits"]}

    catalogue = _catalogue(big)
    assert search("超级碗50是一场什么比赛？", "--symbol", "A/70/100") == {"xquad-00.zh"}
    assert search("超级碗50是一场什么比赛？", "--doc", "A/70/100", "--lang", "en") == set()  # no English words in common
    assert search("超级碗50是一场什么比赛？", "--session", "71") == set()  # xquad-00 is of session 70
    broad = "中国的历史、文化与经济发展"
    chosen = search(broad, "--session", "71", "--since", "2015-06-01", "--until", "2016-12-31")
    assert chosen and all(catalogue[d].session == 71 and "2015-06-01" <= (catalogue[d].date or "") <= "2016-12-31" for d in chosen)
    assert {catalogue[d].body for d in search(broad, "--body", "Security Council")} == {"Security Council"}
    assert {catalogue[d].session for d in search(broad, "--session", "70", "--session", "72")} == {70, 72}
    assert {catalogue[d].language for d in search(broad, "--lang", "zh")} == {"zh"}
    refused = runner.invoke(app, ["search", broad, "--since", "2016-13-01"])
    assert refused.exit_code == 2 and "YYYY-MM-DD" in refused.output

    krill = tmp_path / "krill.html"
    krill.write_text("<html><body>" + "".join(f"<p>{p}</p>" for p in KRILL_ZH.strip().split("\n\n")) + "</body></html>", encoding="utf-8")
    added = runner.invoke(app, ["add", str(krill), "--symbol", "CCAMLR/35/1", "--session", "35", "--date", "2016-10-28"])
    assert added.exit_code == 0, added.output
    assert int(added.stdout.split("embedded ")[1].split()[0]) <= 6  # a library of 200 documents, a few new texts
    krill_question = "南极磷虾的捕捞量是多少？"
    assert search(krill_question, "--symbol", "CCAMLR/35/1") == {"krill"}
    assert "krill" in search(krill_question, "--session", "35", "--since", "2016-10-01", "--lang", "zh")
    again = runner.invoke(app, ["add", str(krill), "--symbol", "CCAMLR/35/1", "--no-build"])
    assert again.exit_code == 2 and "--replace" in again.output
    removed = runner.invoke(app, ["remove", "CCAMLR/35/1"])
    assert removed.exit_code == 0 and "removed krill" in removed.stdout and "embedded 0 new texts" in removed.stdout
    assert _folder_state(big) == before
    assert "krill" not in search(krill_question)
