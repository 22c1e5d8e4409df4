"""POST /ask: a cited answer."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import Answerer
from api.errors import ApiError, localized
from api.filtering import make_filter, unknown_document
from api.responses import json_response
from api.schemas import MAX_K, MAX_QUESTION_CHARS, AskRequest, AskResponse, CitationOut, ErrorOut, SegmentOut
from rag.citation import Citation
from rag.qa import QuestionAnswerer

router = APIRouter(tags=["answers"])

__all__ = ["answer_response", "ask", "check_k", "check_question", "router"]


def citation_out(citation: Citation) -> CitationOut:
    return CitationOut.model_validate(citation.to_record())


def check_question(question: str) -> None:
    if not question.strip():
        raise ApiError(422, localized(question, "The question is empty.", "问题为空。"))
    if len(question) > MAX_QUESTION_CHARS:
        raise ApiError(
            422,
            localized(
                question,
                f"The question is too long ({len(question)} characters; at most {MAX_QUESTION_CHARS}).",
                f"问题过长（{len(question)} 个字符；最多 {MAX_QUESTION_CHARS} 个）。",
            ),
        )


def check_k(k: int, question: str | None) -> None:
    if not 1 <= k <= MAX_K:
        raise ApiError(422, localized(question, f"k must be between 1 and {MAX_K}.", f"k 必须在 1 到 {MAX_K} 之间。"))


@router.post("/ask", response_model=AskResponse, responses={400: {"model": ErrorOut}, 404: {"model": ErrorOut}, 415: {"model": ErrorOut}, 422: {"model": ErrorOut}})
async def ask(request: AskRequest, answerer: Answerer) -> Response:
    # one thread-pool call makes the answer and its JSON body (a def route costs a second round
    # trip for FastAPI's re-validation); concurrent questions meet in the BatchingEncoder
    return await run_in_threadpool(lambda: json_response(answer_response(request, answerer)))


def answer_response(request: AskRequest, answerer: QuestionAnswerer) -> AskResponse:
    """The response to one POST /ask (blocking: the encoder and the whole query path)."""
    check_question(request.question)
    check_k(request.k, request.question)
    where = make_filter(request, request.question)
    try:
        result = answerer.ask(request.question, k=request.k, where=where)
    except KeyError as error:
        raise unknown_document(request.question, error.args[0] if error.args else request.doc) from None
    answer = result.answer
    return AskResponse(
        answer=answer.answer,
        segments=[SegmentOut.model_validate(s.to_record()) for s in answer.segments],
        kind=answer.kind.value,
        language=answer.language,
        refused=answer.refused,
        confidence=answer.confidence,
        cross_lingual=answer.cross_lingual,
        citations=[citation_out(c) for c in answer.citations],
        see_also=[citation_out(c) for c in answer.see_also],
        notes=list(answer.notes),
        timings_ms=result.timings_ms,
    )
