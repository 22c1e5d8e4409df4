"""HTTP hardening on the real app and model: bad text, limits, headers, auth, rate limit, reload.

Each test is a defect found by trying the service as an operator or an attacker would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from live_server import live_server
from typer.testing import CliRunner

from api.app import create_app
from index.store import load_index
from rag.config import Settings
from rag.qa import QuestionAnswerer
from rag.retriever import Retriever
from tests.test_index import DOCS, _build, _FakeEmbedder

KEY = "s3cret-key-for-the-tests-0123456789"
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


def _fake_answerer(index_dir: Path) -> QuestionAnswerer:
    """Index mechanics without the model: lexical search and the document routes work."""
    return QuestionAnswerer(Retriever(load_index(index_dir), None))


def _settings(tmp_path: Path, **api: object) -> Settings:
    """Settings of a service in ``tmp_path`` with these ``api`` group fields (host, key, rate_limit…)."""
    return Settings(_env_file=None, home=tmp_path).with_changes({f"api.{name}": value for name, value in api.items()})


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, QuestionAnswerer]:
    _build(tmp_path / "index", DOCS, _FakeEmbedder())
    return tmp_path / "index", _fake_answerer(tmp_path / "index")


# -- bad input and limits (real model) -------------------------------------------------------------


@pytest.fixture(scope="module")
def client(settings, answerer):
    with TestClient(create_app(settings, answerer=answerer), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.slow
@pytest.mark.parametrize("body", ['{"question": "\\ud800"}', '{"question": "气候\\udfff变化"}', '{"question": "fund", "doc": "\\ud800"}'])
def test_lone_surrogate_is_a_422_sentence_not_a_500(client: TestClient, body: str) -> None:
    response = client.post("/ask", content=body.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert "lone surrogate" in response.json()["detail"]


@pytest.mark.slow
def test_limits_are_declared_in_the_schema_and_errors_match_it(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    question = schema["components"]["schemas"]["AskRequest"]["properties"]["question"]
    assert question["maxLength"] == 2000 and question["minLength"] == 1
    k = {p["name"]: p["schema"] for p in schema["paths"]["/search"]["get"]["parameters"]}["k"]
    assert k["minimum"] == 1 and k["maximum"] == 50
    ask = schema["paths"]["/ask"]["post"]["responses"]
    for code in ("400", "413", "415", "422", "429"):
        assert ask[code]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for response in (client.post("/ask", json={"question": "x" * 2001}), client.get("/search", params={"q": "a", "k": 0})):
        assert response.status_code == 422 and set(response.json()) == {"detail"} and isinstance(response.json()["detail"], str)


@pytest.mark.slow
def test_request_body_limit_by_length_and_while_streaming(client: TestClient) -> None:
    big = b'{"question": "' + b"x" * 1_100_000 + b'"}'
    response = client.post("/ask", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "larger than 1000000 bytes" in response.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"question": "'
        for _ in range(20):
            yield b"y" * 100_000
        yield b'"}'

    streamed = client.post("/ask", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413, streamed.text


@pytest.mark.slow
@pytest.mark.parametrize(
    ("method", "path"), [("get", "/health"), ("get", "/"), ("get", "/static/app.js"), ("get", "/nowhere"), ("delete", "/ask"), ("get", "/docs")]
)
def test_security_headers_on_every_response(client: TestClient, method: str, path: str) -> None:
    response = getattr(client, method)(path)
    assert all(h in response.headers for h in SECURITY_HEADERS), dict(response.headers)
    assert response.headers["x-content-type-options"] == "nosniff" and response.headers["x-frame-options"] == "DENY"


@pytest.mark.slow
def test_405_says_which_methods_are_allowed(client: TestClient) -> None:
    response = client.delete("/ask")
    assert response.status_code == 405 and response.headers["allow"] == "POST" and "POST" in response.json()["detail"]


@pytest.mark.slow
def test_swagger_ui_is_served_locally(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "cdn" not in page.lower() and "https://" not in page
    for asset in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"):
        assert asset in page and client.get(asset).status_code == 200


@pytest.mark.slow
def test_health_reveals_no_paths(client: TestClient, seed_index_dir: Path) -> None:
    text = client.get("/health").text
    assert str(seed_index_dir) not in text and "/tmp" not in text and '"path"' not in text


# -- exposure: auth, rate limit, CORS (fake-embedder index, no model) -------------------------------


def test_off_loopback_every_data_endpoint_needs_the_key(small, tmp_path: Path) -> None:
    _, answerer = small
    app = create_app(_settings(tmp_path, host="0.0.0.0", key=KEY), answerer=answerer)
    with TestClient(app) as c:
        for path in ("/documents", "/search?q=climate&mode=lexical", "/documents/d1/paragraphs"):
            assert c.get(path).status_code == 401
            assert c.get(path, headers={"Authorization": "Bearer wrong-key-wrong-key"}).status_code == 401
            assert c.get(path, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
            assert c.get(path, headers={"X-API-Key": KEY}).status_code == 200
        assert c.post("/ask", json={"question": "climate"}).status_code == 401
        for open_path in ("/health", "/", "/static/app.js"):
            assert c.get(open_path).status_code == 200
        denied = c.get("/documents")
        assert denied.headers["www-authenticate"] == "Bearer" and "API key" in denied.json()["detail"]


def test_on_loopback_data_is_open_but_reload_always_needs_the_key(small, tmp_path: Path) -> None:
    _, answerer = small
    with TestClient(create_app(_settings(tmp_path, key=KEY), answerer=answerer)) as c:
        assert c.get("/documents").status_code == 200
        assert c.post("/admin/reload").status_code == 401
        assert c.post("/admin/reload", headers={"X-API-Key": KEY}).json()["changed"] is False
    with TestClient(create_app(_settings(tmp_path), answerer=answerer)) as c:  # no key configured: reload is closed
        response = c.post("/admin/reload", headers={"X-API-Key": "anything-at-all-here"})
        assert response.status_code == 401 and "RAG_API_KEY" in response.json()["detail"]


def test_serve_on_all_interfaces_without_a_key_refuses_to_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from rag.cli import app

    monkeypatch.setenv("RAG_HOME", str(tmp_path))
    monkeypatch.delenv("RAG_API_KEY", raising=False)
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--index-dir", str(tmp_path / "none")])
    assert result.exit_code == 2 and "refusing to serve on 0.0.0.0 without authentication" in result.output
    assert "RAG_API_KEY" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "none").exists()  # refused before touching anything


def test_rate_limit_is_per_client_and_off_on_loopback_by_default(small, tmp_path: Path) -> None:
    _, answerer = small
    limited = create_app(_settings(tmp_path, rate_limit="3/minute", rate_limit_on_loopback=True), answerer=answerer)
    with TestClient(limited) as c:
        statuses = [c.get("/documents").status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        refused = c.get("/documents")
        assert int(refused.headers["retry-after"]) >= 1 and "too many requests" in refused.json()["detail"]
        assert c.get("/health").status_code == 200  # monitoring is never limited
    with TestClient(create_app(_settings(tmp_path, rate_limit="3/minute"), answerer=answerer)) as c:
        assert {c.get("/documents").status_code for _ in range(10)} == {200}


def test_cors_is_closed_unless_configured(small, tmp_path: Path) -> None:
    _, answerer = small
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    with TestClient(create_app(_settings(tmp_path), answerer=answerer)) as c:
        assert "access-control-allow-origin" not in c.options("/ask", headers=preflight).headers
        assert "access-control-allow-origin" not in c.get("/documents", headers={"Origin": "https://evil.example"}).headers
    opened = create_app(_settings(tmp_path, cors_origins=["https://ok.example"]), answerer=answerer)
    with TestClient(opened) as c:
        allowed = c.options("/ask", headers={**preflight, "Origin": "https://ok.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://ok.example"


# -- stale data: a rebuilt index is served without a restart, with no failed request ----------------


def _wait_for_requests(statuses: list[int], count: int, timeout_s: float = 60.0) -> None:
    """Requests are counted, not timed: a loaded machine answers fewer per second."""
    deadline = time.monotonic() + timeout_s
    while len(statuses) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_rebuild_while_serving_then_reload_fails_no_request(small, tmp_path: Path) -> None:
    index_dir, answerer = small
    app = create_app(_settings(tmp_path, key=KEY, reload_check_s=0), answerer=answerer)
    statuses: list[int] = []
    stop = threading.Event()
    with live_server(app, lifespan="off") as url:

        def hammer() -> None:
            with httpx.Client(base_url=url, timeout=30) as http:
                while not stop.is_set():
                    for path in ("/search?q=climate&mode=lexical", "/documents", "/health"):
                        statuses.append(http.get(path).status_code)

        with ThreadPoolExecutor(4) as pool:
            workers = [pool.submit(hammer) for _ in range(4)]
            _wait_for_requests(statuses, 12)
            _build(index_dir, {**DOCS, "d9": "1. A paragraph added by the rebuild.\n"}, _FakeEmbedder())
            assert httpx.get(f"{url}/health").json()["stale"] is True
            reloaded = httpx.post(f"{url}/admin/reload", headers={"Authorization": f"Bearer {KEY}"}).json()
            assert reloaded["changed"] is True
            _wait_for_requests(statuses, len(statuses) + 12)
            stop.set()
            for worker in workers:
                worker.result()
        assert "d9" in {d["id"] for d in httpx.get(f"{url}/documents").json()}
        assert httpx.get(f"{url}/health").json()["stale"] is False
    assert len(statuses) > 20 and set(statuses) == {200}, sorted(set(statuses))


def test_service_notices_a_rebuild_by_itself(small, tmp_path: Path) -> None:
    index_dir, answerer = small
    app = create_app(_settings(tmp_path, reload_check_s=0.1), answerer=answerer)
    with TestClient(app) as c:
        assert "d9" not in {d["id"] for d in c.get("/documents").json()}
        _build(index_dir, {**DOCS, "d9": "1. A paragraph added by the rebuild.\n"}, _FakeEmbedder())
        deadline = time.monotonic() + 30  # generous: the check runs every 0.1 s, the load is the machine's
        while "d9" not in {d["id"] for d in c.get("/documents").json()}:
            assert time.monotonic() < deadline, "the rebuilt index was never picked up"
            time.sleep(0.1)


def test_a_damaged_new_build_is_refused_and_the_old_one_kept_serving(small, tmp_path: Path) -> None:
    index_dir, answerer = small
    app = create_app(_settings(tmp_path, key=KEY, reload_check_s=0), answerer=answerer)
    report = _build(index_dir, {**DOCS, "d9": "1. New.\n"}, _FakeEmbedder())
    (report.path / "dense.faiss").write_bytes(b"\x00" * 10)
    with TestClient(app) as c:
        response = c.post("/admin/reload", headers={"X-API-Key": KEY})
        assert response.status_code == 409 and "dense.faiss" in response.json()["detail"]
        assert c.get("/documents").status_code == 200 and "d9" not in {d["id"] for d in c.get("/documents").json()}
