"""Optional generation through an OpenAI-compatible endpoint: parsing, citations, every fallback.

A scripted chat-completions server (FastAPI under uvicorn, in a thread, on a free local port)
plays the model; the ``model`` name of a request picks its reply. Parsing and client tests use
hand-made evidence units and need no embedding model; the end-to-end tests (marked slow) use
the real model and the seed index from ``conftest.py``.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from rag.answer import Answer
from rag.config import Settings
from rag.generation import (
    ChatGenerator,
    Evidence,
    Generated,
    GeneratorConfig,
    build_messages,
    generated_answer,
    make_generator,
    parse_reply,
)
from rag.units import Unit, UnitKind

API_KEY = "sk-test-secret-4f1c"
HANG_S = 3.0
TIMEOUT_S = 0.5

# --------------------------------------------------------------------------- the scripted endpoint


def _completion(content: object) -> dict[str, object]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
    }


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _question(body: dict) -> str:
    return body["messages"][-1]["content"].rsplit("Question:", 1)[-1]


def _scripted_app(log: list[dict]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Response:
        body = await request.json()
        log.append({"body": body, "authorization": request.headers.get("authorization")})
        model = body["model"]
        zh = _is_chinese(_question(body))
        if model == "good":
            text = "根据文件，答案如下[1]。另一段也有相关内容[2]。" if zh else "The documents answer this [1]. Another passage adds to it [2]."
            return JSONResponse(_completion(text))
        if model == "bad-cite":
            text = "答案在这里[1]。这句引用了不存在的证据[9]。" if zh else "The answer is here [1]. This sentence cites missing evidence [9]."
            return JSONResponse(_completion(text))
        if model == "uncited":
            return JSONResponse(_completion("No citation at all."))
        if model == "malformed":
            return PlainTextResponse('{"choices": [', media_type="application/json")
        if model == "http500":
            return JSONResponse({"error": "boom"}, status_code=500)
        if model == "no-choices":
            return JSONResponse({"choices": []})
        if model == "empty":
            return JSONResponse(_completion(""))
        if model == "null-content":
            return JSONResponse(_completion(None))
        if model == "auth":
            if request.headers.get("authorization") != f"Bearer {API_KEY}":
                return JSONResponse({"error": "unauthorized"}, status_code=401)
            return JSONResponse(_completion("Authorised [1]."))
        if model == "hang":
            await asyncio.sleep(HANG_S)
            return JSONResponse(_completion("Too late [1]."))
        return JSONResponse({"error": f"unknown model {model}"}, status_code=404)

    return app


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[str, list[dict]]]:
    """Base URL of the scripted server, and the log of the requests it received."""
    log: list[dict] = []
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(_scripted_app(log), log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the scripted endpoint did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/v1", log
    server.should_exit = True
    thread.join(timeout=5)
    sock.close()


def _generator(base_url: str, model: str, *, api_key: str | None = None) -> ChatGenerator:
    return ChatGenerator(GeneratorConfig(base_url=base_url, model=model, api_key=api_key, timeout_s=TIMEOUT_S))


def _closed_port_url() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


# --------------------------------------------------------------------------- hand-made evidence


def _unit(para: int, sub: str | None = None, text: str = "text") -> Unit:
    kind = UnitKind.SUB if sub else UnitKind.PARAGRAPH
    unit_id = f"doc/{para}" + (f"/{sub.replace(' ', '-')}" if sub else "")
    return Unit(id=unit_id, doc="doc", kind=kind, para=para, sub=sub, section=("一. 导言",), text=text, start=0, end=len(text))


UNITS = (
    _unit(26, text="约有4 300名政府代表参加了会议。"),
    _unit(85, "target 11", text="保护区的扩大表明保护17%陆地的目标可以实现。"),
    _unit(3, "a", text="The Conference adopted the Doha amendment."),
)


def _evidence(language: str, symbol: str | None = None) -> list[Evidence]:
    return [Evidence(i, unit, symbol, language) for i, unit in enumerate(UNITS, start=1)]


def _extractive(language: str = "zh") -> Answer:
    first = _evidence(language)[0].citation(((0, 10),))
    return Answer("问题？", language, "约有4 300名政府代表参加了会议。（第26段）", False, (first,), (), 0.93, False)


# --------------------------------------------------------------------------- parsing and rewriting (no model)


def test_chinese_citations_are_rewritten_in_product_style() -> None:
    generated = parse_reply("约有4 300名代表参加[1]。保护区目标可以实现[2]。大会通过了修正[3]。", _evidence("zh"), "zh")
    assert generated.text == "约有4 300名代表参加。（第26段）保护区目标可以实现。（第85段，目标11）大会通过了修正。（第3(a)段）"
    assert [e.number for e in generated.cited] == [1, 2, 3]
    assert generated.notes == ()


def test_english_citations_are_rewritten_in_product_style() -> None:
    reply = "About 4,300 attended [1]. Target 11 can be met.[2] The amendment was adopted. [3]"
    generated = parse_reply(reply, _evidence("en"), "en")
    assert generated.text == "About 4,300 attended. (para. 26) Target 11 can be met. (para. 85, target 11) The amendment was adopted. (para. 3 (a))"
    assert generated.notes == ()


def test_symbol_is_part_of_the_reference_when_known() -> None:
    generated = parse_reply("Attended [1].", _evidence("en", symbol="A/68/1"), "en")
    assert generated.text == "Attended. (A/68/1, para. 26)"


def test_grouped_and_full_width_markers_and_repeats() -> None:
    generated = parse_reply("两段都提到[1, 2]。再次提到［1］【2】。", _evidence("zh"), "zh")
    assert generated.text == "两段都提到。（第26段）（第85段，目标11）再次提到。（第26段）（第85段，目标11）"
    assert [e.number for e in generated.cited] == [1, 2]


def test_citation_outside_the_evidence_is_dropped_and_flagged() -> None:
    generated = parse_reply("Attended [1]. Invented [7]. Mixed [2][9].", _evidence("en"), "en")
    assert "[7]" not in generated.text and "[9]" not in generated.text and "[" not in generated.text
    assert generated.text == "Attended. (para. 26) Invented. Mixed. (para. 85, target 11)"
    assert "dropped citation [7]: not in the evidence" in generated.notes
    assert "dropped citation [9]: not in the evidence" in generated.notes
    assert any("without a valid citation" in n and "Invented." in n for n in generated.notes)
    assert [e.number for e in generated.cited] == [1, 2]


def test_uncited_sentences_are_flagged_and_kept() -> None:
    generated = parse_reply("Cited [1].\nNot cited here.", _evidence("en"), "en")
    assert generated.text == "Cited. (para. 26)\nNot cited here."
    assert generated.notes == ("sentence without a valid citation: “Not cited here.”",)


def test_abbreviations_and_decimals_do_not_split_sentences() -> None:
    generated = parse_reply("See para. 85 of the report, e.g. the 17.5 per cent figure [2].", _evidence("en"), "en")
    assert generated.notes == ()
    assert generated.text.endswith("figure. (para. 85, target 11)")


def test_reasoning_blocks_are_removed() -> None:
    generated = parse_reply("<think>maybe [8]</think>Attended [1].", _evidence("en"), "en")
    assert generated.text == "Attended. (para. 26)" and generated.notes == ()


def test_prompt_numbers_the_evidence_and_asks_for_the_question_language() -> None:
    messages = build_messages("多哈会议有多少名政府代表参加？", _evidence("zh"), "zh")
    system, user = messages[0]["content"], messages[1]["content"]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "Chinese" in system and "[n]" in system and "numbers" in system
    for item in _evidence("zh"):
        assert f"[{item.number}] {item.reference}: {item.unit.text}" in user
    assert user.rstrip().endswith("Question: 多哈会议有多少名政府代表参加？")


def test_generated_answer_keeps_only_cited_units_and_extractive_spans() -> None:
    evidence = _evidence("zh")
    extractive = _extractive("zh")
    generated = Generated("文本。（第85段，目标11）文本。（第26段）", (evidence[1], evidence[0]), ("a note",), model="m")
    answer = generated_answer(extractive, generated)
    assert [c.id for c in answer.citations] == [UNITS[1].id, UNITS[0].id]
    assert answer.citations[0].spans == () and answer.citations[1].spans == ((0, 10),)
    assert answer.citations[0].reference == "第85段，目标11"
    assert answer.notes == ("generated by m", "a note")
    assert answer.answer == generated.text and not answer.refused and answer.see_also == ()


def test_other_language_evidence_is_noted() -> None:
    evidence = _evidence("zh")
    answer = generated_answer(_extractive("zh"), Generated("通过了。（第3(a)段）", (evidence[2],), (), model="m"))
    assert answer.notes[0] == "generated by m" and "another language" in answer.notes[1]


# --------------------------------------------------------------------------- the client against the scripted endpoint (no model)


def test_client_sends_the_chat_completions_request(endpoint: tuple[str, list[dict]]) -> None:
    base_url, log = endpoint
    generated, warning = _generator(base_url, "good", api_key=API_KEY).generate("多哈会议有多少名政府代表参加？", _evidence("zh"), "zh")
    assert warning is None and generated is not None
    assert generated.model == "good"
    assert generated.text == "根据文件，答案如下。（第26段）另一段也有相关内容。（第85段，目标11）"
    request = log[-1]
    assert request["body"]["model"] == "good" and request["body"]["temperature"] == 0
    assert request["authorization"] == f"Bearer {API_KEY}"
    assert "[3] 第3(a)段: The Conference adopted" in request["body"]["messages"][-1]["content"]


def test_no_authorization_header_without_a_key(endpoint: tuple[str, list[dict]]) -> None:
    base_url, log = endpoint
    _generator(base_url + "/", "good").generate("Who attended?", _evidence("en"), "en")
    assert log[-1]["authorization"] is None


def test_api_key_is_sent_and_never_shown(endpoint: tuple[str, list[dict]]) -> None:
    base_url, _ = endpoint
    generated, warning = _generator(base_url, "auth", api_key=API_KEY).generate("Who?", _evidence("en"), "en")
    assert warning is None and generated is not None and generated.text == "Authorised. (para. 26)"
    generated, warning = _generator(base_url, "auth", api_key="wrong-key").generate("Who?", _evidence("en"), "en")
    assert generated is None and warning is not None and "HTTP 401" in warning and "wrong-key" not in warning
    config = GeneratorConfig(base_url=base_url, model="auth", api_key=API_KEY)
    assert API_KEY not in repr(config) and API_KEY not in repr(ChatGenerator(config))


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        ("malformed", "not valid JSON"),
        ("http500", "HTTP 500"),
        ("no-choices", "choices[0].message.content"),
        ("empty", "empty"),
        ("null-content", "empty"),
        ("uncited", "cited none of the evidence"),
        ("hang", f"no reply within {TIMEOUT_S:g} s"),
        ("unknown-model", "HTTP 404"),
    ],
)
def test_every_endpoint_error_gives_a_warning(endpoint: tuple[str, list[dict]], model: str, reason: str) -> None:
    base_url, _ = endpoint
    started = time.perf_counter()
    generated, warning = _generator(base_url, model).generate("Who attended?", _evidence("en"), "en")
    assert generated is None
    assert warning is not None and reason in warning and warning.startswith("generation failed:")
    assert time.perf_counter() - started < HANG_S  # the timeout, not the server, ended the wait


def test_connection_refused_and_bad_url_give_a_warning() -> None:
    generated, warning = _generator(_closed_port_url(), "good").generate("Who?", _evidence("en"), "en")
    assert generated is None and warning is not None and "cannot connect" in warning
    generated, warning = _generator("not a url", "good").generate("Who?", _evidence("en"), "en")
    assert generated is None and warning is not None and "request failed" in warning


# --------------------------------------------------------------------------- settings


def test_generation_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENABLED", "BASE_URL", "MODEL", "API_KEY", "TIMEOUT_S"):
        monkeypatch.delenv(f"RAG_GENERATION_{name}", raising=False)
    settings = Settings(_env_file=None)
    assert settings.generation.enabled is False and settings.generator_config is None
    assert make_generator(settings.generator_config) is None


def test_generation_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_GENERATION_ENABLED", "true")
    monkeypatch.setenv("RAG_GENERATION_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("RAG_GENERATION_MODEL", "qwen")
    monkeypatch.setenv("RAG_GENERATION_API_KEY", API_KEY)
    monkeypatch.setenv("RAG_GENERATION_TIMEOUT_S", "3.5")
    settings = Settings(_env_file=None)
    config = settings.generator_config
    assert config == GeneratorConfig("http://127.0.0.1:9/v1", "qwen", API_KEY, 3.5)
    assert config.url == "http://127.0.0.1:9/v1/chat/completions"
    assert API_KEY not in repr(settings) and API_KEY not in repr(config) and API_KEY not in str(settings)
    assert isinstance(make_generator(config), ChatGenerator)


def test_enabled_but_incomplete_settings_disable_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BASE_URL", "MODEL"):
        monkeypatch.delenv(f"RAG_GENERATION_{name}", raising=False)
    assert Settings(_env_file=None, generation={"enabled": True, "model": "m"}).generator_config is None
    assert Settings(_env_file=None, generation={"enabled": True, "base_url": "http://x/v1"}).generator_config is None


# --------------------------------------------------------------------------- end to end: real model and seed index

ZH_QUESTION = "多哈会议有多少名政府代表参加？"
ZH_STYLE = re.compile(r"（(?:[^（）]+，)?第\d+(?:\([a-z]+\))?段(?:，目标\d+)?）")


def _answerer(retriever, settings: Settings, generator):
    from rag.qa import QuestionAnswerer

    return QuestionAnswerer(retriever, settings.answer_params, generator)


@pytest.mark.slow
def test_generated_answer_cites_only_retrieved_evidence_in_product_style(endpoint, retriever, settings, answerer) -> None:
    base_url, _ = endpoint
    extractive = answerer.ask(ZH_QUESTION).answer
    assert not extractive.refused
    result = _answerer(retriever, settings, _generator(base_url, "good")).ask(ZH_QUESTION)
    answer = result.answer
    assert answer.notes[0] == "generated by good" and not answer.refused
    assert answer.answer.startswith("根据文件，答案如下。（") and "[" not in answer.answer
    evidence_ids = [h.unit.id for h in result.search.hits[: settings.answer_params.hits_considered]]
    assert [c.id for c in answer.citations] == evidence_ids[:2]
    assert {c.id for c in answer.citations} <= {h.unit.id for h in result.search.hits}
    for citation in answer.citations:
        assert f"（{citation.reference}）" in answer.answer and ZH_STYLE.fullmatch(f"（{citation.reference}）")
    quoted = {c.id: c for c in extractive.citations}
    for citation in answer.citations:
        assert citation.spans == (quoted[citation.id].spans if citation.id in quoted else ())
    assert set(result.timings_ms) >= {"compose", "generate", "total"}


@pytest.mark.slow
def test_invalid_citation_is_dropped_and_flagged_end_to_end(endpoint, retriever, settings) -> None:
    base_url, _ = endpoint
    result = _answerer(retriever, settings, _generator(base_url, "bad-cite")).ask(ZH_QUESTION)
    answer = result.answer
    assert answer.notes[0] == "generated by bad-cite"
    assert "dropped citation [9]: not in the evidence" in answer.notes
    assert any("without a valid citation" in n for n in answer.notes)
    assert "[9]" not in answer.answer and "9]" not in answer.answer
    assert [c.id for c in answer.citations] == [result.search.hits[0].unit.id]


@pytest.mark.slow
@pytest.mark.parametrize("model", ["malformed", "http500", "hang", "empty", "no-choices", "uncited", "refused"])
def test_every_error_falls_back_to_the_extractive_answer(endpoint, retriever, settings, answerer, model: str) -> None:
    base_url, _ = endpoint
    generator = _generator(_closed_port_url(), "good") if model == "refused" else _generator(base_url, model)
    extractive = answerer.ask(ZH_QUESTION).answer
    answer = _answerer(retriever, settings, generator).ask(ZH_QUESTION).answer
    assert answer.notes[:-1] == extractive.notes
    assert answer.notes[-1].startswith("generation failed:") and answer.notes[-1].endswith("showing the extractive answer")
    assert replace(answer, notes=extractive.notes) == extractive


@pytest.mark.slow
def test_refused_answers_are_not_sent_to_the_model(endpoint, retriever, settings, answerer) -> None:
    base_url, log = endpoint
    question = "火星上的天气怎么样？"
    extractive = answerer.ask(question).answer
    assert extractive.refused
    before = len(log)
    result = _answerer(retriever, settings, _generator(base_url, "good")).ask(question)
    assert result.answer == extractive and len(log) == before
    assert "generate" in result.timings_ms


@pytest.mark.slow
def test_generation_disabled_by_default_gives_exactly_the_extractive_answer(retriever, settings, answerer, monkeypatch) -> None:
    from rag.answer import compose_answer

    for name in ("ENABLED", "BASE_URL", "MODEL"):
        monkeypatch.delenv(f"RAG_GENERATION_{name}", raising=False)
    default = Settings(_env_file=None)
    assert default.generator_config is None
    plain = _answerer(retriever, settings, make_generator(default.generator_config))
    for question in [ZH_QUESTION, "保护区的扩大表明保护多少陆地的目标可以实现？", "What did the Secretary-General urge regarding drought?"]:
        result = plain.ask(question)
        assert result.answer == answerer.ask(question).answer
        search = retriever.search(question, k=5)
        assert result.answer == compose_answer(question, search, retriever.index, search.query_vector, settings.answer_params, plain.judge, plain.sentence_focus(question))
        assert "generate" not in result.timings_ms
