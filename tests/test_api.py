"""The real FastAPI app with the real model and an index of the seed: answers and every bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app

pytestmark = pytest.mark.slow

SEED = "000_75fc5355e1129b16"


@pytest.fixture(scope="module")
def client(settings, answerer):
    with TestClient(create_app(settings, answerer=answerer), raise_server_exceptions=False) as test_client:
        yield test_client


def test_chinese_question_gets_a_cited_chinese_answer(client: TestClient) -> None:
    response = client.post("/ask", json={"question": "多哈会议有多少名政府代表参加？"})
    assert response.status_code == 200
    body = response.json()
    assert body["language"] == "zh" and not body["refused"]
    first = body["citations"][0]
    assert first["para"] == 3 and first["doc"] == SEED and first["symbol"] is None
    assert "（第3段）" in body["answer"]
    start, end = first["spans"][0]
    assert "4 300" in first["text"][start:end]
    assert first["section"][0].startswith("一.")


def test_english_question_quotes_chinese_evidence_and_says_so(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "How many government representatives attended the Doha conference?"}).json()
    assert body["language"] == "en" and not body["refused"] and body["cross_lingual"]
    assert body["citations"][0]["language"] == "zh"
    assert "(para. 3)" in body["answer"] and "not translated" in body["answer"]
    assert "4 300" in body["answer"] and body["notes"]


def test_every_cited_id_is_among_the_retrieved_units(client: TestClient) -> None:
    for question in ["爱知目标11 保护区", "What did the Secretary-General urge regarding drought?", "名古屋议定书批准情况"]:
        body = client.post("/ask", json={"question": question, "k": 5}).json()
        hits = client.get("/search", params={"q": question, "k": 5}).json()["hits"]
        retrieved = {h["id"] for h in hits}
        for citation in body["citations"] + body["see_also"]:
            # a sentence of a retrieved paragraph that lies in one of its sub-units cites the sub-unit
            assert citation["id"] in retrieved or citation["id"].rsplit("/", 1)[0] in retrieved


def test_sub_unit_citation_style(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "保护区的扩大表明保护多少陆地的目标可以实现？"}).json()
    assert body["citations"][0]["sub"] == "target 11"
    assert "（第85段，目标11）" in body["answer"]


def test_health_reads_counts_made_once_per_build(client: TestClient, answerer) -> None:
    first = client.get("/health").json()
    statements: list[str] = []
    for db in answerer.retriever.index.store._reader.opened:  # every connection the store has opened
        db.set_trace_callback(statements.append)
    try:
        assert [client.get("/health").json() for _ in range(3)] == [first] * 3
    finally:
        for db in answerer.retriever.index.store._reader.opened:
            db.set_trace_callback(None)
    assert statements == [] and first["units"]["paragraph"] == 90 and first["units"]["total"] >= sum(
        v for k, v in first["units"].items() if k not in ("total", "chunks"))


def test_search_documents_paragraph_and_health(client: TestClient) -> None:
    hits = client.get("/search", params={"q": "绿色气候基金 东道国", "k": 3}).json()["hits"]
    assert len(hits) == 3 and hits[0]["para"] == 15
    documents = client.get("/documents").json()
    assert len(documents) == 1
    units = documents[0].pop("units")
    assert documents == [{
        "id": SEED, "symbol": None, "title": "联合国各项环境公约的执行情况：秘书长的说明",
        "title_en": "Implementation of United Nations environmental conventions: Note by the Secretary-General",
        "language": "zh", "session": 68, "agenda_items": ["19(d)", "19(e)", "19(f)"], "paragraphs": 90,
        "date": None, "body": None, "document": SEED,
        "versions": [{"id": SEED, "language": "zh", "title": "联合国各项环境公约的执行情况：秘书长的说明", "paragraphs": 90, "units": units}],
    }]
    assert units > 90  # paragraphs, their sub-units, front matter and footnotes
    paragraph = client.get(f"/documents/{SEED}/paragraphs/85").json()
    assert [s["sub"] for s in paragraph["sub_units"]] == [f"target {n}" for n in range(1, 21)]
    assert paragraph["previous"] == 84 and paragraph["next"] == 86
    assert paragraph["paragraph"]["section"][1].startswith("D.")
    contents = client.get(f"/documents/{SEED}/paragraphs").json()
    assert [p["para"] for p in contents] == list(range(1, 91))
    assert contents[84]["sub_units"] == [f"target {n}" for n in range(1, 21)] and contents[2]["sub_units"] == list("abcde")
    assert contents[80]["section"][-1] == "1. 名古屋议定书"
    health = client.get("/health").json()
    assert health["index_loaded"] and health["units"]["paragraph"] == 90 and health["manifest"]["dimension"] == 384


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "message"),
    [
        ("post", "/ask", {"json": {"question": ""}}, 422, "empty"),
        ("post", "/ask", {"json": {"question": "   \n "}}, 422, "empty"),
        ("post", "/ask", {"json": {"question": "问" * 2001}}, 422, "问题过长"),
        ("post", "/ask", {"json": {"question": "why " * 600}}, 422, "too long"),
        ("post", "/ask", {"json": {"question": "绿色气候基金", "k": 0}}, 422, "k 必须在 1 到 50 之间"),
        ("post", "/ask", {"json": {"question": "Green Climate Fund", "k": 51}}, 422, "between 1 and 50"),
        ("post", "/ask", {"json": {"question": "Green Climate Fund", "k": "many"}}, 422, "'k' must be an integer"),
        ("post", "/ask", {"json": {"question": "Green Climate Fund", "doc": "A-nope"}}, 404, "Unknown document"),
        ("post", "/ask", {"json": {"question": "x", "colour": "red"}}, 422, "unknown field 'colour'"),
        ("post", "/ask", {"json": {"k": 3}}, 422, "'question' is required"),
        ("post", "/ask", {"json": ["not", "an", "object"]}, 422, "JSON object"),
        ("post", "/ask", {"content": b'{"question": "oops', "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
        ("post", "/ask", {"content": b"question=hello", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 415, "JSON"),
        ("post", "/ask", {"content": b"", "headers": {"content-type": "application/json"}}, 422, "required"),
        ("get", "/search", {"params": {"q": ""}}, 422, "empty"),
        ("get", "/search", {}, 422, "'q' is required"),
        ("get", "/search", {"params": {"q": "基金", "k": 500}}, 422, "k"),
        ("get", "/search", {"params": {"q": "fund", "mode": "magic"}}, 422, "mode"),
        ("get", f"/documents/{SEED}/paragraphs/91", {}, 404, "no paragraph 91"),
        ("get", f"/documents/{SEED}/paragraphs/abc", {}, 422, "'para' must be an integer"),
        ("get", "/documents/nope/paragraphs/1", {}, 404, "unknown document"),
        ("get", "/documents/nope/paragraphs", {}, 404, "未知文件"),
        ("get", "/nowhere", {}, 404, "no such endpoint"),
        ("delete", "/ask", {}, 405, "not allowed"),
    ],
)
def test_bad_input_gets_a_clear_4xx(client: TestClient, method: str, path: str, kwargs: dict, status: int, message: str) -> None:
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and message in detail


def test_unanswerable_question_is_refused_with_closest_paragraphs(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "What is the capital of Australia?"}).json()
    assert body["refused"] and body["answer"] == "The documents do not answer this."
    assert body["citations"] == [] and len(body["see_also"]) == 3
    body = client.post("/ask", json={"question": "2022年世界杯足球赛的冠军是哪个国家？"}).json()
    assert body["refused"] and body["answer"] == "文件中没有找到答案。"


def test_openapi_schema_is_served(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/ask", "/search", "/documents", "/health"} <= set(schema["paths"])


def test_ask_returns_segments_and_formatted_references(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "爱知目标11的进展"}).json()
    assert body["kind"] == "answer" and body["segments"]
    for segment in body["segments"]:
        assert segment["citation"] is None or 0 <= segment["citation"] < len(body["citations"])
    cited = [s for s in body["segments"] if s["citation"] is not None]
    assert cited and body["citations"][cited[0]["citation"]]["reference"] == "第85段，目标11"
    assert "".join(s["text"] for s in body["segments"]) in body["answer"].replace("（第85段，目标11）", "")


def test_ask_look_up_and_unknown_paragraph(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "第3(a)段"}).json()
    assert body["kind"] == "lookup" and not body["refused"]
    assert body["citations"][0]["reference"] == "第3(a)段" and body["segments"][0]["citation"] == 0
    body = client.post("/ask", json={"question": "第91段讲了什么"}).json()
    assert body["kind"] == "no_such_unit" and not body["refused"]
    assert body["answer"] == "本文件只有第1至90段。" and body["citations"] == []


def test_paragraph_units_carry_their_formatted_references(client: TestClient) -> None:
    body = client.get(f"/documents/{SEED}/paragraphs/85").json()
    assert body["paragraph"]["references"] == {"zh": "第85段", "en": "para. 85"}
    target = next(u for u in body["sub_units"] if u["sub"] == "target 11")
    assert target["references"] == {"zh": "第85段，目标11", "en": "para. 85, target 11"}
