"""GET /search: ranked hits, optionally filtered by document, symbol, language, session, date, body."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from api.deps import Answerer
from api.filtering import make_filter, unknown_document
from api.responses import json_response
from api.routes.ask import check_k, check_question
from api.schemas import MAX_K, MAX_QUESTION_CHARS, NOT_BLANK, Day, ErrorOut, FilterFields, HitOut, LanguageCode, SearchResponse
from rag.filters import SearchFilter
from rag.library import library_of
from rag.qa import QuestionAnswerer
from rag.retriever import RetrievalMode

router = APIRouter(tags=["search"])

__all__ = ["router", "search", "search_response"]


@router.get("/search", response_model=SearchResponse, responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}})
async def search(
    answerer: Answerer,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=NOT_BLANK, description="the question or keywords")],
    k: Annotated[int, Query(ge=1, le=MAX_K, description=f"number of hits, 1..{MAX_K}")] = 10,
    doc: Annotated[list[str] | None, Query(description="document id, or a document's symbol / key (all its versions); repeatable")] = None,
    symbol: Annotated[list[str] | None, Query(description="UN symbol; repeatable")] = None,
    lang: Annotated[list[LanguageCode] | None, Query(description="language version: zh, en; repeatable")] = None,
    session: Annotated[list[Annotated[int, Field(ge=1)]] | None, Query(description="session number (1 or more); repeatable")] = None,
    since: Annotated[Day | None, Query(description="dated on or after YYYY-MM-DD (or a year)")] = None,
    until: Annotated[Day | None, Query(description="dated on or before YYYY-MM-DD (or a year)")] = None,
    body: Annotated[list[str] | None, Query(description="issuing body; repeatable")] = None,
    mode: Annotated[RetrievalMode, Query(description="hybrid, dense or lexical")] = RetrievalMode.HYBRID,
) -> Response:
    # the checks on the event loop; the search and its JSON body in one thread-pool call
    check_question(q)
    check_k(k, q)
    where = make_filter(FilterFields(doc=doc, symbol=symbol, lang=lang, session=session, since=since, until=until, body=body), q)
    return await run_in_threadpool(lambda: json_response(search_response(answerer, q, k, mode, where, doc)))


def search_response(answerer: QuestionAnswerer, q: str, k: int, mode: RetrievalMode, where: SearchFilter, doc: list[str] | None) -> SearchResponse:
    """The response to one GET /search (blocking: the encoder and the search)."""
    retriever = answerer.retriever  # one snapshot: a reload during the request does not mix indexes
    try:
        result = retriever.search(q, k=k, mode=mode, where=where)
    except KeyError as error:
        raise unknown_document(q, error.args[0] if error.args else doc) from None
    library = library_of(retriever.index)
    hits = [
        HitOut(
            rank=h.rank, id=h.unit.id, doc=h.unit.doc, para=h.unit.para, sub=h.unit.sub,
            section=list(h.unit.section), text=h.unit.text, score=h.score, dense=h.dense, lexical=h.lexical,
            symbol=library.symbol(h.unit.doc), language=library.languages.get(h.unit.doc),
        )
        for h in result.hits
    ]
    return SearchResponse(
        query=q, language=result.language, mode=result.mode.value, hits=hits, timings_ms=result.timings_ms, filters=where.describe()
    )
