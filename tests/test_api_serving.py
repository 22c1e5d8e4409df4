"""The serving fast path keeps the API's contract: /ask and /search make their JSON body in the
worker thread (no FastAPI re-validation, no second thread hop) and rag serve runs on uvloop and
httptools; the bodies, headers and error shapes must be what they were."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from pydantic import TypeAdapter

from api.app import SERVE_OPTIONS, create_app
from api.responses import json_response
from api.schemas import AskResponse, SearchResponse

SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy", "permissions-policy")


@contextmanager
def served(app) -> Iterator[str]:
    """``app`` under uvicorn with rag serve's own options (uvloop, httptools), on a free port."""
    options = {k: v for k, v in SERVE_OPTIONS.items() if k != "log_level"}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_json_response_is_the_body_fastapi_would_send() -> None:
    model = AskResponse(
        answer="“气候”（第3段）", segments=[{"text": "气候", "citation": 0}, {"text": " and", "citation": None}], kind="answer",
        language="zh", refused=False, confidence=0.5, cross_lingual=False, citations=[], see_also=[], notes=["n"], timings_ms={"total": 1.25},
    )
    response = json_response(model)
    assert response.media_type == "application/json" and response.headers["content-type"] == "application/json"
    assert response.body == TypeAdapter(AskResponse).dump_json(model, by_alias=True)  # what FastAPI's response_model path sends
    assert AskResponse.model_validate_json(response.body) == model


def test_routes_still_declare_their_response_models(settings, answerer) -> None:
    paths = create_app(settings, answerer=answerer).openapi()["paths"]
    for path, method, model in (("/ask", "post", "AskResponse"), ("/search", "get", "SearchResponse")):
        assert paths[path][method]["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model}"}
        assert "description" not in paths[path][method]  # the routes' comments stay out of the API description


@pytest.mark.slow
def test_ask_and_search_over_uvloop_and_httptools(settings, answerer) -> None:
    with served(create_app(settings, answerer=answerer)) as url, httpx.Client(base_url=url, timeout=60) as client:
        ask = client.post("/ask", json={"question": "多哈会议有多少名政府代表参加？"})
        assert ask.status_code == 200 and ask.headers["content-type"] == "application/json"
        assert all(h in ask.headers for h in SECURITY_HEADERS) and "server" not in ask.headers
        body = AskResponse.model_validate_json(ask.content)
        assert not body.refused and body.citations and body.citations[0].reference
        search = client.get("/search", params={"q": "climate finance", "k": 3})
        assert search.status_code == 200 and len(SearchResponse.model_validate_json(search.content).hits) == 3
        assert all(h in search.headers for h in SECURITY_HEADERS)
        # errors keep their status and one readable sentence, raised inside the worker thread or before it
        unknown = client.post("/ask", json={"question": "Green Climate Fund", "doc": "A-nope"})
        assert unknown.status_code == 404 and unknown.json() == {"detail": "Unknown document 'A-nope'."}
        bad_k = client.get("/search", params={"q": "fund", "k": 0})
        assert bad_k.status_code == 422 and "between 1 and" in bad_k.json()["detail"]
        broken = client.post("/ask", content=b'{"question": "oops', headers={"content-type": "application/json"})
        assert broken.status_code == 400 and "not valid JSON" in broken.json()["detail"]
        assert all(h in broken.headers for h in SECURITY_HEADERS)
        # one kept-alive connection, one request after another
        answers = [client.post("/ask", json={"question": q}).json()["language"] for q in ("爱知目标11的进展", "What is the Green Climate Fund?")]
        assert answers == ["zh", "en"]
