"""GET /search: ranked hits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Answerer
from api.errors import ApiError, localized
from api.routes.ask import check_k, check_question
from api.schemas import MAX_DOC_ID_CHARS, MAX_K, MAX_QUESTION_CHARS, NOT_BLANK, ErrorOut, HitOut, SearchResponse
from rag.retriever import RetrievalMode

router = APIRouter(tags=["search"])


@router.get("/search", response_model=SearchResponse, responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}})
def search(
    answerer: Answerer,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=NOT_BLANK, description="the question or keywords")],
    k: Annotated[int, Query(ge=1, le=MAX_K, description=f"number of hits, 1..{MAX_K}")] = 10,
    doc: Annotated[str | None, Query(min_length=1, max_length=MAX_DOC_ID_CHARS, description="restrict to one document id")] = None,
    mode: Annotated[RetrievalMode, Query(description="hybrid, dense or lexical")] = RetrievalMode.HYBRID,
) -> SearchResponse:
    check_question(q)
    check_k(k, q)
    try:
        result = answerer.retriever.search(q, k=k, doc=doc, mode=mode)
    except KeyError:
        raise ApiError(404, localized(q, f"Unknown document '{doc}'.", f"未知文件“{doc}”。")) from None
    hits = [
        HitOut(
            rank=h.rank, id=h.unit.id, doc=h.unit.doc, para=h.unit.para, sub=h.unit.sub, section=list(h.unit.section),
            text=h.unit.text, score=h.score, dense=h.dense, lexical=h.lexical,
        )
        for h in result.hits
    ]
    return SearchResponse(query=q, language=result.language, mode=result.mode.value, hits=hits, timings_ms=result.timings_ms)
